#include "fhir/fhirpath/decimal.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace helsebro::fhir::fhirpath {

namespace {

__extension__ using I128 = __int128;

constexpr int max_pow = 38;  // 10^38 still fits a signed 128-bit integer

constexpr std::array<I128, max_pow + 1> make_powers() {
    std::array<I128, max_pow + 1> p{};
    p[0] = 1;
    for (int i = 1; i <= max_pow; ++i) p[i] = p[i - 1] * 10;
    return p;
}
constexpr auto pow10 = make_powers();

// Every Decimal keeps |coefficient| below this and its scale within [0, max_scale].
constexpr I128 coefficient_limit = pow10[Decimal::max_digits];
constexpr int max_scale = Decimal::max_digits;

I128 abs128(I128 v) { return v < 0 ? -v : v; }
bool in_range(I128 c) { return abs128(c) < coefficient_limit; }

// c * 10^n, or nullopt when it leaves the coefficient range.
std::optional<I128> shift_up(I128 c, int n) {
    if (n < 0) return std::nullopt;
    if (c == 0) return I128(0);
    if (n > max_pow) return std::nullopt;
    I128 r = 0;
    if (__builtin_mul_overflow(c, pow10[n], &r) || !in_range(r)) return std::nullopt;
    return r;
}

// c / 10^n rounded half away from zero (n >= 0).
I128 shift_down_round(I128 c, int n) {
    if (n <= 0) return c;
    if (n > max_pow) return 0;
    const I128 d = pow10[n];
    I128 q = c / d;
    const I128 r = abs128(c % d);
    if (r >= d - r) q += c < 0 ? -1 : 1;
    return q;
}

// Round half away from zero of a non-negative magnitude `r` out of `d` (avoids 2*r overflow).
bool rounds_up(I128 r, I128 d) { return r >= d - r; }

struct Parts {
    bool negative = false;
    std::string_view integer, fraction;
    long exponent = 0;
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::optional<Parts> split_number(std::string_view s) {
    Parts p;
    std::size_t i = 0;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) p.negative = s[i++] == '-';
    const std::size_t int_start = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    p.integer = s.substr(int_start, i - int_start);
    if (p.integer.empty()) return std::nullopt;
    if (i < s.size() && s[i] == '.') {
        const std::size_t frac_start = ++i;
        while (i < s.size() && is_digit(s[i])) ++i;
        p.fraction = s.substr(frac_start, i - frac_start);
        if (p.fraction.empty()) return std::nullopt;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        bool exp_negative = false;
        if (i < s.size() && (s[i] == '+' || s[i] == '-')) exp_negative = s[i++] == '-';
        if (i == s.size()) return std::nullopt;
        for (; i < s.size() && is_digit(s[i]); ++i) {
            p.exponent = p.exponent * 10 + (s[i] - '0');
            if (p.exponent > 1000) return std::nullopt;
        }
        if (exp_negative) p.exponent = -p.exponent;
    }
    if (i != s.size()) return std::nullopt;
    return p;
}

}  // namespace

std::optional<Decimal> Decimal::parse(std::string_view text) {
    const auto parts = split_number(text);
    if (!parts) return std::nullopt;
    I128 c = 0;
    int digits = 0;
    for (std::string_view run : {parts->integer, parts->fraction}) {
        for (char ch : run) {
            if (c == 0 && ch == '0') continue;  // leading zeros are not significant
            if (++digits > max_digits) return std::nullopt;
            c = c * 10 + (ch - '0');
        }
    }
    long scale = static_cast<long>(parts->fraction.size()) - parts->exponent;
    if (scale < 0) {
        const auto shifted = shift_up(c, static_cast<int>(-scale > max_pow ? max_pow + 1 : -scale));
        if (!shifted) return std::nullopt;
        c = *shifted;
        scale = 0;
    }
    if (scale > max_scale) return std::nullopt;
    Decimal d;
    d.coefficient_ = parts->negative ? -c : c;
    d.scale_ = static_cast<int>(scale);
    return d;
}

Decimal Decimal::from_integer(std::int64_t v) {
    Decimal d;
    d.coefficient_ = v;
    return d;
}

std::optional<Decimal> Decimal::from_double(double v, int max_scale_digits) {
    if (!std::isfinite(v) || std::fabs(v) >= 1e30) return std::nullopt;
    if (max_scale_digits < 0) max_scale_digits = 0;
    if (max_scale_digits > 20) max_scale_digits = 20;
    std::optional<Decimal> d;
    // Large magnitudes leave fewer of the max_digits for the fraction.
    for (int scale = max_scale_digits; !d && scale >= 0; --scale) {
        char buf[80];
        const int n = std::snprintf(buf, sizeof buf, "%.*f", scale, v);
        if (n <= 0 || n >= static_cast<int>(sizeof buf)) return std::nullopt;
        d = parse(std::string_view(buf, static_cast<std::size_t>(n)));
    }
    if (!d) return std::nullopt;
    while (d->scale_ > 0 && d->coefficient_ % 10 == 0) {
        d->coefficient_ /= 10;
        --d->scale_;
    }
    return d;
}

