// The evaluator: terms, navigation and operators. Functions live in functions_*.cpp.
#include "fhir/fhirpath/eval.hpp"

#include <cctype>
#include <limits>

#include "fhir/fhirpath/arithmetic.hpp"
#include "fhir/fhirpath/functions.hpp"
#include "fhir/model/model.hpp"

namespace helsebro::fhir::fhirpath::detail {

void fail(const AstNode& at, std::string message) { throw EvalError{std::move(message), &at}; }

Evaluator::Evaluator(const Environment& env, const Collection& context, const json::Value* resource,
                     const json::Value* root_resource)
    : env_(env), context_(context), resource_(resource), root_resource_(root_resource) {}

const Temporal& Evaluator::now() {
    if (!now_) {
        const auto t = env_.clock ? env_.clock() : std::chrono::system_clock::now();
        now_ = Temporal::from_time_point(t, env_.clock_offset_minutes);
    }
    return *now_;
}

void Evaluator::count(const AstNode& at, std::size_t n) {
    produced_ += n;
    if (produced_ > env_.max_items) fail(at, "The evaluation produced more items than allowed.");
}

const json::Value& Evaluator::keep(json::Value v) {
    if (!storage_) storage_ = std::make_shared<std::deque<json::Value>>();
    return storage_->emplace_back(std::move(v));
}

Collection Evaluator::arg_for(const AstNode& call, std::size_t i, const Item& item, std::int64_t index, Frame& outer) {
    Collection self{item};
    Frame frame{&self, index, outer.total};
    return eval(*call.args[i], self, frame);
}

Collection Evaluator::eval(const AstNode& node, const Collection& input, Frame& frame) {
    switch (node.op) {
        case Op::literal: return Collection{*node.literal};
        case Op::bad_literal: fail(node, node.name);
        case Op::empty: return {};
        case Op::this_: return *frame.this_items;
        case Op::index:
            if (frame.index < 0) return {};
            return Collection{Item(frame.index)};
        case Op::total: return frame.total ? *frame.total : Collection{};
        case Op::variable: return variable(node);
        case Op::member: return member(node, input);
        case Op::function: return node.function->call(*this, node, input, frame);
        case Op::invoke: {
            Collection left = eval(*node.args[0], input, frame);
            return eval(*node.args[1], left, frame);
        }
        case Op::indexer: {
            Collection left = eval(*node.args[0], input, frame);
            auto index = single_integer(node, eval(*node.args[1], *frame.this_items, frame), "An index");
            if (!index || *index < 0 || static_cast<std::size_t>(*index) >= left.size()) return {};
            return Collection{left[static_cast<std::size_t>(*index)]};
        }
        default: return binary(node, input, frame);
    }
}

Collection Evaluator::variable(const AstNode& node) {
    const std::string& name = node.name;
    for (const auto& [key, value] : env_.variables)
        if (key == name) return value;
    if (name == "context") return context_;
    if (name == "resource") return resource_ ? Collection{Item::resource(*resource_)} : Collection{};
    if (name == "rootResource") return root_resource_ ? Collection{Item::resource(*root_resource_)} : Collection{};
    if (name == "ucum") return {Item(std::string("http://unitsofmeasure.org"))};
    if (name == "sct") return {Item(std::string("http://snomed.info/sct"))};
    if (name == "loinc") return {Item(std::string("http://loinc.org"))};
    if (name.starts_with("vs-")) return {Item("http://hl7.org/fhir/ValueSet/" + name.substr(3))};
    if (name.starts_with("ext-")) return {Item("http://hl7.org/fhir/StructureDefinition/" + name.substr(4))};
    fail(node, "The variable %" + name + " is not defined.");
}

Collection Evaluator::member(const AstNode& node, const Collection& input) {
    Collection out;
    const bool type_like = node.starts_path && !node.name.empty() && std::isupper(static_cast<unsigned char>(node.name[0]));
    for (const Item& item : input) {
        const Node* n = item.node();
        if (!n) continue;
        // At the start of a path a type name selects the input of that type: Patient.name.
        if (type_like && derives_from(n->type, node.name)) {
            out.push_back(item);
            continue;
        }
        children_named(*n, node.name, out);
    }
    return out;
}

namespace {

bool is_boolean_op(Op op) { return op == Op::and_ || op == Op::or_ || op == Op::xor_ || op == Op::implies; }

std::optional<bool> logic(Op op, std::optional<bool> a, std::optional<bool> b) {
    switch (op) {
        case Op::and_:
            if (a == false || b == false) return false;
            if (a && b) return true;
            return std::nullopt;
        case Op::or_:
            if (a == true || b == true) return true;
            if (a && b) return false;
            return std::nullopt;
        case Op::xor_:
            if (!a || !b) return std::nullopt;
            return *a != *b;
        default:  // implies
            if (a == false) return true;
            if (a == true) return b;
            if (b == true) return true;
            return std::nullopt;
    }
}

Collection boolean(std::optional<bool> b) { return b ? Collection{Item(*b)} : Collection{}; }

}  // namespace

Collection Evaluator::binary(const AstNode& node, const Collection& input, Frame& frame) {
    const Op op = node.op;
    if (op == Op::is || op == Op::as) {
        Collection left = eval(*node.args[0], input, frame);
        const Item* item = single(node, left, op == Op::is ? "The left side of 'is'" : "The left side of 'as'");
        if (!item) return {};
        if (!type_exists(node.type)) fail(node, "Unknown type " + node.type.text() + ".");
        const bool match = op == Op::is ? is_type(*item, node.type) : is_cast_type(*item, node.type);
        if (op == Op::is) return Collection{Item(match)};
        return match ? Collection{*item} : Collection{};
    }
    if (is_boolean_op(op)) {
        auto a = to_boolean(node, eval(*node.args[0], input, frame));
        // Short-circuit where the right side cannot change the answer.
        if ((op == Op::and_ && a == false) || (op == Op::or_ && a == true) || (op == Op::implies && a == false))
            return boolean(op == Op::or_ || op == Op::implies);
        auto b = to_boolean(node, eval(*node.args[1], input, frame));
        return boolean(logic(op, a, b));
    }
    Collection left = eval(*node.args[0], input, frame);
    if (op == Op::negate || op == Op::plus_sign) return unary_arithmetic(node, left);
    Collection right = eval(*node.args[1], input, frame);
    switch (op) {
        case Op::union_: {
            left.insert(left.end(), right.begin(), right.end());
            return distinct(left);
        }
        case Op::equal:
        case Op::not_equal: {
            if (left.empty() || right.empty()) return {};
            auto eq = collections_equal(left, right);
            if (!eq) return {};
            return Collection{Item(op == Op::equal ? *eq : !*eq)};
        }
        case Op::equivalent: return Collection{Item(collections_equivalent(left, right))};
        case Op::not_equivalent: return Collection{Item(!collections_equivalent(left, right))};
        case Op::less: case Op::greater: case Op::less_equal: case Op::greater_equal: {
            const Item* a = single(node, left, "The left side of a comparison");
            const Item* b = single(node, right, "The right side of a comparison");
            if (!a || !b) return {};
            auto c = items_compare(node, *a, *b);
            if (!c) return {};
            const bool r = op == Op::less ? *c < 0 : op == Op::greater ? *c > 0 : op == Op::less_equal ? *c <= 0 : *c >= 0;
            return Collection{Item(r)};
        }
        case Op::in:
        case Op::contains: {
            const Collection& element = op == Op::in ? left : right;
            const Collection& container = op == Op::in ? right : left;
            const Item* item = single(node, element, "The item tested for membership");
            if (!item) return {};
            return Collection{Item(collection_contains(container, *item))};
        }
        default: return binary_arithmetic(node, left, right);
    }
}

// ---- helpers shared with the functions ----

std::optional<bool> to_boolean(const AstNode& at, const Collection& c) {
    if (c.empty()) return std::nullopt;
    if (c.size() > 1) fail(at, "Expected a single Boolean but got a collection of several items.");
    auto v = c[0].system_value();
    if (v)
        if (const bool* b = std::get_if<bool>(&v->value())) return *b;
    return true;
}

const Item* single(const AstNode& at, const Collection& c, const char* what) {
    if (c.empty()) return nullptr;
    if (c.size() > 1) fail(at, std::string(what) + " must be a single item, not a collection of " + std::to_string(c.size()) + ".");
    return &c[0];
}

std::optional<Item> single_value(const AstNode& at, const Collection& c, const char* what) {
    const Item* item = single(at, c, what);
    if (!item) return std::nullopt;
    auto v = item->system_value();
    if (!v) fail(at, std::string(what) + " must be a primitive value.");
    return v;
}

std::optional<std::string> single_string(const AstNode& at, const Collection& c, const char* what) {
    const Item* item = single(at, c, what);
    if (!item) return std::nullopt;
    if (auto s = string_of(*item)) return std::string(*s);
    fail(at, std::string(what) + " must be a String.");
}

std::optional<std::int64_t> single_integer(const AstNode& at, const Collection& c, const char* what) {
    auto v = single_value(at, c, what);
    if (!v) return std::nullopt;
    if (const auto* i = std::get_if<std::int64_t>(&v->value())) return *i;
    fail(at, std::string(what) + " must be an Integer.");
}

}  // namespace helsebro::fhir::fhirpath::detail
