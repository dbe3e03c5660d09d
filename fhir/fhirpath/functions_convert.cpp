// Conversion functions (FHIRPath §5.5): toX() gives empty when the value does not convert, and
// convertsToX() tells whether it would.
#include <algorithm>
#include <cctype>

#include "fhir/fhirpath/eval.hpp"
#include "fhir/fhirpath/functions.hpp"
#include "fhir/fhirpath/tables.hpp"

namespace helsebro::fhir::fhirpath::detail {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

// (+|-)?digits(.digits)? : what toDecimal() and toInteger() (without the fraction) accept.
bool is_number_text(std::string_view s, bool allow_fraction) {
    if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
    const auto dot = s.find('.');
    if (dot == std::string_view::npos) return all_digits(s);
    return allow_fraction && all_digits(s.substr(0, dot)) && all_digits(s.substr(dot + 1));
}

std::optional<Item> to_boolean_value(const Item& v) {
    const auto& x = v.value();
    if (const bool* b = std::get_if<bool>(&x)) return Item(*b);
    if (const auto* i = std::get_if<std::int64_t>(&x)) {
        if (*i == 0 || *i == 1) return Item(*i == 1);
        return std::nullopt;
    }
    if (const auto* d = std::get_if<Decimal>(&x)) {
        if (d->is_zero()) return Item(false);
        if (*d == Decimal::from_integer(1)) return Item(true);
        return std::nullopt;
    }
    if (const auto* s = std::get_if<std::string>(&x)) {
        const std::string l = lower(*s);
        if (l == "true" || l == "t" || l == "yes" || l == "y" || l == "1" || l == "1.0") return Item(true);
        if (l == "false" || l == "f" || l == "no" || l == "n" || l == "0" || l == "0.0") return Item(false);
    }
    return std::nullopt;
}

std::optional<Item> to_integer_value(const Item& v) {
    const auto& x = v.value();
    if (std::holds_alternative<std::int64_t>(x)) return v;
    if (const bool* b = std::get_if<bool>(&x)) return Item(std::int64_t{*b ? 1 : 0});
    if (const auto* s = std::get_if<std::string>(&x)) {
        if (!is_number_text(*s, false)) return std::nullopt;
        auto d = Decimal::parse(*s);
        auto i = d ? d->to_integer() : std::nullopt;
        if (!i || *i > 2147483647 || *i < -2147483648LL) return std::nullopt;
        return Item(*i);
    }
    return std::nullopt;
}

std::optional<Item> to_decimal_value(const Item& v) {
    const auto& x = v.value();
    if (std::holds_alternative<Decimal>(x)) return v;
    if (const auto* i = std::get_if<std::int64_t>(&x)) return Item(Decimal::from_integer(*i));
    if (const bool* b = std::get_if<bool>(&x)) return Item(*Decimal::parse(*b ? "1.0" : "0.0"));
    if (const auto* s = std::get_if<std::string>(&x)) {
        if (!is_number_text(*s, true)) return std::nullopt;
        auto d = Decimal::parse(*s);
        return d ? std::optional<Item>(Item(*d)) : std::nullopt;
    }
    return std::nullopt;
}

std::optional<Item> to_string_value(const Item& v) {
    auto t = v.to_text();
    return t ? std::optional<Item>(Item(std::move(*t))) : std::nullopt;
}

template <Temporal::Kind Kind>
std::optional<Item> to_temporal_value(const Item& v) {
    const auto& x = v.value();
    if (const auto* t = std::get_if<Temporal>(&x)) {
        if (t->kind() == Kind) return v;
        if (Kind == Temporal::Kind::datetime && t->kind() == Temporal::Kind::date) return Item(t->as_datetime());
        if (Kind == Temporal::Kind::date && t->kind() == Temporal::Kind::datetime) return Item(t->as_date());
        return std::nullopt;
    }
    if (const auto* s = std::get_if<std::string>(&x)) {
        auto t = Temporal::parse(Kind, *s);
        if (!t && Kind == Temporal::Kind::datetime) {
            // A date string is a DateTime of day precision or coarser.
            if (auto d = Temporal::parse(Temporal::Kind::date, *s)) t = d->as_datetime();
        }
        return t ? std::optional<Item>(Item(*t)) : std::nullopt;
    }
    return std::nullopt;
}

std::optional<Item> to_quantity_value(const Item& v) {
    const auto& x = v.value();
    if (std::holds_alternative<Quantity>(x)) return v;
    if (const auto* i = std::get_if<std::int64_t>(&x)) return Item(Quantity(Decimal::from_integer(*i), "1"));
    if (const auto* d = std::get_if<Decimal>(&x)) return Item(Quantity(*d, "1"));
    if (const bool* b = std::get_if<bool>(&x)) return Item(Quantity(*Decimal::parse(*b ? "1.0" : "0.0"), "1"));
    if (const auto* s = std::get_if<std::string>(&x)) {
        auto q = Quantity::parse(*s);
        return q ? std::optional<Item>(Item(*q)) : std::nullopt;
    }
    return std::nullopt;
}

using Converter = std::optional<Item> (*)(const Item&);

std::optional<Item> convert(const AstNode& call, const Collection& in, Converter f, bool& empty) {
    const Item* item = single(call, in, ("The input of " + call.name + "()").c_str());
    empty = !item;
    if (!item) return std::nullopt;
    auto v = item->system_value();
    if (!v) return std::nullopt;
    return f(*v);
}

template <Converter F>
Collection fn_to(Evaluator&, const AstNode& call, const Collection& in, Frame&) {
    bool empty = false;
    auto r = convert(call, in, F, empty);
    return r ? Collection{*r} : Collection{};
}

template <Converter F>
Collection fn_converts(Evaluator&, const AstNode& call, const Collection& in, Frame&) {
    bool empty = false;
    auto r = convert(call, in, F, empty);
    if (empty) return {};
    return {Item(r.has_value())};
}

// toQuantity(unit) and convertsToQuantity(unit) convert to the unit when one is given.
std::optional<Item> quantity_in(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame, bool& empty) {
    auto q = convert(call, in, to_quantity_value, empty);
    if (!q || call.args.empty()) return q;
    auto unit = single_string(call, ev.arg(call, 0, frame), "The unit");
    if (!unit) return q;
    auto converted = std::get<Quantity>(q->value()).convert_to(*unit);
    return converted ? std::optional<Item>(Item(*converted)) : std::nullopt;
}

Collection fn_to_quantity(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    bool empty = false;
    auto r = quantity_in(ev, call, in, frame, empty);
    return r ? Collection{*r} : Collection{};
}

Collection fn_converts_to_quantity(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    bool empty = false;
    auto r = quantity_in(ev, call, in, frame, empty);
    if (empty) return {};
    return {Item(r.has_value())};
}

constexpr auto A = InputKind::any;

}  // namespace

