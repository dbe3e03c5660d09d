// Precedence climbing over the FHIRPath grammar (lowest first): implies; or xor; and; in contains;
// = ~ != !~; < > <= >=; |; is as; + - &; * / div mod; unary + -; . and [] postfix; terms.
#include <charconv>

#include "fhir/fhirpath/ast.hpp"
#include "fhir/fhirpath/functions.hpp"
#include "fhir/fhirpath/lexer.hpp"

namespace helsebro::fhir::fhirpath::detail {
namespace {

struct SyntaxError {
    Error error;
};

bool is_calendar_word(std::string_view w) {
    static constexpr std::string_view words[] = {
        "year", "years", "month", "months", "week", "weeks", "day", "days", "hour", "hours",
        "minute", "minutes", "second", "seconds", "millisecond", "milliseconds"};
    for (auto x : words)
        if (x == w) return true;
    return false;
}

struct Level {
    std::initializer_list<std::pair<std::string_view, Op>> ops;
};

class Parser {
public:
    Parser(std::vector<Token> tokens, std::size_t max_depth) : t_(std::move(tokens)), max_depth_(max_depth) {}

    std::unique_ptr<AstNode> run() {
        auto root = expression(0);
        if (cur().kind != Tok::end) fail(cur(), "Expected an operator or the end of the expression.");
        return root;
    }

private:
    std::vector<Token> t_;
    std::size_t pos_ = 0;
    std::size_t depth_ = 0;
    std::size_t max_depth_;

    const Token& cur() const { return t_[pos_]; }
    const Token& ahead(std::size_t n) const { return t_[std::min(pos_ + n, t_.size() - 1)]; }
    bool is_symbol(std::string_view s) const { return cur().kind == Tok::symbol && cur().text == s; }
    bool is_word(std::string_view w) const { return cur().kind == Tok::identifier && cur().text == w; }

    [[noreturn]] static void fail(const Token& at, std::string message, Error::Kind kind = Error::Kind::syntax) {
        if (at.kind == Tok::error) message = at.text;
        throw SyntaxError{Error{kind, at.line, at.column, std::move(message)}};
    }
    void expect(std::string_view symbol, const char* message) {
        if (!is_symbol(symbol)) fail(cur(), message);
        ++pos_;
    }
    static std::unique_ptr<AstNode> node(Op op, const Token& at) {
        auto n = std::make_unique<AstNode>();
        n->op = op;
        n->line = at.line;
        n->column = at.column;
        return n;
    }
    static std::unique_ptr<AstNode> binary(Op op, const Token& at, std::unique_ptr<AstNode> l, std::unique_ptr<AstNode> r) {
        auto n = node(op, at);
        n->args.push_back(std::move(l));
        n->args.push_back(std::move(r));
        return n;
    }

    struct DepthGuard {
        Parser& p;
        explicit DepthGuard(Parser& parser) : p(parser) {
            if (++p.depth_ > p.max_depth_) fail(p.cur(), "The expression is nested too deeply.");
        }
        ~DepthGuard() { --p.depth_; }
    };

    // The binary operator at the current token for precedence level `level`, if any.
    std::optional<Op> binary_op(int level) const {
        static const std::vector<std::vector<std::pair<std::string_view, Op>>> levels = {
            {{"implies", Op::implies}},
            {{"or", Op::or_}, {"xor", Op::xor_}},
            {{"and", Op::and_}},
            {{"in", Op::in}, {"contains", Op::contains}},
            {{"=", Op::equal}, {"~", Op::equivalent}, {"!=", Op::not_equal}, {"!~", Op::not_equivalent}},
            {{"<", Op::less}, {">", Op::greater}, {"<=", Op::less_equal}, {">=", Op::greater_equal}},
            {{"|", Op::union_}},
            {{"is", Op::is}, {"as", Op::as}},
            {{"+", Op::add}, {"-", Op::subtract}, {"&", Op::concatenate}},
            {{"*", Op::multiply}, {"/", Op::divide}, {"div", Op::div}, {"mod", Op::mod}},
        };
        const Token& t = cur();
        if (t.kind != Tok::symbol && t.kind != Tok::identifier) return std::nullopt;
        for (const auto& [text, op] : levels[static_cast<std::size_t>(level)])
            if (t.text == text) return op;
        return std::nullopt;
    }
    static constexpr int unary_level = 10;

