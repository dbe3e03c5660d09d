#include "fhir/fhirpath/temporal.hpp"

#include <array>

#include "fhir/fhirpath/quantity.hpp"

namespace helsebro::fhir::fhirpath {

namespace {

constexpr std::int64_t ms_per_minute = 60'000;
constexpr std::int64_t ms_per_hour = 3'600'000;
constexpr std::int64_t ms_per_day = 86'400'000;
constexpr int min_year = 1, max_year = 9999;
// The extreme UTC offsets in use; a value without offset may carry any of them.
constexpr int max_east_minutes = 14 * 60, max_west_minutes = 12 * 60;

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
    static constexpr std::array<int, 12> days{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[static_cast<std::size_t>(m - 1)];
}

// Proleptic Gregorian day number relative to 1970-01-01 (H. Hinnant's algorithm).
std::int64_t days_from_civil(int y, int m, int d) {
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const int yoe = y - era * 400;
    const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return std::int64_t{era} * 146097 + doe - 719468;
}

struct Civil {
    int y, m, d;
};

Civil civil_from_days(std::int64_t z) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<int>(z - era * 146097);
    const int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int mp = (5 * doy + 2) / 153;
    const int d = doy - (153 * mp + 2) / 5 + 1;
    const int m = mp < 10 ? mp + 3 : mp - 9;
    return {static_cast<int>(era * 400 + yoe + (m <= 2)), m, d};
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Smallest unit a value of this precision resolves, in milliseconds (time-of-day precisions).
std::int64_t unit_ms(Precision p) {
    switch (p) {
        case Precision::hour: return ms_per_hour;
        case Precision::minute: return ms_per_minute;
        case Precision::second: return 1000;
        default: return 1;
    }
}

// Seconds and milliseconds count as one precision when comparing (spec §6.1.1/§6.2).
Precision comparison_precision(Precision p) { return p == Precision::second ? Precision::millisecond : p; }

class Cursor {
public:
    explicit Cursor(std::string_view s) : s_(s) {}
    bool at_end() const { return i_ == s_.size(); }
    bool eat(char c) {
        if (at_end() || s_[i_] != c) return false;
        ++i_;
        return true;
    }
    char peek() const { return at_end() ? '\0' : s_[i_]; }
    // Exactly `n` digits within [lo, hi].
    std::optional<int> number(int n, int lo, int hi) {
        if (s_.size() - i_ < static_cast<std::size_t>(n)) return std::nullopt;
        int v = 0;
        for (int k = 0; k < n; ++k, ++i_) {
            const char c = s_[i_];
            if (c < '0' || c > '9') return std::nullopt;
            v = v * 10 + (c - '0');
        }
        if (v < lo || v > hi) return std::nullopt;
        return v;
    }
    // One or more digits read as a fraction of a second, kept to milliseconds (truncated).
    std::optional<int> fraction_ms() {
        int v = 0, digits = 0;
        while (!at_end() && s_[i_] >= '0' && s_[i_] <= '9') {
            if (digits < 3) v = v * 10 + (s_[i_] - '0');
            ++digits;
            ++i_;
        }
        if (digits == 0) return std::nullopt;
        for (; digits < 3; ++digits) v *= 10;
        return v;
    }

private:
    std::string_view s_;
    std::size_t i_ = 0;
};

void append_number(std::string& out, int v, int width) {
    std::string digits = std::to_string(v < 0 ? -v : v);
    if (v < 0) out += '-';
    if (static_cast<int>(digits.size()) < width) out.append(width - digits.size(), '0');
    out += digits;
}

}  // namespace

// ---- parsing and printing ------------------------------------------------------------------------

namespace {

struct TimeFields {
    int hour = 0, minute = 0, second = 0, millisecond = 0;
    Precision precision = Precision::hour;
};

// hh[:mm[:ss[.fff]]]
std::optional<TimeFields> parse_time_part(Cursor& c) {
    TimeFields f;
    const auto h = c.number(2, 0, 23);
    if (!h) return std::nullopt;
    f.hour = *h;
    if (!c.eat(':')) return f;
    const auto mi = c.number(2, 0, 59);
    if (!mi) return std::nullopt;
    f.minute = *mi;
    f.precision = Precision::minute;
    if (!c.eat(':')) return f;
    const auto s = c.number(2, 0, 59);
    if (!s) return std::nullopt;
    f.second = *s;
    f.precision = Precision::second;
    if (!c.eat('.')) return f;
    const auto ms = c.fraction_ms();
    if (!ms) return std::nullopt;
    f.millisecond = *ms;
    f.precision = Precision::millisecond;
    return f;
}

std::optional<int> parse_offset(Cursor& c) {
    if (c.eat('Z')) return 0;
    const char sign = c.peek();
    if (sign != '+' && sign != '-') return std::nullopt;
    c.eat(sign);
    const auto h = c.number(2, 0, 14);
    if (!h || !c.eat(':')) return std::nullopt;
    const auto m = c.number(2, 0, 59);
    if (!m || (*h == 14 && *m != 0)) return std::nullopt;
    const int minutes = *h * 60 + *m;
    return sign == '-' ? -minutes : minutes;
}

}  // namespace

std::optional<Temporal> Temporal::parse(Kind kind, std::string_view text) {
    Temporal t;
    t.kind_ = kind;
    Cursor c(text);
    if (kind != Kind::time) {
        const auto y = c.number(4, min_year, max_year);
        if (!y) return std::nullopt;
        t.year_ = *y;
        if (c.eat('-')) {
            const auto m = c.number(2, 1, 12);
            if (!m) return std::nullopt;
            t.month_ = *m;
            t.precision_ = Precision::month;
            if (c.eat('-')) {
                const auto d = c.number(2, 1, days_in_month(t.year_, t.month_));
                if (!d) return std::nullopt;
                t.day_ = *d;
                t.precision_ = Precision::day;
            }
        }
        if (kind == Kind::date) return c.at_end() ? std::optional<Temporal>(t) : std::nullopt;
        if (!c.eat('T') || c.at_end()) return c.at_end() ? std::optional<Temporal>(t) : std::nullopt;
        if (t.precision_ != Precision::day) return std::nullopt;  // a time needs a full date
    }
    const auto f = parse_time_part(c);
    if (!f) return std::nullopt;
    t.hour_ = f->hour;
    t.minute_ = f->minute;
    t.second_ = f->second;
    t.millisecond_ = f->millisecond;
    t.precision_ = f->precision;
    if (kind == Kind::datetime && !c.at_end()) {
        t.offset_ = parse_offset(c);
        if (!t.offset_) return std::nullopt;
    }
    return c.at_end() ? std::optional<Temporal>(t) : std::nullopt;
}

Temporal Temporal::from_time_point(std::chrono::system_clock::time_point tp, int offset_minutes) {
    if (offset_minutes < -max_west_minutes || offset_minutes > max_east_minutes) offset_minutes = 0;
    const auto utc_ms = std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count();
    const std::int64_t local = utc_ms + std::int64_t{offset_minutes} * ms_per_minute;
    const std::int64_t days = floor_div(local, ms_per_day);
    const std::int64_t in_day = local - days * ms_per_day;
    const Civil c = civil_from_days(days);
    Temporal t;
    t.kind_ = Kind::datetime;
    t.precision_ = Precision::millisecond;
    t.offset_ = offset_minutes;
    t.year_ = c.y;
    t.month_ = c.m;
    t.day_ = c.d;
    t.hour_ = static_cast<int>(in_day / ms_per_hour);
    t.minute_ = static_cast<int>(in_day / ms_per_minute % 60);
    t.second_ = static_cast<int>(in_day / 1000 % 60);
    t.millisecond_ = static_cast<int>(in_day % 1000);
    return t;
}

std::string Temporal::to_string() const {
    std::string out;
    const auto p = precision_;
    if (kind_ != Kind::time) {
        append_number(out, year_, 4);
        if (p >= Precision::month) append_number(out += '-', month_, 2);
        if (p >= Precision::day) append_number(out += '-', day_, 2);
        if (kind_ == Kind::date || p <= Precision::day) return out;
        out += 'T';
    }
    append_number(out, hour_, 2);
    if (p >= Precision::minute) append_number(out += ':', minute_, 2);
    if (p >= Precision::second) append_number(out += ':', second_, 2);
    if (p >= Precision::millisecond) append_number(out += '.', millisecond_, 3);
    if (kind_ == Kind::datetime && offset_) {
        if (*offset_ == 0) return out + 'Z';
        out += *offset_ < 0 ? '-' : '+';
        const int m = *offset_ < 0 ? -*offset_ : *offset_;
        append_number(out, m / 60, 2);
        append_number(out += ':', m % 60, 2);
    }
    return out;
}

int Temporal::precision_digits() const {
    static constexpr std::array<int, 7> date_digits{4, 6, 8, 10, 12, 14, 17};
    static constexpr std::array<int, 7> time_digits{0, 0, 0, 2, 4, 6, 9};
    const auto i = static_cast<std::size_t>(precision_);
    return kind_ == Kind::time ? time_digits[i] : date_digits[i];
}

// ---- comparison ------------------------------------------------------------------------------------

namespace {

// The span of UTC milliseconds (or milliseconds of the day for a Time) a value may stand for.
struct Span {
    std::int64_t low, high;
};

}  // namespace

std::int64_t Temporal::local_ms() const {
    const std::int64_t time = hour_ * ms_per_hour + minute_ * ms_per_minute + second_ * 1000 + millisecond_;
    if (kind_ == Kind::time) return time;
    return days_from_civil(year_, month_, day_) * ms_per_day + time;
}

std::optional<int> compare(const Temporal& a, const Temporal& b) {
    using Kind = Temporal::Kind;
    if ((a.kind_ == Kind::time) != (b.kind_ == Kind::time)) return std::nullopt;
    auto span = [](Temporal t, bool widen) {
        t.precision_ = comparison_precision(t.precision_);  // 10:30:00 is 10:30:00.000
        const std::int64_t shift = t.offset_ ? *t.offset_ * ms_per_minute : 0;
        Span s{t.start().local_ms() - shift, t.end().local_ms() - shift};
        if (widen) {  // an unknown offset: anywhere from UTC-12:00 to UTC+14:00
            s.low -= max_east_minutes * ms_per_minute;
            s.high += max_west_minutes * ms_per_minute;
        }
        return s;
    };
    const bool widen_a = !a.offset_ && b.offset_, widen_b = a.offset_ && !b.offset_;
    const Span sa = span(a, widen_a), sb = span(b, widen_b);
    if (sa.high < sb.low) return -1;
    if (sa.low > sb.high) return 1;
    const bool same_precision = comparison_precision(a.precision_) == comparison_precision(b.precision_);
    if (!widen_a && !widen_b && same_precision && sa.low == sb.low) return 0;
    return std::nullopt;
}

std::optional<bool> equal(const Temporal& a, const Temporal& b) {
    using Kind = Temporal::Kind;
    if ((a.kind_ == Kind::time) != (b.kind_ == Kind::time)) return false;
    const auto c = compare(a, b);
    if (!c) return std::nullopt;
    return *c == 0;
}

bool equivalent(const Temporal& a, const Temporal& b) {
    if (comparison_precision(a.precision_) != comparison_precision(b.precision_)) return false;
    const auto c = compare(a, b);
    return c && *c == 0;
}

// ---- boundaries ------------------------------------------------------------------------------------

Temporal Temporal::start() const {
    Temporal t = *this;
    const auto p = precision_;
    if (p < Precision::month) t.month_ = 1;
    if (p < Precision::day) t.day_ = 1;
    if (p < Precision::hour) t.hour_ = 0;
    if (p < Precision::minute) t.minute_ = 0;
    if (p < Precision::second) t.second_ = 0;
    if (p < Precision::millisecond) t.millisecond_ = 0;
    return t;
}

Temporal Temporal::end() const {
    Temporal t = *this;
    const auto p = precision_;
    if (p < Precision::month) t.month_ = 12;
    if (p < Precision::day) t.day_ = days_in_month(t.year_, t.month_);
    if (p < Precision::hour) t.hour_ = 23;
    if (p < Precision::minute) t.minute_ = 59;
    if (p < Precision::second) t.second_ = 59;
    if (p < Precision::millisecond) t.millisecond_ = 999;
    return t;
}

namespace {

std::optional<Precision> precision_from_digits(Temporal::Kind kind, std::optional<int> digits) {
    using Kind = Temporal::Kind;
    if (!digits) return kind == Kind::date ? Precision::day : Precision::millisecond;
    if (kind == Kind::time) {
        switch (*digits) {
            case 2: return Precision::hour;
            case 4: return Precision::minute;
            case 6: return Precision::second;
            case 9: return Precision::millisecond;
            default: return std::nullopt;
        }
    }
    switch (*digits) {
        case 4: return Precision::year;
        case 6: return Precision::month;
        case 8: return Precision::day;
        default: break;
    }
    switch (*digits) {
        case 10: return Precision::hour;
        case 12: return Precision::minute;
        case 14: return Precision::second;
        case 17: return Precision::millisecond;
        default: return std::nullopt;
    }
}

}  // namespace

std::optional<Temporal> Temporal::boundary(std::optional<int> digits, bool high) const {
    const auto target = precision_from_digits(kind_, digits);
    if (!target) return std::nullopt;
    Temporal src = *this;
    // The suite reads an hour-only DateTime (not valid FHIR) as hh:00, so T08 ends at 08:00:59.999.
    if (kind_ == Kind::datetime && src.precision_ == Precision::hour) src.precision_ = Precision::minute;
    Temporal t = high ? src.end() : src.start();
    t.precision_ = *target;
    t = t.start();  // components below the target precision are not part of the result
    t.precision_ = *target;
    if (kind_ == Kind::date && *target > Precision::day) t.kind_ = Kind::datetime;
    // A Date has no zone: its boundaries stay local, and compare() lets zone-less values span
    // every offset anyway.
    if (kind_ != Kind::datetime || *target < Precision::hour) {
        t.offset_.reset();
    } else if (!t.offset_) {
        t.offset_ = high ? -max_west_minutes : max_east_minutes;
    }
    return t;
}

std::optional<Temporal> Temporal::low_boundary(std::optional<int> precision) const { return boundary(precision, false); }
std::optional<Temporal> Temporal::high_boundary(std::optional<int> precision) const { return boundary(precision, true); }

Temporal Temporal::as_datetime() const {
    Temporal t = *this;
    if (kind_ == Kind::date) t.kind_ = Kind::datetime;
    return t;
}

Temporal Temporal::as_date() const {
    if (kind_ != Kind::datetime) return *this;
    Temporal t = *this;
    t.kind_ = Kind::date;
    if (t.precision_ > Precision::day) t.precision_ = Precision::day;
    t.offset_.reset();
    return t.start();
}

// ---- arithmetic ------------------------------------------------------------------------------------

std::optional<Temporal::Step> Temporal::to_step(const Quantity& q) {
    struct Row {
        std::string_view name;
        StepUnit unit;
        std::int64_t factor;
    };
    using enum StepUnit;
    static constexpr std::array<Row, 22> rows{{
        {"year", years, 1},           {"years", years, 1},           {"month", months, 1},
        {"months", months, 1},        {"week", days, 7},             {"weeks", days, 7},
        {"wk", days, 7},              {"day", days, 1},              {"days", days, 1},
        {"d", days, 1},               {"hour", millis, ms_per_hour}, {"hours", millis, ms_per_hour},
        {"h", millis, ms_per_hour},   {"minute", millis, ms_per_minute}, {"minutes", millis, ms_per_minute},
        {"min", millis, ms_per_minute}, {"second", millis, 1000},    {"seconds", millis, 1000},
        {"s", millis, 1000},          {"millisecond", millis, 1},    {"milliseconds", millis, 1},
        {"ms", millis, 1},
    }};
    // Beyond this any result leaves the year range; keeps the products below 2^63.
    constexpr std::int64_t max_amount = 1'000'000'000'000;
    for (const Row& r : rows) {
        if (r.name != q.unit()) continue;
        // The suite truncates every unit, seconds included (+ 0.1 's' changes nothing).
        const auto n = q.value().truncated().to_integer();
        if (!n || *n > max_amount || *n < -max_amount) return std::nullopt;
        return Step{r.unit, *n * r.factor};
    }
    return std::nullopt;  // 'a' and 'mo' too: not calendar durations
}

std::optional<Temporal> Temporal::plus(const Quantity& q) const {
    const auto step = to_step(q);
    if (!step) return std::nullopt;
    return add_step(*step);
}

std::optional<Temporal> Temporal::minus(const Quantity& q) const {
    return plus(Quantity(q.value().negated(), q.unit()));
}

// Steps finer than the value's precision are first converted to its precision and truncated.
std::optional<Temporal> Temporal::add_step(Step step) const {
    constexpr std::int64_t max_days = 10'000'000;  // more than the whole year range
    const std::int64_t n = step.amount;
    if (kind_ == Kind::time) {
        if (step.unit != StepUnit::millis) return std::nullopt;
        const std::int64_t unit = unit_ms(precision_);
        const std::int64_t moved = local_ms() + n / unit * unit;
        Temporal t = *this;
        t.set_time_of_day(moved - floor_div(moved, ms_per_day) * ms_per_day);  // wraps around midnight
        return t;
    }
    switch (step.unit) {
        case StepUnit::years: return add_months(n * 12);
        case StepUnit::months: return add_months(n);
        case StepUnit::days:
            if (precision_ == Precision::year) return add_months(n / 365 * 12);
            if (precision_ == Precision::month) return add_months(n / 30);
            if (n > max_days || n < -max_days) return std::nullopt;
            return add_millis(n * ms_per_day);
        case StepUnit::millis: break;
    }
    if (precision_ <= Precision::day) return add_step({StepUnit::days, n / ms_per_day});
    return add_millis(n / unit_ms(precision_) * unit_ms(precision_));
}

std::optional<Temporal> Temporal::add_months(std::int64_t months) const {
    if (precision_ == Precision::year) months = months / 12 * 12;
    const std::int64_t total = std::int64_t{year_} * 12 + (month_ - 1) + months;
    const std::int64_t y = floor_div(total, 12);
    if (y < min_year || y > max_year) return std::nullopt;
    Temporal t = *this;
    t.year_ = static_cast<int>(y);
    t.month_ = static_cast<int>(total - y * 12) + 1;
    const int last = days_in_month(t.year_, t.month_);
    if (t.day_ > last) t.day_ = last;  // 2012-01-31 + 1 month = 2012-02-29
    return t;
}

std::optional<Temporal> Temporal::add_millis(std::int64_t ms) const {
    const std::int64_t moved = local_ms() + ms;  // callers keep |ms| below 10^18
    const std::int64_t days = floor_div(moved, ms_per_day);
    const Civil c = civil_from_days(days);
    if (c.y < min_year || c.y > max_year) return std::nullopt;
    Temporal t = *this;
    t.year_ = c.y;
    t.month_ = c.m;
    t.day_ = c.d;
    t.set_time_of_day(moved - days * ms_per_day);
    return t;
}

void Temporal::set_time_of_day(std::int64_t ms) {
    hour_ = static_cast<int>(ms / ms_per_hour);
    minute_ = static_cast<int>(ms / ms_per_minute % 60);
    second_ = static_cast<int>(ms / 1000 % 60);
    millisecond_ = static_cast<int>(ms % 1000);
}

}  // namespace helsebro::fhir::fhirpath
