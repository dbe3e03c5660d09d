// FHIRPath Date, DateTime and Time with partial precision (@2014, @2014-01-05T10:30, @T10:30) and
// optional time-zone offsets. Comparing values of different precision can be undecidable: such a
// comparison gives nullopt, which FHIRPath turns into an empty result.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace helsebro::fhir::fhirpath {

class Quantity;

// Precision is the last component present. FHIRPath's precision() counts digits: year 4, month 6,
// day 8, hour 10, minute 12, second 14, millisecond 17 (for Time: hour 2, minute 4, second 6, ms 9).
enum class Precision : unsigned char { year, month, day, hour, minute, second, millisecond };

class Temporal {
public:
    enum class Kind : unsigned char { date, datetime, time };

    // FHIR/FHIRPath text without the leading '@':
    //   date     "2014", "2014-01", "2014-01-05"
    //   datetime "2014-01-05T10:30:00.123+01:00", "2014-01-05T10", "2014T" and "2014-01T" (literal
    //            forms of a partial DateTime), "2015-02-04T14:34:28Z"; fractional seconds of any
    //            length are kept to milliseconds
    //   time     "10:30", "10:30:00.000" (no 'T', no offset: a Time never has one)
    // nullopt when the text is no valid value of that kind (month 13, Feb 30, hour 24, ...).
    static std::optional<Temporal> parse(Kind kind, std::string_view text);
    // A UTC instant as DateTime of millisecond precision with offset `offset_minutes` (for now()).
    static Temporal from_time_point(std::chrono::system_clock::time_point t, int offset_minutes = 0);

    Kind kind() const { return kind_; }
    Precision precision() const { return precision_; }
    std::optional<int> offset_minutes() const { return offset_; }  // nullopt: no zone given
    int year() const { return year_; }
    int month() const { return month_; }
    int day() const { return day_; }
    int hour() const { return hour_; }
    int minute() const { return minute_; }
    int second() const { return second_; }
    int millisecond() const { return millisecond_; }

    // FHIR/FHIRPath text without '@': "2014-01-05", "2014-01-05T10:30:00.000+01:00", "10:30" (a Time
    // without 'T'). A DateTime of year/month/day precision prints as "2014", "2014-01", "2014-01-05"
    // like FHIR JSON does; kind() tells it from a Date.
    std::string to_string() const;

    // -1/0/1, or nullopt when the answer depends on components one side lacks (@2012 vs @2012-01)
    // or when a Time meets a Date/DateTime (a Date compared with a DateTime is compared as
    // DateTime). Offsets are normalised to UTC. When only one side has an offset the other could
    // be anywhere from -12:00 to +14:00, so only a difference larger than that decides (the suite
    // wants @2012-04-15T15:00:00Z = @2012-04-15T10:00:00 empty). Seconds and milliseconds count as
    // one precision (@T10:30:00 = @T10:30:00.0).
    friend std::optional<int> compare(const Temporal& a, const Temporal& b);
    // FHIRPath '=': nullopt when undecidable (as compare); a Time never equals a Date/DateTime.
    friend std::optional<bool> equal(const Temporal& a, const Temporal& b);
    // FHIRPath '~': different precision is simply false.
    friend bool equivalent(const Temporal& a, const Temporal& b);

    // Calendar arithmetic with a time-valued Quantity. 'a' and 'mo' are UCUM definite durations,
    // not calendar ones, and an error here; accepted are the calendar words year, month, week,
    // day, hour, minute, second, millisecond (singular or plural) and UCUM 'wk', 'd', 'h', 'min',
    // 's', 'ms'. The quantity is truncated to a whole number of its unit (the suite: + 7.7 days
    // adds 7 days, + 0.1 's' nothing), then converted down to the value's precision and truncated
    // again (@2014 + 24 months = @2016, a day-precision value + 25 hours moves one day; 30 days
    // count as a month and 365 as a year there). Day overflow clamps (2012-01-31 + 1 month =
    // 2012-02-29). A Time wraps around midnight and takes no unit above hours. nullopt when the
    // unit is not allowed or the result leaves years 1-9999.
    std::optional<Temporal> plus(const Quantity& q) const;
    std::optional<Temporal> minus(const Quantity& q) const;

    // FHIRPath lowBoundary/highBoundary(precision digits) and precision() (digits, as above).
    // A DateTime without offset takes +14:00 for the low and -12:00 for the high boundary: the
    // earliest and latest instants it could mean. The suite reads an hour-only DateTime as hh:00
    // (@2014-01-01T08.highBoundary(17) = @2014-01-01T08:00:59.999-12:00). A Date asked for 10
    // or more digits gives a DateTime without offset (a Date has no zone). nullopt for a digit
    // count that is no precision of this kind.
    std::optional<Temporal> low_boundary(std::optional<int> precision) const;
    std::optional<Temporal> high_boundary(std::optional<int> precision) const;
    int precision_digits() const;

    // Conversions: a Date becomes a DateTime of the same precision; a DateTime a Date (dropping
    // the time, nullopt-free).
    Temporal as_datetime() const;
    Temporal as_date() const;

private:
    enum class StepUnit : unsigned char { years, months, days, millis };
    struct Step {
        StepUnit unit;
        std::int64_t amount;
    };
    static std::optional<Step> to_step(const Quantity& q);
    std::optional<Temporal> add_step(Step step) const;
    std::optional<Temporal> add_months(std::int64_t months) const;
    std::optional<Temporal> add_millis(std::int64_t ms) const;
    void set_time_of_day(std::int64_t ms);

    // Milliseconds since 1970-01-01 of the local (unshifted) components; of the day for a Time.
    std::int64_t local_ms() const;
    // The first and the last millisecond this partial value may stand for.
    Temporal start() const;
    Temporal end() const;
    std::optional<Temporal> boundary(std::optional<int> digits, bool high) const;

    Kind kind_ = Kind::date;
    Precision precision_ = Precision::year;
    std::optional<int> offset_;
    int year_ = 0, month_ = 1, day_ = 1, hour_ = 0, minute_ = 0, second_ = 0, millisecond_ = 0;
};

}  // namespace helsebro::fhir::fhirpath