bool Decimal::is_negative() const { return coefficient_ < 0 || negative_zero_; }
bool Decimal::is_zero() const { return coefficient_ == 0; }
bool Decimal::is_integer() const { return coefficient_ % pow10[scale_] == 0; }

std::optional<std::int64_t> Decimal::to_integer() const {
    if (!is_integer()) return std::nullopt;
    const I128 v = coefficient_ / pow10[scale_];
    if (v > INT64_MAX || v < INT64_MIN) return std::nullopt;
    return static_cast<std::int64_t>(v);
}

double Decimal::to_double() const {
    const std::string s = to_string();
    double v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
}

std::string Decimal::to_string() const {
    std::string digits;
    for (I128 m = abs128(coefficient_); m != 0; m /= 10) digits.insert(digits.begin(), char('0' + int(m % 10)));
    if (digits.size() <= static_cast<std::size_t>(scale_)) digits.insert(0, scale_ + 1 - digits.size(), '0');
    if (scale_ > 0) digits.insert(digits.size() - scale_, 1, '.');
    if (is_negative()) digits.insert(digits.begin(), '-');
    return digits;
}

namespace {

// Both coefficients brought to the larger scale.
struct Aligned {
    I128 a, b;
    int scale;
};

std::optional<Aligned> align(I128 ca, int sa, I128 cb, int sb) {
    const int s = sa > sb ? sa : sb;
    const auto a = shift_up(ca, s - sa);
    const auto b = shift_up(cb, s - sb);
    if (!a || !b) return std::nullopt;
    return Aligned{*a, *b, s};
}

}  // namespace

std::optional<Decimal> add(const Decimal& a, const Decimal& b) {
    const auto al = align(a.coefficient_, a.scale_, b.coefficient_, b.scale_);
    if (!al || !in_range(al->a + al->b)) return std::nullopt;
    Decimal r;
    r.coefficient_ = al->a + al->b;
    r.scale_ = al->scale;
    return r;
}

std::optional<Decimal> subtract(const Decimal& a, const Decimal& b) { return add(a, b.negated()); }

std::optional<Decimal> multiply(const Decimal& a, const Decimal& b) {
    I128 c = 0;
    int scale = a.scale_ + b.scale_;
    if (__builtin_mul_overflow(a.coefficient_, b.coefficient_, &c)) return std::nullopt;
    // Digits beyond max_scale after the point are dropped (rounded) rather than failing.
    if (scale > max_scale) {
        c = shift_down_round(c, scale - max_scale);
        scale = max_scale;
    }
    while (!in_range(c) && scale > 0 && c % 10 == 0) {
        c /= 10;
        --scale;
    }
    if (!in_range(c)) return std::nullopt;
    Decimal r;
    r.coefficient_ = c;
    r.scale_ = scale;
    return r;
}

std::optional<Decimal> divide(const Decimal& a, const Decimal& b) { return divide(a, b, 8); }

std::optional<Decimal> divide(const Decimal& a, const Decimal& b, int scale) {
    if (b.coefficient_ == 0 || scale < 0 || scale > max_scale) return std::nullopt;
    // A large quotient leaves fewer of the max_digits for its fraction (1 / 1e-30).
    for (int s = scale; s >= 0; --s) {
        if (auto q = Decimal::divide_at(a, b, s)) return q;
    }
    return std::nullopt;
}

std::optional<Decimal> Decimal::divide_at(const Decimal& a, const Decimal& b, int result_scale) {
    const bool negative = (a.coefficient_ < 0) != (b.coefficient_ < 0);
    const I128 num = abs128(a.coefficient_);
    I128 den = abs128(b.coefficient_);
    // a / b * 10^8 = num / den * 10^m
    const int m = result_scale + b.scale_ - a.scale_;
    I128 q = 0, r = 0;
    if (m >= 0) {
        q = num / den;
        r = num % den;
        for (int i = 0; i < m; ++i) {  // long division, one digit at a time: r * 10 < 10^37
            if (__builtin_mul_overflow(q, 10, &q)) return std::nullopt;
            q += (r * 10) / den;
            r = (r * 10) % den;
            if (!in_range(q)) return std::nullopt;
        }
    } else {
        const auto scaled = shift_up(den, -m);
        if (!scaled) return Decimal();  // the divisor dwarfs the dividend: rounds to 0
        den = *scaled;
        q = num / den;
        r = num % den;
    }
    if (rounds_up(r, den)) ++q;
    if (!in_range(q)) return std::nullopt;
    Decimal out;
    out.coefficient_ = negative ? -q : q;
    out.scale_ = result_scale;
    while (out.scale_ > 0 && out.coefficient_ % 10 == 0) {
        out.coefficient_ /= 10;
        --out.scale_;
    }
    return out;
}

