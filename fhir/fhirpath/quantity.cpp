#include "fhir/fhirpath/quantity.hpp"

#include <array>
#include <vector>

namespace helsebro::fhir::fhirpath {

namespace {

// Base dimensions: metre, gram, second, mole, kelvin, international unit, calendar month. The
// last keeps year/month keywords apart from UCUM 'a'/'mo': a calendar month has no fixed length.
constexpr std::size_t dimension_count = 7;
using Dims = std::array<int, dimension_count>;
constexpr Dims dims(int m, int g, int s, int mol = 0, int k = 0, int iu = 0, int cal = 0) {
    return {m, g, s, mol, k, iu, cal};
}

struct Atom {
    std::string_view code;
    std::string_view factor;  // to the base units, exact
    Dims dims;
    bool metric;  // takes SI prefixes
};

// The UCUM units FHIR data commonly carries; anything else is compared only with itself.
constexpr std::array<Atom, 39> atoms{{
    {"m", "1", dims(1, 0, 0), true},
    {"g", "1", dims(0, 1, 0), true},
    {"s", "1", dims(0, 0, 1), true},
    {"mol", "1", dims(0, 0, 0, 1), true},
    {"eq", "1", dims(0, 0, 0, 1), true},
    {"K", "1", dims(0, 0, 0, 0, 1), true},
    {"[iU]", "1", dims(0, 0, 0, 0, 0, 1), true},
    {"[IU]", "1", dims(0, 0, 0, 0, 0, 1), true},
    {"L", "0.001", dims(3, 0, 0), true},
    {"l", "0.001", dims(3, 0, 0), true},
    {"Hz", "1", dims(0, 0, -1), true},
    {"N", "1000", dims(1, 1, -2), true},
    {"Pa", "1000", dims(-1, 1, -2), true},
    {"bar", "100000000", dims(-1, 1, -2), true},
    {"m[Hg]", "133322000", dims(-1, 1, -2), true},
    {"J", "1000", dims(2, 1, -2), true},
    {"W", "1000", dims(2, 1, -3), true},
    {"cal", "4184", dims(2, 1, -2), true},
    {"min", "60", dims(0, 0, 1), false},
    {"h", "3600", dims(0, 0, 1), false},
    {"d", "86400", dims(0, 0, 1), false},
    {"wk", "604800", dims(0, 0, 1), false},
    {"mo", "2629800", dims(0, 0, 1), false},  // mean Julian month, a_j / 12
    {"mo_j", "2629800", dims(0, 0, 1), false},
    {"mo_g", "2629746", dims(0, 0, 1), false},
    {"a", "31557600", dims(0, 0, 1), false},  // Julian year, 365.25 d
    {"a_j", "31557600", dims(0, 0, 1), false},
    {"a_g", "31556952", dims(0, 0, 1), false},
    {"[in_i]", "0.0254", dims(1, 0, 0), false},
    {"[ft_i]", "0.3048", dims(1, 0, 0), false},
    {"[yd_i]", "0.9144", dims(1, 0, 0), false},
    {"[mi_i]", "1609.344", dims(1, 0, 0), false},
    {"[lb_av]", "453.59237", dims(0, 1, 0), false},
    {"[oz_av]", "28.349523125", dims(0, 1, 0), false},
    {"[gal_us]", "0.003785411784", dims(3, 0, 0), false},
    {"[pt_us]", "0.000473176473", dims(3, 0, 0), false},
    {"[foz_us]", "0.0000295735295625", dims(3, 0, 0), false},
    {"%", "0.01", dims(0, 0, 0), false},
    {"[ppm]", "0.000001", dims(0, 0, 0), false},
}};

struct Prefix {
    std::string_view code;
    std::string_view factor;
};

// Two-character prefixes first so "da" wins over "d".
constexpr std::array<Prefix, 21> prefixes{{
    {"da", "10"},       {"\xCE\xBC", "0.000001"}, {"\xC2\xB5", "0.000001"},
    {"Y", "1E24"},      {"Z", "1E21"},           {"E", "1E18"},       {"P", "1E15"},
    {"T", "1E12"},      {"G", "1E9"},            {"M", "1E6"},        {"k", "1000"},
    {"h", "100"},       {"d", "0.1"},            {"c", "0.01"},       {"m", "0.001"},
    {"u", "0.000001"},  {"n", "1E-9"},           {"p", "1E-12"},      {"f", "1E-15"},
    {"a", "1E-18"},     {"z", "1E-21"},
}};

struct Keyword {
    std::string_view word;
    std::string_view ucum;  // the same duration in UCUM (year/month: only for '~')
    bool definite;
};

constexpr std::array<Keyword, 16> keywords{{
    {"year", "a", false},          {"years", "a", false},          {"month", "mo", false},
    {"months", "mo", false},       {"week", "wk", true},           {"weeks", "wk", true},
    {"day", "d", true},            {"days", "d", true},            {"hour", "h", true},
    {"hours", "h", true},          {"minute", "min", true},        {"minutes", "min", true},
    {"second", "s", true},         {"seconds", "s", true},         {"millisecond", "ms", true},
    {"milliseconds", "ms", true},
}};

const Keyword* find_keyword(std::string_view unit) {
    for (const Keyword& k : keywords) {
        if (k.word == unit) return &k;
    }
    return nullptr;
}

Decimal constant(std::string_view text) { return Decimal::parse(text).value_or(Decimal::from_integer(1)); }

}  // namespace

// ---- unit expressions ---------------------------------------------------------------------------

namespace {

struct Term {
    std::string code;  // prefix and atom as written: "cm", "[in_i]", "10*3"
    int exponent;
};

// A parsed unit: value in base units = value * num / den.
struct UnitInfo {
    Decimal num = Decimal::from_integer(1), den = Decimal::from_integer(1);
    Dims dims{};
    std::vector<Term> terms;
};

struct AtomMatch {
    Decimal factor;
    Dims dims;
};

std::optional<AtomMatch> find_atom(std::string_view symbol) {
    for (const Atom& a : atoms) {
        if (a.code == symbol) return AtomMatch{constant(a.factor), a.dims};
    }
    for (const Prefix& p : prefixes) {
        if (symbol.size() <= p.code.size() || symbol.substr(0, p.code.size()) != p.code) continue;
        const auto rest = symbol.substr(p.code.size());
        for (const Atom& a : atoms) {
            if (a.metric && a.code == rest) {
                const auto f = multiply(constant(p.factor), constant(a.factor));
                if (f) return AtomMatch{*f, a.dims};
            }
        }
    }
    return std::nullopt;
}

// "10*3", "10^-2" or a plain positive integer used as a unit factor.
std::optional<AtomMatch> find_number(std::string_view symbol) {
    std::string text;
    if (symbol.size() > 3 && (symbol.substr(0, 3) == "10*" || symbol.substr(0, 3) == "10^")) {
        text = "1E" + std::string(symbol.substr(3));
    } else {
        text = std::string(symbol);
        if (text.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    }
    const auto d = Decimal::parse(text);
    if (!d || d->is_zero() || d->is_negative()) return std::nullopt;
    return AtomMatch{*d, Dims{}};
}

class UnitParser {
public:
    explicit UnitParser(std::string_view s) : s_(s) {}

    std::optional<UnitInfo> parse() {
        UnitInfo info;
        if (!expression(info, 1, 0) || i_ != s_.size()) return std::nullopt;
        return info;
    }

private:
    bool at(char c) const { return i_ < s_.size() && s_[i_] == c; }

    bool expression(UnitInfo& info, int sign, int depth) {
        if (depth > 4) return false;
        int next = sign;
        if (at('/')) {  // "/min"
            ++i_;
            next = -sign;
        }
        for (;;) {
            if (!term(info, next, depth)) return false;
            if (at('.')) {
                next = sign;
            } else if (at('/')) {
                next = -sign;
            } else {
                return true;
            }
            ++i_;
        }
    }

    bool term(UnitInfo& info, int sign, int depth) {
        if (at('(')) {
            ++i_;
            if (!expression(info, sign, depth + 1) || !at(')')) return false;
            ++i_;
            return annotation();
        }
        if (at('{')) return annotation();  // an annotation alone means 1
        const std::size_t start = i_;
        int brackets = 0;
        while (i_ < s_.size()) {
            const char c = s_[i_];
            if (c == '[') ++brackets;
            if (c == ']') --brackets;
            if (brackets == 0 && (c == '.' || c == '/' || c == '(' || c == ')' || c == '{')) break;
            ++i_;
        }
        if (brackets != 0 || i_ == start) return false;
        return symbol(info, s_.substr(start, i_ - start), sign) && annotation();
    }

    bool annotation() {
        if (!at('{')) return true;
        const auto close = s_.find('}', i_);
        if (close == std::string_view::npos) return false;
        i_ = close + 1;
        return true;
    }

    static bool symbol(UnitInfo& info, std::string_view sym, int sign) {
        if (const auto n = find_number(sym)) return apply(info, *n, std::string(sym), sign);
        // A trailing signed integer outside brackets is the exponent: "cm2", "s-1".
        std::size_t cut = sym.size();
        while (cut > 0 && sym[cut - 1] >= '0' && sym[cut - 1] <= '9') --cut;
        if (cut > 0 && cut < sym.size() && (sym[cut - 1] == '-' || sym[cut - 1] == '+')) --cut;
        int exponent = 1;
        if (cut < sym.size()) {
            const auto e = Decimal::parse(sym.substr(cut));
            const auto v = e ? e->to_integer() : std::nullopt;
            if (!v || *v == 0 || *v > 9 || *v < -9 || cut == 0) return false;
            exponent = static_cast<int>(*v);
        }
        const auto atom = find_atom(sym.substr(0, cut));
        if (!atom) return false;
        for (int k = 0; k < (exponent < 0 ? -exponent : exponent); ++k) {
            if (!apply(info, *atom, std::string(sym.substr(0, cut)), exponent < 0 ? -sign : sign)) return false;
        }
        return true;
    }

    static bool apply(UnitInfo& info, const AtomMatch& atom, std::string code, int sign) {
        Decimal& side = sign > 0 ? info.num : info.den;
        const auto f = multiply(side, atom.factor);
        if (!f) return false;
        side = *f;
        for (std::size_t d = 0; d < dimension_count; ++d) info.dims[d] += sign * atom.dims[d];
        info.terms.push_back({std::move(code), sign});
        return true;
    }

    std::string_view s_;
    std::size_t i_ = 0;
};

// nullopt for a unit this table does not know; such units compare only with the same text.
std::optional<UnitInfo> unit_info(std::string_view unit) {
    if (const Keyword* k = find_keyword(unit)) {
        if (k->definite) return unit_info(k->ucum);
        UnitInfo info;
        info.dims = dims(0, 0, 0, 0, 0, 0, 1);
        info.num = Decimal::from_integer(k->ucum == "a" ? 12 : 1);
        info.terms.push_back({std::string(k->ucum), 1});
        return info;
    }
    if (unit.empty() || unit == "1") return UnitInfo{};
    return UnitParser(unit).parse();
}

}  // namespace

// ---- conversion ---------------------------------------------------------------------------------

namespace {

// Factor taking values in `from` to values in `to`, as numerator and denominator.
struct Ratio {
    Decimal num, den;
};

std::optional<Ratio> ratio(std::string_view from, std::string_view to) {
    if (from == to) return Ratio{Decimal::from_integer(1), Decimal::from_integer(1)};
    const auto a = unit_info(from), b = unit_info(to);
    if (!a || !b || a->dims != b->dims) return std::nullopt;
    const auto num = multiply(a->num, b->den), den = multiply(a->den, b->num);
    if (!num || !den || den->is_zero()) return std::nullopt;
    return Ratio{*num, *den};
}

// The ratio as one exact decimal, when it has one (0.001, 12) and not 1/12.
std::optional<Decimal> exact(const Ratio& r) {
    const auto q = divide(r.num, r.den, 30);
    if (!q) return std::nullopt;
    const auto back = multiply(*q, r.den);
    if (!back || !(*back == r.num)) return std::nullopt;
    return q;
}

std::optional<Decimal> convert_value(const Decimal& v, const Ratio& r) {
    if (const auto e = exact(r)) return multiply(v, *e);  // keeps the written precision: 4040 g = 4.040 kg
    const auto n = multiply(v, r.num);
    return n ? divide(*n, r.den) : std::nullopt;
}

// -1/0/1 comparing the sizes of the two units (both known, same dimension).
std::optional<int> compare_units(std::string_view a, std::string_view b) {
    const auto r = ratio(a, b);
    if (!r) return std::nullopt;
    return compare(r->num, r->den);
}

}  // namespace

Quantity::Quantity(Decimal value, std::string unit) : value_(value), unit_(std::move(unit)) {
    if (unit_.empty()) unit_ = "1";
}

std::optional<Quantity> Quantity::parse(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size() && (text[i] == '+' || text[i] == '-' || text[i] == '.' || (text[i] >= '0' && text[i] <= '9'))) ++i;
    const auto value = Decimal::parse(text.substr(0, i));
    if (!value) return std::nullopt;
    while (i < text.size() && text[i] == ' ') ++i;
    const auto rest = text.substr(i);
    if (rest.empty()) return Quantity(*value, "1");
    if (rest.front() == '\'') {
        if (rest.size() < 3 || rest.back() != '\'') return std::nullopt;
        const auto unit = rest.substr(1, rest.size() - 2);
        if (unit.find('\'') != std::string_view::npos) return std::nullopt;
        return Quantity(*value, std::string(unit));
    }
    if (!find_keyword(rest)) return std::nullopt;  // '1 wk' is no quantity: UCUM needs quotes
    return Quantity(*value, std::string(rest));
}

bool Quantity::is_calendar_unit() const { return find_keyword(unit_) != nullptr; }

std::string Quantity::to_string() const {
    if (is_calendar_unit()) return value_.to_string() + " " + unit_;
    return value_.to_string() + " '" + unit_ + "'";
}

std::optional<Quantity> Quantity::convert_to(std::string_view unit) const {
    const auto r = ratio(unit_, unit);
    if (!r) return std::nullopt;
    const auto v = convert_value(value_, *r);
    if (!v) return std::nullopt;
    return Quantity(*v, std::string(unit));
}

bool Quantity::comparable(const Quantity& other) const { return ratio(unit_, other.unit_).has_value(); }

std::optional<int> compare(const Quantity& a, const Quantity& b) {
    const auto r = ratio(b.unit(), a.unit());
    if (!r) return std::nullopt;
    // b in a's unit is b * num / den: compare a * den with b * num, all exact.
    const auto lhs = multiply(a.value(), r->den), rhs = multiply(b.value(), r->num);
    if (!lhs || !rhs) return std::nullopt;
    return compare(*lhs, *rhs);
}

std::optional<bool> equal(const Quantity& a, const Quantity& b) {
    const auto c = compare(a, b);
    if (!c) return std::nullopt;
    return *c == 0;
}

namespace {

// For '~' a calendar year/month is the UCUM one.
Quantity definite(const Quantity& q) {
    const Keyword* k = find_keyword(q.unit());
    return k ? Quantity(q.value(), std::string(k->ucum)) : q;
}

}  // namespace

bool equivalent(const Quantity& x, const Quantity& y) {
    const Quantity a = definite(x), b = definite(y);
    // Compared in the coarser unit, so the finer value is rounded to the coarser one's digits.
    const auto order = compare_units(a.unit(), b.unit());
    if (!order) return false;
    const Quantity& coarse = *order >= 0 ? a : b;
    const Quantity& fine = *order >= 0 ? b : a;
    const auto converted = fine.convert_to(coarse.unit());
    return converted && equivalent(coarse.value(), converted->value());
}

// ---- arithmetic ---------------------------------------------------------------------------------

namespace {

// Same-unit terms merged and written back as UCUM ("cm2", "g/m", "1"); nullopt when the
// result would be ambiguous ("10*3" squared).
std::optional<std::string> render(const std::vector<Term>& terms) {
    std::vector<Term> merged;
    for (const Term& t : terms) {
        if (t.code == "1") continue;
        auto it = merged.begin();
        while (it != merged.end() && it->code != t.code) ++it;
        if (it == merged.end()) {
            merged.push_back(t);
        } else {
            it->exponent += t.exponent;
        }
    }
    std::string num, den;
    for (const Term& t : merged) {
        if (t.exponent == 0) continue;
        const int e = t.exponent < 0 ? -t.exponent : t.exponent;
        if (e != 1 && t.code.back() >= '0' && t.code.back() <= '9') return std::nullopt;
        std::string& side = t.exponent > 0 ? num : den;
        if (t.exponent > 0 && !side.empty()) side += '.';
        if (t.exponent < 0) side += '/';
        side += t.code;
        if (e != 1) side += std::to_string(e);
    }
    if (num.empty() && den.empty()) return "1";
    return num + den;
}

std::string wrap(const std::string& unit) {
    return unit.find_first_of("./") == std::string::npos ? unit : "(" + unit + ")";
}

// The unit of a * b (sign +1) or a / b (sign -1).
std::string combine(const std::string& a, const std::string& b, int sign) {
    if (b == "1") return a;
    if (a == "1" && sign > 0) return b;
    const auto ia = unit_info(a), ib = unit_info(b);
    if (ia && ib) {
        std::vector<Term> terms = ia->terms;
        for (Term t : ib->terms) terms.push_back({t.code, t.exponent * sign});
        if (auto r = render(terms)) return *r;
    }
    return wrap(a) + (sign > 0 ? "." : "/") + wrap(b);
}

// b expressed in a's unit when that is exact (so 'cm' * 'm' gives 'cm2'); b itself otherwise.
Quantity in_unit_of(const Quantity& b, const std::string& unit) {
    if (b.unit() == unit || unit == "1") return b;
    const auto r = ratio(b.unit(), unit);
    const auto e = r ? exact(*r) : std::nullopt;
    const auto v = e ? multiply(b.value(), *e) : std::nullopt;
    return v ? Quantity(*v, unit) : b;
}

}  // namespace

std::optional<Quantity> add(const Quantity& a, const Quantity& b) {
    if (!a.comparable(b)) return std::nullopt;
    // Prefer the unit both convert to exactly: 1 'kg' + 500 'g' = 1.5 'kg', 1 week + 1 day = 8 day.
    Quantity x = a, y = in_unit_of(b, a.unit());
    if (y.unit() != a.unit()) {
        x = in_unit_of(a, b.unit());
        y = b;
    }
    if (x.unit() != y.unit()) {
        const auto converted = b.convert_to(a.unit());
        if (!converted) return std::nullopt;
        x = a;
        y = *converted;
    }
    const auto v = add(x.value(), y.value());
    if (!v) return std::nullopt;
    return Quantity(*v, x.unit());
}

std::optional<Quantity> subtract(const Quantity& a, const Quantity& b) {
    return add(a, Quantity(b.value().negated(), b.unit()));
}

std::optional<Quantity> multiply(const Quantity& a, const Quantity& b) {
    const Quantity y = in_unit_of(b, a.unit());
    const auto v = multiply(a.value(), y.value());
    if (!v) return std::nullopt;
    return Quantity(*v, combine(a.unit(), y.unit(), 1));
}

std::optional<Quantity> divide(const Quantity& a, const Quantity& b) {
    const Quantity y = in_unit_of(b, a.unit());
    const auto v = divide(a.value(), y.value());
    if (!v) return std::nullopt;
    return Quantity(*v, combine(a.unit(), y.unit(), -1));
}

}  // namespace helsebro::fhir::fhirpath
