// Math functions (FHIRPath §5.7) and the 2.1 precision functions: precision, lowBoundary,
// highBoundary, comparable.
#include <cmath>

#include "fhir/fhirpath/eval.hpp"
#include "fhir/fhirpath/functions.hpp"
#include "fhir/fhirpath/tables.hpp"

namespace helsebro::fhir::fhirpath::detail {
namespace {

std::optional<Item> number_input(const AstNode& call, const Collection& in) {
    auto v = single_value(call, in, ("The input of " + call.name + "()").c_str());
    if (!v) return std::nullopt;
    if (!std::holds_alternative<std::int64_t>(v->value()) && !std::holds_alternative<Decimal>(v->value()) &&
        !std::holds_alternative<Quantity>(v->value()))
        fail(call, call.name + "() applies only to numbers.");
    return v;
}

Decimal as_decimal(const Item& v) {
    if (const auto* i = std::get_if<std::int64_t>(&v.value())) return Decimal::from_integer(*i);
    if (const auto* q = std::get_if<Quantity>(&v.value())) return q->value();
    return std::get<Decimal>(v.value());
}

Collection integer_or_fail(const AstNode& call, const Decimal& d) {
    auto i = d.to_integer();
    if (!i) fail(call, "The result does not fit an Integer.");
    return {Item(*i)};
}

Collection fn_abs(Evaluator&, const AstNode& call, const Collection& in, Frame&) {
    auto v = number_input(call, in);
    if (!v) return {};
    if (const auto* i = std::get_if<std::int64_t>(&v->value())) return {Item(*i < 0 ? -*i : *i)};
    if (const auto* q = std::get_if<Quantity>(&v->value())) return {Item(Quantity(q->value().abs(), q->unit()))};
    return {Item(as_decimal(*v).abs())};
}

template <int Which>  // 0 ceiling, 1 floor, 2 truncate
Collection fn_integer_part(Evaluator&, const AstNode& call, const Collection& in, Frame&) {
    auto v = number_input(call, in);
    if (!v) return {};
    if (std::holds_alternative<std::int64_t>(v->value())) return {*v};
    const Decimal d = as_decimal(*v);
    return integer_or_fail(call, Which == 0 ? d.ceiling() : Which == 1 ? d.floor() : d.truncated());
}

Collection fn_round(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    auto v = number_input(call, in);
    if (!v) return {};
    std::int64_t digits = 0;
    if (!call.args.empty()) {
        auto p = single_integer(call, ev.arg(call, 0, frame), "The precision");
        if (!p) return {};
        if (*p < 0) fail(call, "round() needs a precision of 0 or more.");
        digits = std::min<std::int64_t>(*p, 28);
    }
    return {Item(as_decimal(*v).round(static_cast<int>(digits)))};
}

Collection from_double(const AstNode& call, double x) {
    if (std::isnan(x)) return {};
    auto d = Decimal::from_double(x);
    if (!d) fail(call, "The result is out of range.");
    return {Item(*d)};
}

template <int Which>  // 0 exp, 1 ln, 2 sqrt
Collection fn_real(Evaluator&, const AstNode& call, const Collection& in, Frame&) {
    auto v = number_input(call, in);
    if (!v) return {};
    const double x = as_decimal(*v).to_double();
    if (Which == 1 && x <= 0) return {};
    if (Which == 2 && x < 0) return {};
    return from_double(call, Which == 0 ? std::exp(x) : Which == 1 ? std::log(x) : std::sqrt(x));
}

Collection fn_log(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    auto v = number_input(call, in);
    auto base = number_input(call, ev.arg(call, 0, frame));
    if (!v || !base) return {};
    const double x = as_decimal(*v).to_double(), b = as_decimal(*base).to_double();
    if (x <= 0 || b <= 0 || b == 1) return {};
    return from_double(call, std::log(x) / std::log(b));
}

Collection fn_power(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    auto v = number_input(call, in);
    auto e = number_input(call, ev.arg(call, 0, frame));
    if (!v || !e) return {};
    const auto* vi = std::get_if<std::int64_t>(&v->value());
    const auto* ei = std::get_if<std::int64_t>(&e->value());
    const double r = std::pow(as_decimal(*v).to_double(), as_decimal(*e).to_double());
    if (std::isnan(r)) return {};
    if (vi && ei && *ei >= 0) {
        if (std::abs(r) > 2147483647.0) fail(call, "The Integer result is out of range.");
        return {Item(static_cast<std::int64_t>(std::llround(r)))};
    }
    return from_double(call, r);
}

std::optional<int> precision_arg(Evaluator& ev, const AstNode& call, Frame& frame, bool& given) {
    given = !call.args.empty();
    if (!given) return std::nullopt;
    auto p = single_integer(call, ev.arg(call, 0, frame), "The precision");
    if (!p) return std::nullopt;
    return static_cast<int>(std::clamp<std::int64_t>(*p, -1, 100));
}

template <bool Low>
Collection fn_boundary(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    auto v = single_value(call, in, "The input of a boundary function");
    if (!v) return {};
    bool given = false;
    auto p = precision_arg(ev, call, frame, given);
    if (given && !p) return {};
    const auto& x = v->value();
    if (const auto* t = std::get_if<Temporal>(&x)) {
        auto r = Low ? t->low_boundary(p) : t->high_boundary(p);
        return r ? Collection{Item(*r)} : Collection{};
    }
    if (const auto* q = std::get_if<Quantity>(&x)) {
        auto r = Low ? q->value().low_boundary(p) : q->value().high_boundary(p);
        return r ? Collection{Item(Quantity(*r, q->unit()))} : Collection{};
    }
    if (std::holds_alternative<std::int64_t>(x) || std::holds_alternative<Decimal>(x)) {
        const Decimal d = as_decimal(*v);
        auto r = Low ? d.low_boundary(p) : d.high_boundary(p);
        return r ? Collection{Item(*r)} : Collection{};
    }
    fail(call, call.name + "() applies to numbers, quantities and dates.");
}

Collection fn_precision(Evaluator&, const AstNode& call, const Collection& in, Frame&) {
    auto v = single_value(call, in, "The input of precision()");
    if (!v) return {};
    if (const auto* t = std::get_if<Temporal>(&v->value())) return {Item(std::int64_t{t->precision_digits()})};
    if (const auto* d = std::get_if<Decimal>(&v->value())) return {Item(std::int64_t{d->precision()})};
    if (std::holds_alternative<std::int64_t>(v->value())) return {Item(std::int64_t{0})};
    fail(call, "precision() applies to numbers and dates.");
}

Collection fn_comparable(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    auto a = single_value(call, in, "The input of comparable()");
    auto b = single_value(call, ev.arg(call, 0, frame), "The argument of comparable()");
    if (!a || !b) return {};
    const auto* qa = std::get_if<Quantity>(&a->value());
    const auto* qb = std::get_if<Quantity>(&b->value());
    if (!qa || !qb) fail(call, "comparable() applies to quantities.");
    return {Item(qa->comparable(*qb))};
}

constexpr auto N = InputKind::number;
constexpr auto B = InputKind::quantity_or_number_or_temporal;

}  // namespace

std::span<const FunctionDef> math_functions() {
    static constexpr FunctionDef table[] = {
        {"abs", 0, 0, 0, false, false, N, fn_abs},
        {"ceiling", 0, 0, 0, false, false, N, fn_integer_part<0>},
        {"floor", 0, 0, 0, false, false, N, fn_integer_part<1>},
        {"truncate", 0, 0, 0, false, false, N, fn_integer_part<2>},
        {"round", 0, 1, 0, false, false, N, fn_round},
        {"exp", 0, 0, 0, false, false, N, fn_real<0>},
        {"ln", 0, 0, 0, false, false, N, fn_real<1>},
        {"sqrt", 0, 0, 0, false, false, N, fn_real<2>},
        {"log", 1, 1, 0, false, false, N, fn_log},
        {"power", 1, 1, 0, false, false, N, fn_power},
        {"lowBoundary", 0, 1, 0, false, false, B, fn_boundary<true>},
        {"highBoundary", 0, 1, 0, false, false, B, fn_boundary<false>},
        {"precision", 0, 0, 0, false, false, B, fn_precision},
        {"comparable", 1, 1, 0, false, false, InputKind::any, fn_comparable},
    };
    return table;
}

}  // namespace helsebro::fhir::fhirpath::detail