std::span<const FunctionDef> conversion_functions() {
    static constexpr FunctionDef table[] = {
        {"toBoolean", 0, 0, 0, false, false, A, fn_to<to_boolean_value>},
        {"convertsToBoolean", 0, 0, 0, false, false, A, fn_converts<to_boolean_value>},
        {"toInteger", 0, 0, 0, false, false, A, fn_to<to_integer_value>},
        {"convertsToInteger", 0, 0, 0, false, false, A, fn_converts<to_integer_value>},
        {"toDecimal", 0, 0, 0, false, false, A, fn_to<to_decimal_value>},
        {"convertsToDecimal", 0, 0, 0, false, false, A, fn_converts<to_decimal_value>},
        {"toString", 0, 0, 0, false, false, A, fn_to<to_string_value>},
        {"convertsToString", 0, 0, 0, false, false, A, fn_converts<to_string_value>},
        {"toDate", 0, 0, 0, false, false, A, fn_to<to_temporal_value<Temporal::Kind::date>>},
        {"convertsToDate", 0, 0, 0, false, false, A, fn_converts<to_temporal_value<Temporal::Kind::date>>},
        {"toDateTime", 0, 0, 0, false, false, A, fn_to<to_temporal_value<Temporal::Kind::datetime>>},
        {"convertsToDateTime", 0, 0, 0, false, false, A, fn_converts<to_temporal_value<Temporal::Kind::datetime>>},
        {"toTime", 0, 0, 0, false, false, A, fn_to<to_temporal_value<Temporal::Kind::time>>},
        {"convertsToTime", 0, 0, 0, false, false, A, fn_converts<to_temporal_value<Temporal::Kind::time>>},
        {"toQuantity", 0, 1, 0, false, false, A, fn_to_quantity},
        {"convertsToQuantity", 0, 1, 0, false, false, A, fn_converts_to_quantity},
    };
    return table;
}

}  // namespace helsebro::fhir::fhirpath::detail