    std::unique_ptr<AstNode> expression(int level) {
        DepthGuard guard(*this);
        if (level == unary_level) return unary();
        auto left = expression(level + 1);
        while (auto op = binary_op(level)) {
            const Token at = cur();
            ++pos_;
            if (*op == Op::is || *op == Op::as) {
                auto n = node(*op, at);
                n->args.push_back(std::move(left));
                n->type = type_specifier();
                left = std::move(n);
                continue;
            }
            if (cur().kind == Tok::end) fail(cur(), "Expected an expression after '" + at.text + "'.");
            left = binary(*op, at, std::move(left), expression(level + 1));
        }
        return left;
    }

    std::unique_ptr<AstNode> unary() {
        if (is_symbol("+") || is_symbol("-")) {
            const Token at = cur();
            ++pos_;
            DepthGuard guard(*this);
            auto n = node(at.text == "-" ? Op::negate : Op::plus_sign, at);
            n->args.push_back(unary());
            return n;
        }
        return postfix();
    }

    std::unique_ptr<AstNode> postfix() {
        auto left = term();
        for (;;) {
            if (is_symbol(".")) {
                const Token at = cur();
                ++pos_;
                left = binary(Op::invoke, at, std::move(left), invocation());
            } else if (is_symbol("[")) {
                const Token at = cur();
                ++pos_;
                auto index = expression(0);
                expect("]", "Expected ']' after the index.");
                left = binary(Op::indexer, at, std::move(left), std::move(index));
            } else {
                return left;
            }
        }
    }

    TypeSpec type_specifier() {
        TypeSpec spec;
        spec.name = identifier("Expected a type name.");
        if (is_symbol(".") && (ahead(1).kind == Tok::identifier || ahead(1).kind == Tok::delimited_identifier)) {
            ++pos_;
            spec.ns = std::move(spec.name);
            spec.name = identifier("Expected a type name after the namespace.");
        }
        return spec;
    }

    std::string identifier(const char* message) {
        if (cur().kind != Tok::identifier && cur().kind != Tok::delimited_identifier) fail(cur(), message);
        return t_[pos_++].text;
    }

    // After '.': a name or function call (keywords such as `contains` and `as` are names here).
    std::unique_ptr<AstNode> invocation() {
        if (is_symbol("$")) return special();
        const Token at = cur();
        const bool delimited = at.kind == Tok::delimited_identifier;
        std::string name = identifier("Expected a name or function after '.'.");
        if (!delimited && is_symbol("(")) return call(at, std::move(name));
        auto n = node(Op::member, at);
        n->name = std::move(name);
        return n;
    }

    std::unique_ptr<AstNode> special() {
        const Token at = cur();
        ++pos_;
        if (cur().kind != Tok::identifier) fail(cur(), "Expected this, index or total after '$'.");
        const std::string word = t_[pos_++].text;
        if (word == "this") return node(Op::this_, at);
        if (word == "index") return node(Op::index, at);
        if (word == "total") return node(Op::total, at);
        fail(at, "Expected $this, $index or $total.");
    }

    std::unique_ptr<AstNode> call(const Token& at, std::string name) {
        ++pos_;  // (
        auto n = node(Op::function, at);
        n->name = std::move(name);
        if (!is_symbol(")")) {
            for (;;) {
                n->args.push_back(expression(0));
                if (is_symbol(")")) break;
                expect(",", "Expected ',' or ')' after a function argument.");
            }
        }
        ++pos_;  // )
        n->function = find_function(n->name);
        if (!n->function) fail(at, "Unknown function '" + n->name + "'.", Error::Kind::semantic);
        if (n->args.size() < n->function->min_args || n->args.size() > n->function->max_args)
            fail(at, argument_count_message(*n->function), Error::Kind::semantic);
        // `is`, `as` and `ofType` take a type name, not an expression.
        if (n->function->takes_type) {
            const AstNode& arg = *n->args[0];
            if (arg.op == Op::member) {
                n->type = TypeSpec{{}, arg.name};
            } else if (arg.op == Op::invoke && arg.args[0]->op == Op::member && arg.args[1]->op == Op::member) {
                n->type = TypeSpec{arg.args[0]->name, arg.args[1]->name};
            } else {
                fail(at, "Expected a type name as the argument of " + n->name + "().", Error::Kind::semantic);
            }
        }
        return n;
    }