std::optional<Decimal> divide_truncated(const Decimal& a, const Decimal& b) {
    const auto al = align(a.coefficient_, a.scale_, b.coefficient_, b.scale_);
    if (!al || al->b == 0) return std::nullopt;
    Decimal r;
    r.coefficient_ = al->a / al->b;
    return r;
}

std::optional<Decimal> modulo(const Decimal& a, const Decimal& b) {
    const auto al = align(a.coefficient_, a.scale_, b.coefficient_, b.scale_);
    if (!al || al->b == 0) return std::nullopt;
    Decimal r;
    r.coefficient_ = al->a % al->b;
    r.scale_ = al->scale;
    return r;
}

Decimal Decimal::negated() const {
    Decimal r = *this;
    r.coefficient_ = -coefficient_;
    r.negative_zero_ = false;
    return r;
}

Decimal Decimal::abs() const {
    Decimal r = *this;
    r.coefficient_ = abs128(coefficient_);
    r.negative_zero_ = false;
    return r;
}

Decimal Decimal::with_scale(int scale) const {
    if (scale < 0) scale = 0;
    if (scale > max_scale) scale = max_scale;
    Decimal r = *this;
    if (scale >= scale_) {
        const auto c = shift_up(coefficient_, scale - scale_);
        if (!c) return r;  // no room to pad: the value is unchanged either way
        r.coefficient_ = *c;
    } else {
        r.coefficient_ = shift_down_round(coefficient_, scale_ - scale);
    }
    r.scale_ = scale;
    if (r.coefficient_ != 0) r.negative_zero_ = false;
    return r;
}

Decimal Decimal::round(int digits) const { return with_scale(digits); }

Decimal Decimal::truncated() const {
    Decimal r;
    r.coefficient_ = coefficient_ / pow10[scale_];
    return r;
}

Decimal Decimal::floor() const {
    Decimal r = truncated();
    if (coefficient_ < 0 && !is_integer()) r.coefficient_ -= 1;
    return r;
}

Decimal Decimal::ceiling() const {
    Decimal r = truncated();
    if (coefficient_ > 0 && !is_integer()) r.coefficient_ += 1;
    return r;
}

namespace {

// The boundary rules that reproduce the FHIRPath 2.1 suite: for a non-negative value the low
// boundary is the lower half-unit edge cut (truncated) to `p` digits and the high boundary the
// upper edge rounded half up; a negative value mirrors the other boundary of its magnitude.
std::optional<I128> edge_to(I128 magnitude, int scale, bool upper, int p) {
    I128 edge = 0;
    if (__builtin_mul_overflow(magnitude, 10, &edge)) return std::nullopt;
    edge += upper ? 5 : -5;
    const int edge_scale = scale + 1;
    if (p >= edge_scale) return shift_up(edge, p - edge_scale);
    const int drop = edge_scale - p;
    if (upper) return shift_down_round(edge, drop);
    return edge / pow10[drop];  // toward zero
}

}  // namespace

std::optional<Decimal> Decimal::low_boundary(std::optional<int> precision) const {
    const int p = precision.value_or(8);
    if (p < 0 || p > 28) return std::nullopt;
    const bool negative = is_negative();
    const auto c = edge_to(abs128(coefficient_), scale_, negative, p);
    if (!c || !in_range(*c)) return std::nullopt;
    Decimal r;
    r.coefficient_ = negative ? -*c : *c;
    r.scale_ = p;
    r.negative_zero_ = negative && *c == 0;
    return r;
}

std::optional<Decimal> Decimal::high_boundary(std::optional<int> precision) const {
    const int p = precision.value_or(8);
    if (p < 0 || p > 28) return std::nullopt;
    const bool negative = is_negative();
    const auto c = edge_to(abs128(coefficient_), scale_, !negative, p);
    if (!c || !in_range(*c)) return std::nullopt;
    Decimal r;
    r.coefficient_ = negative ? -*c : *c;
    r.scale_ = p;
    r.negative_zero_ = negative && *c == 0;
    return r;
}

int compare(const Decimal& a, const Decimal& b) {
    const I128 ia = a.coefficient_ / pow10[a.scale_], ib = b.coefficient_ / pow10[b.scale_];
    if (ia != ib) return ia < ib ? -1 : 1;
    // Same integer part: the fractions (same sign as their numbers, below 10^36) fit once aligned.
    const int s = a.scale_ > b.scale_ ? a.scale_ : b.scale_;
    const I128 fa = (a.coefficient_ % pow10[a.scale_]) * pow10[s - a.scale_];
    const I128 fb = (b.coefficient_ % pow10[b.scale_]) * pow10[s - b.scale_];
    return fa < fb ? -1 : (fa > fb ? 1 : 0);
}

bool equivalent(const Decimal& a, const Decimal& b) {
    const int s = a.scale_ < b.scale_ ? a.scale_ : b.scale_;
    return compare(a.with_scale(s), b.with_scale(s)) == 0;
}

}  // namespace helsebro::fhir::fhirpath
