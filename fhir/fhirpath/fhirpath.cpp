// compile() and Expression::evaluate(): the public face of fhir/fhirpath/.
#include "fhir/fhirpath.hpp"

#include "fhir/fhirpath/ast.hpp"
#include "fhir/fhirpath/check.hpp"
#include "fhir/fhirpath/eval.hpp"
#include "fhir/fhirpath/functions.hpp"

namespace helsebro::fhir::fhirpath {

struct Expression::Impl {
    std::string text;
    std::string context_type;
    std::vector<std::string> result_types;
    std::unique_ptr<detail::AstNode> root;
};

namespace {

// Patterns written as literals are compiled once, and a bad one is found before any evaluation.
std::optional<Error> prepare(detail::AstNode& node) {
    using detail::Op;
    if (node.op == Op::function && (node.name == "matches" || node.name == "matchesFull" || node.name == "replaceMatches") &&
        node.args[0]->op == Op::literal) {
        const auto* pattern = std::get_if<std::string>(&node.args[0]->literal->value());
        if (pattern) {
            node.regex = detail::compile_regex(*pattern);
            if (!node.regex)
                return Error{Error::Kind::semantic, node.line, node.column, "The regular expression is invalid."};
        }
    }
    for (auto& arg : node.args)
        if (auto e = prepare(*arg)) return e;
    return std::nullopt;
}

Result run(const Expression::Impl& impl, const Collection& context, const Environment& env,
           const json::Value* resource) {
    const json::Value* res = env.resource ? env.resource : resource;
    const json::Value* root = env.root_resource ? env.root_resource : res;
    detail::Evaluator ev(env, context, res, root);
    detail::Frame frame{&context, -1, nullptr};
    Result result;
    try {
        result.items = ev.eval(*impl.root, context, frame);
        result.storage = ev.storage();
    } catch (const detail::EvalError& e) {
        result.error = Error{Error::Kind::execution, e.at ? e.at->line : 0, e.at ? e.at->column : 0, e.message};
    }
    return result;
}

}  // namespace

Compiled compile(std::string_view text, const CompileOptions& options) {
    Compiled out;
    if (text.size() > options.max_length) {
        out.error = Error{Error::Kind::syntax, 0, 0, "The expression is longer than allowed."};
        return out;
    }
    auto parsed = detail::parse(text, options.max_depth);
    if (!parsed.root) {
        out.error = parsed.error;
        return out;
    }
    if (auto e = prepare(*parsed.root)) {
        out.error = *e;
        return out;
    }
    auto impl = std::make_shared<Expression::Impl>();
    if (auto e = detail::check(*parsed.root, options, impl->result_types)) {
        out.error = *e;
        return out;
    }
    impl->text = std::string(text);
    impl->context_type = std::string(options.context_type);
    impl->root = std::move(parsed.root);
    out.expression.emplace(std::move(impl));
    return out;
}

Result Expression::evaluate(const json::Value& resource, const Environment& env) const {
    const Collection context{Item::resource(resource)};
    return run(*impl_, context, env, &resource);
}

Result Expression::evaluate(const Item& context, const Environment& env) const {
    const Node* n = context.node();
    const json::Value* resource = n && n->value && n->value->find("resourceType") ? n->value : nullptr;
    return run(*impl_, Collection{context}, env, resource);
}

const std::string& Expression::text() const { return impl_->text; }
std::string_view Expression::context_type() const { return impl_->context_type; }
const std::vector<std::string>& Expression::result_types() const { return impl_->result_types; }

}  // namespace helsebro::fhir::fhirpath
