#include "fhir/fhirpath/arithmetic.hpp"

#include <limits>

namespace helsebro::fhir::fhirpath::detail {
namespace {

__extension__ using Wide = __int128;

// FHIRPath Integer is 32-bit; results outside it are an error rather than a silent wrap.
Item checked_integer(const AstNode& at, Wide v) {
    if (v > std::numeric_limits<std::int32_t>::max() || v < std::numeric_limits<std::int32_t>::min())
        fail(at, "The Integer result is out of range.");
    return Item(static_cast<std::int64_t>(v));
}

Item decimal_or_fail(const AstNode& at, std::optional<Decimal> d) {
    if (!d) fail(at, "The Decimal result is out of range.");
    return Item(*d);
}

std::optional<Decimal> to_decimal(const Item::Value& v) {
    if (const auto* d = std::get_if<Decimal>(&v)) return *d;
    if (const auto* i = std::get_if<std::int64_t>(&v)) return Decimal::from_integer(*i);
    return std::nullopt;
}

std::optional<Quantity> to_quantity(const Item::Value& v) {
    if (const auto* q = std::get_if<Quantity>(&v)) return *q;
    if (auto d = to_decimal(v)) return Quantity(*d, "1");
    return std::nullopt;
}

const char* symbol(Op op) {
    switch (op) {
        case Op::add: return "+";
        case Op::subtract: return "-";
        case Op::multiply: return "*";
        case Op::divide: return "/";
        case Op::div: return "div";
        case Op::mod: return "mod";
        default: return "&";
    }
}

[[noreturn]] void type_error(const AstNode& at, const Item& a, const Item& b) {
    fail(at, "The operator " + std::string(symbol(at.op)) + " cannot be applied to " + std::string(a.type_name()) +
                 " and " + std::string(b.type_name()) + ".");
}

Collection integers(const AstNode& at, std::int64_t a, std::int64_t b) {
    switch (at.op) {
        case Op::add: return {checked_integer(at, Wide(a) + b)};
        case Op::subtract: return {checked_integer(at, Wide(a) - b)};
        case Op::multiply: return {checked_integer(at, Wide(a) * b)};
        case Op::divide: {
            auto d = divide(Decimal::from_integer(a), Decimal::from_integer(b));
            return d ? Collection{Item(*d)} : Collection{};
        }
        case Op::div: return b == 0 ? Collection{} : Collection{checked_integer(at, Wide(a) / b)};
        default: return b == 0 ? Collection{} : Collection{checked_integer(at, Wide(a) % b)};
    }
}

Collection decimals(const AstNode& at, const Decimal& a, const Decimal& b) {
    switch (at.op) {
        case Op::add: return {decimal_or_fail(at, add(a, b))};
        case Op::subtract: return {decimal_or_fail(at, subtract(a, b))};
        case Op::multiply: return {decimal_or_fail(at, multiply(a, b))};
        case Op::divide: {
            auto d = divide(a, b);
            return d ? Collection{Item(*d)} : Collection{};
        }
        case Op::div: {
            auto d = divide_truncated(a, b);
            if (!d) return {};
            auto i = d->to_integer();
            return i ? Collection{Item(*i)} : Collection{Item(*d)};
        }
        default: {
            auto d = modulo(a, b);
            return d ? Collection{Item(*d)} : Collection{};
        }
    }
}

Collection quantities(const AstNode& at, const Item& ia, const Item& ib, const Quantity& a, const Quantity& b) {
    std::optional<Quantity> r;
    switch (at.op) {
        case Op::add: r = add(a, b); break;
        case Op::subtract: r = subtract(a, b); break;
        case Op::multiply: r = multiply(a, b); break;
        case Op::divide:
            if (b.value().is_zero()) return {};
            r = divide(a, b);
            break;
        default: type_error(at, ia, ib);
    }
    if (!r) {
        if (at.op == Op::add || at.op == Op::subtract)
            fail(at, "The units of the two quantities are not comparable.");
        return {};
    }
    return {Item(*r)};
}

Collection temporal(const AstNode& at, const Temporal& t, const Item& ia, const Item& ib) {
    const auto* q = std::get_if<Quantity>(&ib.value());
    if (!q || (at.op != Op::add && at.op != Op::subtract)) type_error(at, ia, ib);
    auto r = at.op == Op::add ? t.plus(*q) : t.minus(*q);
    if (!r) fail(at, "The quantity cannot be added to or subtracted from this date/time (unit " + q->unit() + ").");
    return {Item(*r)};
}

}  // namespace

Collection unary_arithmetic(const AstNode& node, const Collection& operand) {
    auto v = single_value(node, operand, "The operand of a sign");
    if (!v) return {};
    if (node.op == Op::plus_sign) {
        if (!to_quantity(v->value())) fail(node, "A sign applies only to numbers and quantities.");
        return {*v};
    }
    if (const auto* i = std::get_if<std::int64_t>(&v->value())) return {checked_integer(node, -static_cast<Wide>(*i))};
    if (const auto* d = std::get_if<Decimal>(&v->value())) return {Item(d->negated())};
    if (const auto* q = std::get_if<Quantity>(&v->value())) return {Item(Quantity(q->value().negated(), q->unit()))};
    fail(node, "A sign applies only to numbers and quantities, not to " + std::string(v->type_name()) + ".");
}

Collection binary_arithmetic(const AstNode& node, const Collection& left, const Collection& right) {
    if (node.op == Op::concatenate) {
        auto a = single_string(node, left, "The left side of &");
        auto b = single_string(node, right, "The right side of &");
        return {Item(a.value_or("") + b.value_or(""))};
    }
    auto a = single_value(node, left, "The left operand");
    auto b = single_value(node, right, "The right operand");
    if (!a || !b) return {};
    const auto& x = a->value();
    const auto& y = b->value();
    if (const auto* s = std::get_if<std::string>(&x)) {
        const auto* t = std::get_if<std::string>(&y);
        if (!t || node.op != Op::add) type_error(node, *a, *b);
        return {Item(*s + *t)};
    }
    if (const auto* t = std::get_if<Temporal>(&x)) return temporal(node, *t, *a, *b);
    const auto* i = std::get_if<std::int64_t>(&x);
    const auto* j = std::get_if<std::int64_t>(&y);
    if (i && j) return integers(node, *i, *j);
    if (std::holds_alternative<Quantity>(x) || std::holds_alternative<Quantity>(y)) {
        auto qa = to_quantity(x);
        auto qb = to_quantity(y);
        if (!qa || !qb) type_error(node, *a, *b);
        return quantities(node, *a, *b, *qa, *qb);
    }
    auto da = to_decimal(x);
    auto db = to_decimal(y);
    if (!da || !db) type_error(node, *a, *b);
    return decimals(node, *da, *db);
}

}  // namespace helsebro::fhir::fhirpath::detail
