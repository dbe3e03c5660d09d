// FHIRPath Quantity: a Decimal with a UCUM unit or a calendar duration keyword. Comparison and
// arithmetic convert between UCUM units of the same dimension (time, mass, length, volume, and the
// prefixed forms: mg/g/kg, mL/L/dL, cm/m/mm/[in_i]/[ft_i], ms/s/min/h/d/wk/mo/a, ...).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "fhir/fhirpath/decimal.hpp"

namespace helsebro::fhir::fhirpath {

class Quantity {
public:
    Quantity() = default;
    // `unit` is a UCUM code ("mg", "cm", "[in_i]", "1" for unity) or a calendar keyword ("year",
    // "months", "day", ...). An empty unit means "1".
    Quantity(Decimal value, std::string unit);
    // A FHIRPath quantity literal or toQuantity() text: "4.5 'mg'", "10 days", "1 '1'", "5" (unit 1).
    static std::optional<Quantity> parse(std::string_view text);

    const Decimal& value() const { return value_; }
    const std::string& unit() const { return unit_; }
    bool is_calendar_unit() const;   // year(s), month(s), week(s), day(s), hour(s), ... milliseconds
    // "4.5 'mg'", "10 days" (calendar keywords unquoted), "1 '1'"
    std::string to_string() const;

    // The same quantity in `unit` when both are of one dimension; nullopt otherwise. Exact
    // ratios keep the written precision (4040 'mg' -> 4.040 'g'); others give 8 decimals
    // (1 '[in_i]' -> 0.08333333 '[ft_i]'). A unit outside the built-in UCUM table converts only
    // to itself.
    std::optional<Quantity> convert_to(std::string_view unit) const;
    bool comparable(const Quantity& other) const;

    // -1/0/1 after converting b to a's unit (exactly: 4.0000 'g' = 4000.0 'mg'); nullopt when not
    // comparable, equal() too. Calendar keywords of a definite duration (week and shorter) equal
    // their UCUM unit (1 day = 1 'd'); year/month compare only with each other (1 year = 12
    // months) since a calendar month has no fixed length: 1 year = 1 'a' is empty, as in the suite.
    friend std::optional<int> compare(const Quantity& a, const Quantity& b);
    friend std::optional<bool> equal(const Quantity& a, const Quantity& b);
    // Compared in the coarser of the two units at the lesser precision, so 4 'g' ~ 4040 'mg'
    // (testQuantity4) and the relation stays symmetric; here 1 year ~ 1 'a'.
    friend bool equivalent(const Quantity& a, const Quantity& b);

    // nullopt when not comparable (add/subtract) or on overflow. add/subtract answer in a unit
    // both convert to exactly (1 'kg' + 500 'g' = 1.500 'kg', 5 'mg' + 1 'g' = 1005 'mg').
    // multiply/divide combine the UCUM terms: 'cm' * 'm' = 'cm2' (b converted to a's unit first),
    // 'g' / 'm' = 'g/m', 'm' / 'm' = '1'; a quantity without unit keeps the other's unit. Divide
    // by zero gives nullopt.
    friend std::optional<Quantity> add(const Quantity& a, const Quantity& b);
    friend std::optional<Quantity> subtract(const Quantity& a, const Quantity& b);
    friend std::optional<Quantity> multiply(const Quantity& a, const Quantity& b);
    friend std::optional<Quantity> divide(const Quantity& a, const Quantity& b);

private:
    Decimal value_;
    std::string unit_ = "1";
};

}  // namespace helsebro::fhir::fhirpath
