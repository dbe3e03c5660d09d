// FHIRPath Decimal: an exact base-10 number that remembers how many digits were written after the
// point (1.0 and 1.00 are equal but print, round-trip and report precision() differently). Binary
// floating point would make 0.1 + 0.2 = 0.3 false and lose the written precision FHIR depends on.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace helsebro::fhir::fhirpath {

class Decimal {
public:
    // The number of significant digits held exactly; arithmetic beyond it fails (nullopt).
    static constexpr int max_digits = 36;

    Decimal() = default;  // 0
    // FHIRPath literal or FHIR JSON decimal text: "-12.50", "0.00000001", "1E-22", "1.5e3".
    static std::optional<Decimal> parse(std::string_view text);
    static Decimal from_integer(std::int64_t v);
    // For results of sqrt/ln/exp/power/log: rounded to at most `max_scale` digits after the point,
    // trailing zeros dropped; nullopt for NaN/infinity.
    static std::optional<Decimal> from_double(double v, int max_scale = 8);

    int scale() const { return scale_; }  // digits after the point as written/computed
    bool is_negative() const;
    bool is_zero() const;
    bool is_integer() const;               // no non-zero digits after the point
    std::optional<std::int64_t> to_integer() const;  // only when is_integer() and it fits
    double to_double() const;
    // Plain notation with exactly scale() digits after the point: "1.50", "-0.0034", "120".
    std::string to_string() const;

    // Exact; nullopt on overflow. The result's scale is the larger input scale (add/sub) or the
    // sum of the scales (mul), like written arithmetic.
    friend std::optional<Decimal> add(const Decimal& a, const Decimal& b);
    friend std::optional<Decimal> subtract(const Decimal& a, const Decimal& b);
    friend std::optional<Decimal> multiply(const Decimal& a, const Decimal& b);
    // a / b to 8 digits after the point, trailing zeros dropped (1.0 / 3 = 0.33333333, 6 / 2 = 3);
    // nullopt when b is zero.
    friend std::optional<Decimal> divide(const Decimal& a, const Decimal& b);
    // The same to `scale` digits (0-36) after the point; unit conversion needs more than 8 to
    // stay exact (ng -> g). nullopt also when the quotient does not fit max_digits.
    friend std::optional<Decimal> divide(const Decimal& a, const Decimal& b, int scale);
    // Truncated division (FHIRPath div) and its remainder (mod); nullopt when b is zero.
    friend std::optional<Decimal> divide_truncated(const Decimal& a, const Decimal& b);
    friend std::optional<Decimal> modulo(const Decimal& a, const Decimal& b);

    Decimal negated() const;
    Decimal abs() const;
    Decimal round(int digits) const;  // half away from zero; scale becomes `digits`
    Decimal truncated() const;        // toward zero, scale 0
    Decimal floor() const;            // scale 0
    Decimal ceiling() const;          // scale 0
    Decimal with_scale(int scale) const;  // pads with zeros, or rounds half away from zero

    // FHIRPath precision(): number of digits after the point (1.58700 -> 5).
    int precision() const { return scale_; }
    // FHIRPath lowBoundary/highBoundary(precision): the least/greatest value this decimal could
    // stand for, given as `precision` digits after the point (default 8). nullopt when precision is
    // below 0 or above 28. Examples from the FHIRPath 2.1 suite:
    // 1.587.lowBoundary() = 1.58650000, 1.587.lowBoundary(2) = 1.58, (-1.587).lowBoundary(0) = -2,
    // 120.lowBoundary(2) = 119.50, 1.587.highBoundary(2) = 1.59, 0.0034.lowBoundary(1) = 0.0,
    // (-0.0034).lowBoundary(1) = -0.0 (the sign is kept in the text), 12.500.highBoundary(4) = 12.5005.
    std::optional<Decimal> low_boundary(std::optional<int> precision) const;
    std::optional<Decimal> high_boundary(std::optional<int> precision) const;

    // Value comparison, ignoring scale: -1, 0, 1.
    friend int compare(const Decimal& a, const Decimal& b);
    friend bool operator==(const Decimal& a, const Decimal& b) { return compare(a, b) == 0; }
    // FHIRPath equivalence (~): equal when rounded to the lesser of the two scales.
    friend bool equivalent(const Decimal& a, const Decimal& b);

private:
    // a / b rounded to exactly `result_scale` digits; nullopt when that does not fit.
    static std::optional<Decimal> divide_at(const Decimal& a, const Decimal& b, int result_scale);

    __extension__ using Int = __int128;
    Int coefficient_ = 0;   // value = coefficient_ / 10^scale_
    int scale_ = 0;
    bool negative_zero_ = false;  // only for boundary results such as -0.0
};

}  // namespace helsebro::fhir::fhirpath