    static std::string argument_count_message(const FunctionDef& f) {
        std::string name(f.name);
        if (f.min_args == f.max_args)
            return name + "() takes " + std::to_string(f.min_args) + (f.min_args == 1 ? " argument." : " arguments.");
        return name + "() takes " + std::to_string(f.min_args) + " to " + std::to_string(f.max_args) + " arguments.";
    }

    std::unique_ptr<AstNode> term() {
        const Token at = cur();
        switch (at.kind) {
            case Tok::end: fail(at, "Expected an expression.");
            case Tok::error: fail(at, at.text);
            case Tok::number: return number();
            case Tok::string: {
                ++pos_;
                auto n = node(Op::literal, at);
                n->literal = Item(at.text);
                return n;
            }
            case Tok::date_time: ++pos_; return date_time(at);
            case Tok::external: {
                ++pos_;
                auto n = node(Op::variable, at);
                n->name = at.text;
                return n;
            }
            case Tok::delimited_identifier: {
                ++pos_;
                auto n = node(Op::member, at);
                n->name = at.text;
                n->starts_path = true;
                return n;
            }
            case Tok::identifier: return identifier_term();
            case Tok::symbol: break;
        }
        if (at.text == "(") {
            ++pos_;
            auto inner = expression(0);
            expect(")", "Expected ')'.");
            return inner;
        }
        if (at.text == "{") {
            ++pos_;
            expect("}", "Expected '}': only the empty collection {} can be written this way.");
            return node(Op::empty, at);
        }
        if (at.text == "$") return special();
        fail(at, "Expected an expression.");
    }

    std::unique_ptr<AstNode> identifier_term() {
        const Token at = cur();
        if (at.text == "true" || at.text == "false") {
            ++pos_;
            auto n = node(Op::literal, at);
            n->literal = Item(at.text == "true");
            return n;
        }
        ++pos_;
        if (is_symbol("(")) return call(at, at.text);
        auto n = node(Op::member, at);
        n->name = at.text;
        n->starts_path = true;
        return n;
    }

    std::unique_ptr<AstNode> number() {
        const Token at = cur();
        ++pos_;
        auto n = node(Op::literal, at);
        // A quantity: a number followed by a unit in quotes or a calendar duration word.
        if (cur().kind == Tok::string || (cur().kind == Tok::identifier && is_calendar_word(cur().text))) {
            auto value = Decimal::parse(at.text);
            if (!value) fail(at, "The number is too large.");
            n->literal = Item(Quantity(*value, t_[pos_++].text));
            return n;
        }
        if (at.text.find('.') != std::string::npos) {
            auto value = Decimal::parse(at.text);
            if (!value) fail(at, "The number is too large.");
            n->literal = Item(*value);
            return n;
        }
        std::int64_t v = 0;
        const auto [ptr, ec] = std::from_chars(at.text.data(), at.text.data() + at.text.size(), v);
        if (ec != std::errc{} || ptr != at.text.data() + at.text.size()) fail(at, "The integer is too large.");
        n->literal = Item(v);
        return n;
    }

    std::unique_ptr<AstNode> date_time(const Token& at) {
        auto n = node(Op::literal, at);
        const std::string& text = at.text;
        std::optional<Temporal> value;
        if (text.starts_with("T")) {
            if (text.find_first_of("Z+-") != std::string::npos) {
                n->op = Op::bad_literal;
                n->name = "A Time cannot have a time zone.";
                return n;
            }
            value = Temporal::parse(Temporal::Kind::time, std::string_view(text).substr(1));
        } else if (text.find('T') != std::string::npos) {
            value = Temporal::parse(Temporal::Kind::datetime, text);
        } else {
            value = Temporal::parse(Temporal::Kind::date, text);
        }
        if (!value) fail(at, "The date/time literal is no valid date or time.");
        n->literal = Item(*value);
        return n;
    }
};

}  // namespace

ParseOutcome parse(std::string_view text, std::size_t max_depth) {
    ParseOutcome out;
    try {
        Parser p(lex(text), max_depth);
        out.root = p.run();
    } catch (const SyntaxError& e) {
        out.error = e.error;
    }
    return out;
}

}  // namespace helsebro::fhir::fhirpath::detail
