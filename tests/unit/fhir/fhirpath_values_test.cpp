#include "fhir/fhirpath/decimal.hpp"
#include "fhir/fhirpath/quantity.hpp"
#include "fhir/fhirpath/temporal.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace fp = helsebro::fhir::fhirpath;
using fp::Decimal;
using fp::Precision;
using fp::Quantity;
using fp::Temporal;
using Kind = fp::Temporal::Kind;

namespace {

Decimal dec(std::string_view text) {
    auto d = Decimal::parse(text);
    EXPECT_TRUE(d.has_value()) << "not a decimal: " << text;
    return d.value_or(Decimal());
}

std::string str(const std::optional<Decimal>& d) { return d ? d->to_string() : "<none>"; }
std::string str(const std::optional<Temporal>& t) { return t ? t->to_string() : "<none>"; }
std::string str(const std::optional<Quantity>& q) { return q ? q->to_string() : "<none>"; }

Temporal date(std::string_view text) {
    auto t = Temporal::parse(Kind::date, text);
    EXPECT_TRUE(t.has_value()) << "not a date: " << text;
    return t.value_or(Temporal());
}

Temporal datetime(std::string_view text) {
    auto t = Temporal::parse(Kind::datetime, text);
    EXPECT_TRUE(t.has_value()) << "not a dateTime: " << text;
    return t.value_or(Temporal());
}

Temporal time_of_day(std::string_view text) {
    auto t = Temporal::parse(Kind::time, text);
    EXPECT_TRUE(t.has_value()) << "not a time: " << text;
    return t.value_or(Temporal());
}

Quantity qty(std::string_view text) {
    auto q = Quantity::parse(text);
    EXPECT_TRUE(q.has_value()) << "not a quantity: " << text;
    return q.value_or(Quantity());
}

}  // namespace

// ==== Decimal =====================================================================================

TEST(FhirPathDecimal, ParsesPlainAndExponentForms) {
    EXPECT_EQ(dec("-12.50").to_string(), "-12.50");
    EXPECT_EQ(dec("0.00000001").to_string(), "0.00000001");
    EXPECT_EQ(dec("1E-22").to_string(), "0.0000000000000000000001");
    EXPECT_EQ(dec("1.0e+2").to_string(), "100");
    EXPECT_EQ(dec("1.5e3").to_string(), "1500");
    EXPECT_EQ(dec("1.25E1").to_string(), "12.5");
    EXPECT_EQ(dec("+7").to_string(), "7");
    EXPECT_EQ(dec("007.50").to_string(), "7.50");
    EXPECT_EQ(dec("1234567890987654321.0").to_string(), "1234567890987654321.0");  // testLiteralDecimalMax
    EXPECT_EQ(dec("-0.0").to_string(), "0.0");
    EXPECT_EQ(dec("0e+50").to_string(), "0");
}

TEST(FhirPathDecimal, RejectsMalformedAndOversizedText) {
    for (std::string_view bad : {"", "-", ".5", "5.", "1.a", "st", "1e", "1e+", "1 ", " 1", "1,5", "0x10",
                                 "1.2.3", "--1", "1e1000000", "1e40", "1234567890123456789012345678901234567"}) {
        EXPECT_FALSE(Decimal::parse(bad).has_value()) << bad;
    }
    EXPECT_TRUE(Decimal::parse("123456789012345678901234567890123456").has_value());  // 36 digits
    EXPECT_FALSE(Decimal::parse("1e-37").has_value());                               // scale beyond 36
}

TEST(FhirPathDecimal, IntegerAndDoubleConversions) {
    EXPECT_EQ(Decimal::from_integer(-42).to_string(), "-42");
    EXPECT_EQ(Decimal::from_integer(INT64_MIN).to_integer(), INT64_MIN);
    EXPECT_EQ(dec("12.000").to_integer(), 12);
    EXPECT_FALSE(dec("12.5").to_integer().has_value());
    EXPECT_FALSE(dec("99999999999999999999").to_integer().has_value());
    EXPECT_TRUE(dec("3.000").is_integer());
    EXPECT_FALSE(dec("3.001").is_integer());
    EXPECT_DOUBLE_EQ(dec("-2.5").to_double(), -2.5);
    EXPECT_EQ(str(Decimal::from_double(9.0)), "9");  // 81.sqrt() = 9.0
    EXPECT_EQ(str(Decimal::from_double(1.0 / 3.0)), "0.33333333");
    EXPECT_EQ(str(Decimal::from_double(6.25)), "6.25");
    EXPECT_EQ(str(Decimal::from_double(-0.000000001)), "0");
    EXPECT_EQ(str(Decimal::from_double(2.0 / 3.0, 3)), "0.667");
    EXPECT_FALSE(Decimal::from_double(std::numeric_limits<double>::quiet_NaN()).has_value());
    EXPECT_FALSE(Decimal::from_double(std::numeric_limits<double>::infinity()).has_value());
    EXPECT_FALSE(Decimal::from_double(1e300).has_value());
}

TEST(FhirPathDecimal, SignAndZero) {
    EXPECT_TRUE(dec("-0.1").is_negative());
    EXPECT_FALSE(dec("0.0").is_negative());
    EXPECT_TRUE(dec("0.000").is_zero());
    EXPECT_EQ(dec("-5.5").abs().to_string(), "5.5");
    EXPECT_EQ(dec("5.5").negated().to_string(), "-5.5");
    EXPECT_EQ(dec("0.0").negated().to_string(), "0.0");
}

TEST(FhirPathDecimal, AddSubtractMultiplyKeepWrittenScale) {
    EXPECT_EQ(str(add(dec("1.2"), dec("1.8"))), "3.0");  // testPlus3: = 3.0
    EXPECT_EQ(str(subtract(dec("1.8"), dec("1.2"))), "0.6");
    EXPECT_EQ(str(multiply(dec("1.2"), dec("1.8"))), "2.16");
    EXPECT_EQ(str(add(dec("0.1"), dec("0.2"))), "0.3");
    EXPECT_TRUE(*add(dec("0.1"), dec("0.2")) == dec("0.3"));
    EXPECT_EQ(str(add(dec("-1.25"), dec("1"))), "-0.25");
    EXPECT_EQ(str(multiply(dec("-2.5"), dec("-2"))), "5.0");
}

TEST(FhirPathDecimal, OverflowGivesNullopt) {
    const Decimal big = dec("999999999999999999999999999999999999");  // 36 nines
    EXPECT_FALSE(add(big, dec("1")).has_value());
    EXPECT_FALSE(subtract(big.negated(), dec("1")).has_value());
    EXPECT_FALSE(multiply(big, big).has_value());
    EXPECT_FALSE(multiply(big, dec("10")).has_value());
    EXPECT_FALSE(add(big, dec("0.1")).has_value());  // aligning scales overflows
    EXPECT_FALSE(divide(big, dec("0.001")).has_value());
    EXPECT_FALSE(divide_truncated(big, dec("0.5")).has_value());
    EXPECT_EQ(str(add(big, dec("-1"))), "999999999999999999999999999999999998");
    // Very small products are rounded at 36 digits after the point instead of failing.
    EXPECT_EQ(str(multiply(dec("1e-20"), dec("1e-20"))), "0.000000000000000000000000000000000000");
}

TEST(FhirPathDecimal, DivisionToEightDigits) {
    EXPECT_EQ(str(divide(dec("1.0"), dec("3"))), "0.33333333");
    EXPECT_EQ(str(divide(dec("2"), dec("3"))), "0.66666667");
    EXPECT_EQ(str(divide(dec("-2"), dec("3"))), "-0.66666667");
    EXPECT_EQ(str(divide(dec("6"), dec("2"))), "3");
    EXPECT_EQ(str(divide(dec("4.0"), dec("2.0"))), "2");  // testDivide3: = 2.0
    EXPECT_EQ(str(divide(dec("1"), dec("2"))), "0.5");
    EXPECT_EQ(str(divide(dec("1.2"), dec("1.8"))), "0.66666667");
    EXPECT_EQ(str(divide(dec("1"), dec("0.0000000001"))), "10000000000");
    EXPECT_EQ(str(divide(dec("0.000000001"), dec("1"))), "0");
    EXPECT_EQ(str(divide(dec("0.000000005"), dec("1"))), "0.00000001");  // half away from zero
    EXPECT_EQ(str(divide(dec("1"), dec("1e-30"))), "1000000000000000000000000000000");
    EXPECT_EQ(str(divide(dec("1e-36"), dec("1e35"))), "0");
    EXPECT_FALSE(divide(dec("1"), dec("0.00")).has_value());  // testDivide6: 1 / 0 is empty
    EXPECT_EQ(str(divide(dec("1"), dec("3"), 20)), "0.33333333333333333333");
    EXPECT_EQ(str(divide(dec("1"), dec("1000000000"), 30)), "0.000000001");
    EXPECT_FALSE(divide(dec("1"), dec("3"), 37).has_value());
}

TEST(FhirPathDecimal, SuiteDivisionRoundTrips) {
    const auto q = divide(dec("1.2"), dec("1.8"));
    ASSERT_TRUE(q);
    EXPECT_TRUE(q->round(2) == dec("0.67"));           // testDivide5
    EXPECT_FALSE(q->round(2) == dec("0.6666667"));     // testNEquality22
    EXPECT_TRUE(equivalent(*q, dec("0.67")));          // testEquivalent11
    EXPECT_TRUE(*divide(dec("4"), dec("2")) == dec("2"));
    EXPECT_TRUE(*divide(dec("1"), dec("1")) == dec("1"));
}

TEST(FhirPathDecimal, DivAndMod) {
    EXPECT_EQ(str(divide_truncated(dec("5"), dec("2"))), "2");
    EXPECT_EQ(str(divide_truncated(dec("2.2"), dec("1.8"))), "1");  // testDiv4
    EXPECT_EQ(str(divide_truncated(dec("-5"), dec("2"))), "-2");
    EXPECT_EQ(str(modulo(dec("5"), dec("2"))), "1");
    EXPECT_EQ(str(modulo(dec("2.2"), dec("1.8"))), "0.4");  // testMod4
    EXPECT_EQ(str(modulo(dec("-5.5"), dec("2"))), "-1.5");
    EXPECT_FALSE(divide_truncated(dec("5"), dec("0")).has_value());  // testDiv5
    EXPECT_FALSE(modulo(dec("5"), dec("0.0")).has_value());          // testMod5
}

TEST(FhirPathDecimal, RoundingHalfAwayFromZero) {
    EXPECT_EQ(dec("3.14159").round(3).to_string(), "3.142");  // testRound2
    EXPECT_EQ(dec("1").round(0).to_string(), "1");
    EXPECT_EQ(dec("2.5").round(0).to_string(), "3");
    EXPECT_EQ(dec("-2.5").round(0).to_string(), "-3");
    EXPECT_EQ(dec("-2.45").round(1).to_string(), "-2.5");
    EXPECT_EQ(dec("0.05").round(1).to_string(), "0.1");
    EXPECT_EQ(dec("1.5").round(3).to_string(), "1.500");
    EXPECT_EQ(dec("1.5").with_scale(-2).to_string(), "2");
    EXPECT_EQ(dec("999999999999999999999999999999999999").with_scale(2).to_string(),
              "999999999999999999999999999999999999");  // no room to pad: unchanged
}

TEST(FhirPathDecimal, TruncateFloorCeiling) {
    EXPECT_EQ(dec("101").truncated().to_string(), "101");        // testTruncate1
    EXPECT_EQ(dec("1.00000001").truncated().to_string(), "1");   // testTruncate2
    EXPECT_EQ(dec("-1.56").truncated().to_string(), "-1");       // testTruncate3
    EXPECT_EQ(dec("2.1").floor().to_string(), "2");              // testFloor2
    EXPECT_EQ(dec("-2.1").floor().to_string(), "-3");            // testFloor3
    EXPECT_EQ(dec("-2.0").floor().to_string(), "-2");
    EXPECT_EQ(dec("1.1").ceiling().to_string(), "2");            // testCeiling3
    EXPECT_EQ(dec("-1.1").ceiling().to_string(), "-1");          // testCeiling2
    EXPECT_EQ(dec("1").ceiling().to_string(), "1");
}

TEST(FhirPathDecimal, ComparisonIgnoresScale) {
    EXPECT_TRUE(dec("1.10") == dec("1.1"));  // testEquality14
    EXPECT_TRUE(dec("0.0") == dec("0"));     // testEquality16
    EXPECT_FALSE(dec("1.1") == dec("1.2"));
    EXPECT_EQ(compare(dec("1.0"), dec("1.2")), -1);
    EXPECT_EQ(compare(dec("1.1"), dec("1.0")), 1);
    EXPECT_EQ(compare(dec("-1.5"), dec("-1.25")), -1);
    EXPECT_EQ(compare(dec("-0.5"), dec("0.5")), -1);
    EXPECT_EQ(compare(dec("185"), dec("180.0")), 1);
    EXPECT_EQ(compare(dec("123456789012345678901234567890123456"), dec("0.000000000000000000000000000000000001")), 1);
    EXPECT_EQ(compare(dec("1e-36"), dec("0")), 1);
}

TEST(FhirPathDecimal, EquivalenceUsesLesserScale) {
    EXPECT_TRUE(equivalent(dec("1.10"), dec("1.1")));  // testEquivalent10
    EXPECT_TRUE(equivalent(dec("0.0"), dec("0")));
    EXPECT_FALSE(equivalent(dec("1.1"), dec("1.2")));
    EXPECT_TRUE(equivalent(dec("4"), dec("4.040")));
    EXPECT_FALSE(equivalent(dec("4"), dec("4.5")));
}

TEST(FhirPathDecimal, PrecisionCountsFractionDigits) {
    EXPECT_EQ(dec("1.58700").precision(), 5);  // PrecisionDecimal
    EXPECT_EQ(dec("12").precision(), 0);
}

TEST(FhirPathDecimal, LowBoundarySuiteValues) {
    EXPECT_EQ(str(dec("1.587").low_boundary(std::nullopt)), "1.58650000");
    EXPECT_EQ(str(dec("1.587").low_boundary(6)), "1.586500");
    EXPECT_EQ(str(dec("1.587").low_boundary(2)), "1.58");
    EXPECT_FALSE(dec("1.587").low_boundary(-1).has_value());
    EXPECT_EQ(str(dec("1.587").low_boundary(0)), "1");
    EXPECT_FALSE(dec("1.587").low_boundary(32).has_value());
    EXPECT_FALSE(dec("1.587").low_boundary(39).has_value());
    EXPECT_EQ(str(dec("-1.587").low_boundary(std::nullopt)), "-1.58750000");
    EXPECT_EQ(str(dec("-1.587").low_boundary(6)), "-1.587500");
    EXPECT_EQ(str(dec("-1.587").low_boundary(2)), "-1.59");
    EXPECT_FALSE(dec("-1.587").low_boundary(-1).has_value());
    EXPECT_EQ(str(dec("-1.587").low_boundary(0)), "-2");
    EXPECT_FALSE(dec("-1.587").low_boundary(32).has_value());
    EXPECT_EQ(str(dec("1").low_boundary(std::nullopt)), "0.50000000");
    EXPECT_EQ(str(dec("1").low_boundary(0)), "0");
    EXPECT_EQ(str(dec("1").low_boundary(5)), "0.50000");
    EXPECT_EQ(str(dec("12.587").low_boundary(2)), "12.58");
    EXPECT_EQ(str(dec("12.500").low_boundary(4)), "12.4995");
    EXPECT_EQ(str(dec("120").low_boundary(2)), "119.50");
    EXPECT_EQ(str(dec("-120").low_boundary(2)), "-120.50");
    EXPECT_EQ(str(dec("0.0034").low_boundary(1)), "0.0");
    EXPECT_EQ(str(dec("-0.0034").low_boundary(1)), "-0.0");
    EXPECT_EQ(str(dec("1.587").low_boundary(8)), "1.58650000");  // LowBoundaryQuantity's value
}

TEST(FhirPathDecimal, HighBoundarySuiteValues) {
    EXPECT_EQ(str(dec("1.587").high_boundary(std::nullopt)), "1.58750000");
    EXPECT_EQ(str(dec("1.587").high_boundary(2)), "1.59");
    EXPECT_EQ(str(dec("1.587").high_boundary(6)), "1.587500");
    EXPECT_FALSE(dec("1.587").high_boundary(-1).has_value());
    EXPECT_EQ(str(dec("-1.587").high_boundary(std::nullopt)), "-1.58650000");
    EXPECT_EQ(str(dec("-1.587").high_boundary(2)), "-1.58");
    EXPECT_EQ(str(dec("-1.587").high_boundary(6)), "-1.586500");
    EXPECT_FALSE(dec("1.587").high_boundary(39).has_value());
    EXPECT_EQ(str(dec("1").high_boundary(std::nullopt)), "1.50000000");
    EXPECT_EQ(str(dec("1").high_boundary(0)), "2");
    EXPECT_EQ(str(dec("1").high_boundary(5)), "1.50000");
    EXPECT_EQ(str(dec("12.587").high_boundary(2)), "12.59");
    EXPECT_EQ(str(dec("12.500").high_boundary(4)), "12.5005");
    EXPECT_EQ(str(dec("120").high_boundary(2)), "120.50");
    // -120.highBoundary(2) parses as -(120.highBoundary(2)).
    EXPECT_EQ(dec("120").high_boundary(2)->negated().to_string(), "-120.50");
    EXPECT_EQ(str(dec("0.0034").high_boundary(1)), "0.0");
    // -0.0034.highBoundary(1) is -(0.0034.highBoundary(1)): negating 0.0 gives 0.0.
    EXPECT_EQ(dec("0.0034").high_boundary(1)->negated().to_string(), "0.0");
    EXPECT_EQ(str(dec("-0.0034").high_boundary(1)), "-0.0");
}

TEST(FhirPathDecimal, BoundaryEdgeCases) {
    EXPECT_EQ(str(dec("1.587").low_boundary(28)), "1.5865000000000000000000000000");
    EXPECT_FALSE(dec("1.587").low_boundary(29).has_value());
    EXPECT_FALSE(dec("123456789012345678901234567890").low_boundary(8).has_value());  // too many digits
    EXPECT_EQ(str(dec("0").low_boundary(1)), "-0.5");
    EXPECT_EQ(str(dec("0").high_boundary(1)), "0.5");
    const auto neg_zero = dec("-0.0034").low_boundary(1);
    ASSERT_TRUE(neg_zero);
    EXPECT_TRUE(neg_zero->is_zero());
    EXPECT_TRUE(*neg_zero == dec("0"));
    EXPECT_EQ(neg_zero->abs().to_string(), "0.0");
}

// ==== Temporal ====================================================================================

TEST(FhirPathTemporal, ParsesDatesOfEveryPrecision) {
    EXPECT_EQ(date("2015").precision(), Precision::year);
    EXPECT_EQ(date("2015-02").precision(), Precision::month);
    const Temporal d = date("2015-02-04");
    EXPECT_EQ(d.precision(), Precision::day);
    EXPECT_EQ(d.kind(), Kind::date);
    EXPECT_EQ(d.year(), 2015);
    EXPECT_EQ(d.month(), 2);
    EXPECT_EQ(d.day(), 4);
    EXPECT_EQ(d.to_string(), "2015-02-04");
    EXPECT_EQ(date("2014-12-14").to_string(), "2014-12-14");  // testToString5
    EXPECT_FALSE(d.offset_minutes().has_value());
}

TEST(FhirPathTemporal, ParsesDateTimeLiteralsAndFhirValues) {
    EXPECT_EQ(datetime("2015T").precision(), Precision::year);
    EXPECT_EQ(datetime("2015-02T").precision(), Precision::month);
    EXPECT_EQ(datetime("2015-02-04T").precision(), Precision::day);
    EXPECT_EQ(datetime("2015-02-04").precision(), Precision::day);  // FHIR dateTime without time
    EXPECT_EQ(datetime("2015-02-04T14").precision(), Precision::hour);
    EXPECT_EQ(datetime("2015-02-04T14:34").precision(), Precision::minute);
    EXPECT_EQ(datetime("2015-02-04T14:34:28").precision(), Precision::second);
    const Temporal ms = datetime("2015-02-04T14:34:28.123");
    EXPECT_EQ(ms.precision(), Precision::millisecond);
    EXPECT_EQ(ms.millisecond(), 123);
    EXPECT_EQ(datetime("2015-02-04T14:34:28Z").offset_minutes(), 0);
    EXPECT_EQ(datetime("2015-02-04T14:34:28+10:00").offset_minutes(), 600);
    EXPECT_EQ(datetime("2015-02-04T14:34:28-05:30").offset_minutes(), -330);
    EXPECT_EQ(datetime("2015-02-04T14+10:00").offset_minutes(), 600);
    EXPECT_EQ(datetime("2015-02-04T14:34:28.123+01:00").to_string(), "2015-02-04T14:34:28.123+01:00");
    EXPECT_EQ(datetime("2015-02-04T14:34:28Z").to_string(), "2015-02-04T14:34:28Z");
    EXPECT_EQ(datetime("2015-02-04T14:34:28-05:30").to_string(), "2015-02-04T14:34:28-05:30");
    EXPECT_EQ(datetime("2015-02T").to_string(), "2015-02");
    EXPECT_EQ(datetime("2015-02-04T14").to_string(), "2015-02-04T14");
}

TEST(FhirPathTemporal, FractionalSecondsKeptToMilliseconds) {
    EXPECT_EQ(datetime("2017-11-05T01:30:00.0-04:00").millisecond(), 0);
    EXPECT_EQ(datetime("2017-11-05T01:30:00.1").millisecond(), 100);
    EXPECT_EQ(datetime("2017-11-05T01:30:00.12").millisecond(), 120);
    EXPECT_EQ(datetime("2017-11-05T01:30:00.123456789Z").millisecond(), 123);
    EXPECT_EQ(datetime("2017-11-05T01:30:00.1").to_string(), "2017-11-05T01:30:00.100");
    EXPECT_EQ(time_of_day("10:30:00.9999").millisecond(), 999);
}

TEST(FhirPathTemporal, ParsesTimes) {
    const Temporal t = time_of_day("14:34:28.123");
    EXPECT_EQ(t.kind(), Kind::time);
    EXPECT_EQ(t.precision(), Precision::millisecond);
    EXPECT_EQ(t.hour(), 14);
    EXPECT_EQ(t.to_string(), "14:34:28.123");
    EXPECT_EQ(time_of_day("14").precision(), Precision::hour);
    EXPECT_EQ(time_of_day("14:34").to_string(), "14:34");
    EXPECT_FALSE(Temporal::parse(Kind::time, "14:34:28Z"));       // testLiteralTimeUTC
    EXPECT_FALSE(Temporal::parse(Kind::time, "14:34:28+10:00"));  // testLiteralTimeTimezoneOffset
    EXPECT_FALSE(Temporal::parse(Kind::time, "T14:34"));
}

TEST(FhirPathTemporal, RejectsInvalidCalendarValues) {
    for (std::string_view bad : {"2015-13", "2015-00", "2015-02-30", "2015-02-29", "2015-04-31", "0000",
                                 "15", "2015-2-04", "2015-02-04x", "2015/02/04", "", "20150", "2015-02-04T"}) {
        EXPECT_FALSE(Temporal::parse(Kind::date, bad)) << bad;
    }
    EXPECT_TRUE(Temporal::parse(Kind::date, "2016-02-29"));  // leap year
    EXPECT_TRUE(Temporal::parse(Kind::date, "2000-02-29"));  // divisible by 400
    EXPECT_FALSE(Temporal::parse(Kind::date, "1900-02-29"));  // divisible by 100 only
    for (std::string_view bad : {"2015-02-04T24:00", "2015-02-04T10:60", "2015-02-04T10:30:60", "2015-02-04T10:30:00.",
                                 "2015-02-04T10:30+15:00", "2015-02-04T10:30+14:30", "2015-02-04T10:30+1000",
                                 "2015T10:30", "2015-02T10", "2015-02-04T10:30Zx", "2015-02-04Z", "2015-02-04T1"}) {
        EXPECT_FALSE(Temporal::parse(Kind::datetime, bad)) << bad;
    }
    EXPECT_TRUE(Temporal::parse(Kind::datetime, "2015-02-04T10:30+14:00"));
    EXPECT_TRUE(Temporal::parse(Kind::datetime, "2015-02-04T10:30-12:00"));
    for (std::string_view bad : {"24", "10:60", "1", "10:30:00.", "10:30:5", "10-30"}) {
        EXPECT_FALSE(Temporal::parse(Kind::time, bad)) << bad;
    }
}

TEST(FhirPathTemporal, PrecisionDigits) {
    EXPECT_EQ(date("2014").precision_digits(), 4);                              // PrecisionYear
    EXPECT_EQ(date("2014-01").precision_digits(), 6);
    EXPECT_EQ(date("2014-01-05").precision_digits(), 8);
    EXPECT_EQ(datetime("2014-01-05T10").precision_digits(), 10);
    EXPECT_EQ(datetime("2014-01-05T10:30").precision_digits(), 12);
    EXPECT_EQ(datetime("2014-01-05T10:30:00").precision_digits(), 14);
    EXPECT_EQ(datetime("2014-01-05T10:30:00.000").precision_digits(), 17);      // PrecisionDateTimeMilliseconds
    EXPECT_EQ(time_of_day("10").precision_digits(), 2);
    EXPECT_EQ(time_of_day("10:30").precision_digits(), 4);                      // PrecisionTimeMinutes
    EXPECT_EQ(time_of_day("10:30:00").precision_digits(), 6);
    EXPECT_EQ(time_of_day("10:30:00.000").precision_digits(), 9);               // PrecisionTimeMilliseconds
}

TEST(FhirPathTemporal, FromTimePoint) {
    using namespace std::chrono;
    const auto tp = sys_days{year{2024} / 2 / 29} + hours{23} + minutes{30} + milliseconds{5};
    const Temporal utc = Temporal::from_time_point(tp);
    EXPECT_EQ(utc.to_string(), "2024-02-29T23:30:00.005Z");
    EXPECT_EQ(utc.kind(), Kind::datetime);
    EXPECT_EQ(Temporal::from_time_point(tp, 120).to_string(), "2024-03-01T01:30:00.005+02:00");
    EXPECT_EQ(Temporal::from_time_point(tp, -600).to_string(), "2024-02-29T13:30:00.005-10:00");
    const auto before_epoch = sys_days{year{1969} / 12 / 31} + hours{23} + milliseconds{999};
    EXPECT_EQ(Temporal::from_time_point(before_epoch).to_string(), "1969-12-31T23:00:00.999Z");
    EXPECT_GT(Temporal::from_time_point(system_clock::now()).to_string().size(), 10u);  // testNow2
}

TEST(FhirPathTemporal, EqualitySuiteValues) {
    EXPECT_EQ(equal(date("2012-04-15"), date("2012-04-15")), true);                         // testEquality17
    EXPECT_EQ(equal(date("2012-04-15"), date("2012-04-16")), false);                        // testEquality18
    EXPECT_EQ(equal(date("2012-04-15"), datetime("2012-04-15T10:00:00")), std::nullopt);    // testEquality19
    EXPECT_EQ(equal(datetime("2012-04-15T15:00:00"), datetime("2012-04-15T10:00:00")), false);  // 20
    EXPECT_EQ(equal(datetime("2012-04-15T15:30:31"), datetime("2012-04-15T15:30:31.0")), true);  // 21
    EXPECT_EQ(equal(datetime("2012-04-15T15:30:31"), datetime("2012-04-15T15:30:31.1")), false);  // 22
    EXPECT_EQ(equal(datetime("2012-04-15T15:00:00Z"), datetime("2012-04-15T10:00:00")), std::nullopt);  // 23
    EXPECT_EQ(equal(datetime("2012-04-15T15:00:00+02:00"), datetime("2012-04-15T16:00:00+03:00")), true);  // 24
    EXPECT_EQ(equal(date("1974-12-25"), date("1974-12-25")), true);                         // testDateEqual
    EXPECT_EQ(equal(date("1974-12-25"), datetime("1974-12-25T12:34:00")), std::nullopt);   // testDateNotEqual
    EXPECT_EQ(equal(date("1974-12-25"), datetime("1974-12-25T12:34:00-10:00")), std::nullopt);
    EXPECT_EQ(equal(date("1974-12-25"), datetime("1974-12-25T12:34:00+10:00")), std::nullopt);
    EXPECT_EQ(equal(date("1974-12-25"), datetime("1974-12-25T12:34:00Z")), std::nullopt);
    EXPECT_EQ(equal(date("1974-12-25"), time_of_day("12:14:15")), false);                  // testDateNotEqualTimeSecond
    EXPECT_EQ(equal(date("1974-12-25"), time_of_day("12:14")), false);
}

TEST(FhirPathTemporal, TimezoneOffsetsAreNormalised) {
    const Temporal a = datetime("2017-11-05T01:30:00.0-04:00");
    EXPECT_EQ(compare(a, datetime("2017-11-05T01:15:00.0-05:00")), -1);  // testLiteralDateTimeTZGreater/Less
    EXPECT_EQ(equal(a, datetime("2017-11-05T01:15:00.0-05:00")), false);
    EXPECT_EQ(equal(a, datetime("2017-11-05T00:30:00.0-05:00")), true);
    // Offsets that move the instant across midnight and a month end.
    EXPECT_EQ(equal(datetime("2012-03-01T01:00:00+02:00"), datetime("2012-02-29T23:00:00Z")), true);
    EXPECT_EQ(equal(datetime("2012-12-31T20:00:00-05:00"), datetime("2013-01-01T01:00:00Z")), true);
    EXPECT_EQ(compare(datetime("2012-03-01T01:00:00+02:00"), datetime("2012-02-29T23:30:00Z")), -1);
}

TEST(FhirPathTemporal, OneSidedOffsetOnlyDecidesBeyondAnyZone) {
    // Without an offset the value could be anywhere from UTC-12:00 to UTC+14:00.
    EXPECT_EQ(compare(datetime("2012-04-15T15:00:00Z"), datetime("2012-04-16T04:00:00")), std::nullopt);
    EXPECT_EQ(compare(datetime("2012-04-15T15:00:00Z"), datetime("2012-04-17T10:00:00")), -1);
    EXPECT_EQ(compare(datetime("2012-04-18T15:00:00Z"), datetime("2012-04-17T10:00:00")), 1);
    EXPECT_EQ(compare(datetime("2012-04-15T15:00:00"), datetime("2012-04-15T10:00:00")), 1);  // neither: same zone
}

TEST(FhirPathTemporal, DifferentPrecisionIsUndecidableWhenCommonPartsMatch) {
    EXPECT_EQ(compare(date("2018-03"), date("2018-03-01")), std::nullopt);                       // testLessThan23
    EXPECT_EQ(compare(datetime("2018-03-01T10:30"), datetime("2018-03-01T10:30:00")), std::nullopt);  // 24
    EXPECT_EQ(compare(time_of_day("10:30"), time_of_day("10:30:00")), std::nullopt);           // 25
    EXPECT_EQ(compare(datetime("2018-03-01T10:30:00"), datetime("2018-03-01T10:30:00.0")), 0);  // 26
    EXPECT_EQ(compare(time_of_day("10:30:00"), time_of_day("10:30:00.0")), 0);                 // 27
    EXPECT_EQ(compare(date("2012"), date("2013-01")), -1);  // decided by the year
    EXPECT_EQ(compare(date("2012-02"), date("2012-01-31")), 1);
    EXPECT_EQ(compare(date("2012"), time_of_day("10:00")), std::nullopt);
}

TEST(FhirPathTemporal, OrderingSuiteValues) {
    EXPECT_EQ(compare(date("2014-12-12"), date("2014-12-13")), -1);
    EXPECT_EQ(compare(datetime("2014-12-13T12:00:00"), datetime("2014-12-13T12:00:01")), -1);
    EXPECT_EQ(compare(time_of_day("12:00:00"), time_of_day("14:00:00")), -1);
    EXPECT_EQ(compare(date("2014-12-12"), date("2014-12-12")), 0);
    EXPECT_EQ(compare(datetime("2014-12-13T12:00:00"), datetime("2014-12-13T12:00:00")), 0);
    EXPECT_EQ(compare(time_of_day("12:00:00"), time_of_day("12:00:00")), 0);
    EXPECT_EQ(compare(date("2014-12-13"), date("2014-12-12")), 1);
    EXPECT_EQ(compare(datetime("2014-12-13T12:00:01"), datetime("2014-12-13T12:00:00")), 1);
    EXPECT_EQ(compare(time_of_day("12:00:01"), time_of_day("12:00:00")), 1);
}

TEST(FhirPathTemporal, DateAgainstNowAndToday) {
    using namespace std::chrono;
    const Temporal now = Temporal::from_time_point(system_clock::now(), 60);
    const Temporal today = now.as_date();
    const Temporal birth = date("1974-12-25");
    EXPECT_EQ(compare(birth, today), -1);  // testDateNotEqualToday / testToday1
    EXPECT_EQ(compare(now, birth), 1);     // testDateTimeGreaterThanDate1
    EXPECT_EQ(compare(now, today), std::nullopt);  // testDateTimeGreaterThanDate2
    EXPECT_EQ(today.to_string().size(), 10u);      // testToday2
}

TEST(FhirPathTemporal, Equivalence) {
    EXPECT_TRUE(equivalent(date("2012-04-15"), date("2012-04-15")));                            // testEquivalent14
    EXPECT_FALSE(equivalent(date("2012-04-15"), date("2012-04-16")));                           // 15
    EXPECT_FALSE(equivalent(date("2012-04-15"), datetime("2012-04-15T10:00:00")));              // 16
    EXPECT_TRUE(equivalent(datetime("2012-04-15T15:30:31"), datetime("2012-04-15T15:30:31.0")));  // 17
    EXPECT_FALSE(equivalent(datetime("2012-04-15T15:30:31"), datetime("2012-04-15T15:30:31.1")));  // 18
    EXPECT_FALSE(equivalent(datetime("2012-04-15T15:00:00Z"), datetime("2012-04-15T15:00:00")));
    EXPECT_FALSE(equivalent(date("2012"), time_of_day("10")));
}

TEST(FhirPathTemporal, PlusDateSuiteValues) {
    const Temporal d = date("1973-12-25");
    const Temporal dt = datetime("1973-12-25T00:00:00.000+10:00");
    EXPECT_EQ(str(d.plus(qty("7 days"))), "1974-01-01");                                     // testPlusDate1
    EXPECT_EQ(str(d.plus(qty("7.7 days"))), "1974-01-01");                                   // 2
    EXPECT_EQ(str(dt.plus(qty("7 days"))), "1974-01-01T00:00:00.000+10:00");                 // 3
    EXPECT_EQ(str(dt.plus(qty("7.7 days"))), "1974-01-01T00:00:00.000+10:00");               // 4
    EXPECT_EQ(str(dt.plus(qty("1 second"))), "1973-12-25T00:00:01.000+10:00");               // 5
    EXPECT_EQ(str(dt.plus(qty("10 millisecond"))), "1973-12-25T00:00:00.010+10:00");         // 6
    EXPECT_EQ(str(dt.plus(qty("1 minute"))), "1973-12-25T00:01:00.000+10:00");               // 7
    EXPECT_EQ(str(dt.plus(qty("1 hour"))), "1973-12-25T01:00:00.000+10:00");                 // 8
    EXPECT_EQ(str(d.plus(qty("1 day"))), "1973-12-26");                                      // 9
    EXPECT_EQ(str(d.plus(qty("1 month"))), "1974-01-25");                                    // 10
    EXPECT_EQ(str(d.plus(qty("1 week"))), "1974-01-01");                                     // 11
    EXPECT_EQ(str(d.plus(qty("1 year"))), "1974-12-25");                                     // 12
    EXPECT_EQ(str(d.plus(qty("1 'd'"))), "1973-12-26");                                      // 13
    EXPECT_FALSE(d.plus(qty("1 'mo'")).has_value());                                         // 14
    EXPECT_EQ(str(d.plus(qty("1 'wk'"))), "1974-01-01");                                     // 15
    EXPECT_FALSE(d.plus(qty("1 'a'")).has_value());                                          // 16
    EXPECT_FALSE(date("1975-12-25").plus(qty("1 'a'")).has_value());                         // 17
    EXPECT_EQ(str(dt.plus(qty("1 's'"))), "1973-12-25T00:00:01.000+10:00");                  // 18
    EXPECT_EQ(str(dt.plus(qty("0.1 's'"))), "1973-12-25T00:00:00.000+10:00");                // 19
    EXPECT_EQ(str(dt.plus(qty("10 'ms'"))), "1973-12-25T00:00:00.010+10:00");                // 20
    EXPECT_EQ(str(dt.plus(qty("1 'min'"))), "1973-12-25T00:01:00.000+10:00");                // 21
    EXPECT_EQ(str(dt.plus(qty("1 'h'"))), "1973-12-25T01:00:00.000+10:00");                  // 22
    EXPECT_EQ(str(d.plus(qty("1 'month'"))), "1974-01-25");
    EXPECT_EQ(d.plus(qty("7 days"))->kind(), Kind::date);
}

TEST(FhirPathTemporal, MinusSuiteValues) {
    EXPECT_EQ(str(date("1974-12-25").minus(qty("1 'month'"))), "1974-11-25");  // testMinus5
    EXPECT_FALSE(date("1974-12-25").minus(qty("1 'cm'")).has_value());         // testMinus6
    EXPECT_EQ(str(date("1974-01-01").minus(qty("1 day"))), "1973-12-31");
    EXPECT_EQ(str(datetime("2000-01-01T00:30:00Z").minus(qty("1 hour"))), "1999-12-31T23:30:00Z");
}

TEST(FhirPathTemporal, MonthEndClampingAndLeapYears) {
    EXPECT_EQ(str(date("2012-01-31").plus(qty("1 month"))), "2012-02-29");
    EXPECT_EQ(str(date("2013-01-31").plus(qty("1 month"))), "2013-02-28");
    EXPECT_EQ(str(date("2012-03-31").minus(qty("1 month"))), "2012-02-29");
    EXPECT_EQ(str(date("2012-02-29").plus(qty("1 year"))), "2013-02-28");
    EXPECT_EQ(str(date("2012-02-29").plus(qty("4 years"))), "2016-02-29");
    EXPECT_EQ(str(date("2012-02-28").plus(qty("1 day"))), "2012-02-29");
    EXPECT_EQ(str(date("2013-02-28").plus(qty("1 day"))), "2013-03-01");
    EXPECT_EQ(str(date("2012-10-31").plus(qty("13 months"))), "2013-11-30");
    EXPECT_EQ(str(date("2012-01-15").minus(qty("13 months"))), "2010-12-15");
    EXPECT_EQ(str(datetime("2012-01-31T10:00:00+01:00").plus(qty("1 month"))), "2012-02-29T10:00:00+01:00");
}

TEST(FhirPathTemporal, PartialPrecisionArithmeticTruncates) {
    EXPECT_EQ(str(date("2014").plus(qty("24 months"))), "2016");
    EXPECT_EQ(str(date("2014").plus(qty("23 months"))), "2015");
    EXPECT_EQ(str(date("2014").plus(qty("1 day"))), "2014");
    EXPECT_EQ(str(date("2014").plus(qty("365 days"))), "2015");
    EXPECT_EQ(str(date("2014-01").plus(qty("1 day"))), "2014-01");
    EXPECT_EQ(str(date("2014-01").plus(qty("60 days"))), "2014-03");
    EXPECT_EQ(str(date("2014-01-05").plus(qty("25 hours"))), "2014-01-06");
    EXPECT_EQ(str(date("2014-01-05").plus(qty("23 hours"))), "2014-01-05");
    EXPECT_EQ(str(datetime("2014-01-05T10").plus(qty("59 minutes"))), "2014-01-05T10");
    EXPECT_EQ(str(datetime("2014-01-05T10").plus(qty("61 minutes"))), "2014-01-05T11");
    EXPECT_EQ(str(datetime("2014-01-05T10:00:00").plus(qty("1500 'ms'"))), "2014-01-05T10:00:01");
    EXPECT_EQ(str(datetime("2014-01-05T10:00:00").minus(qty("1.5 seconds"))), "2014-01-05T09:59:59");
}

TEST(FhirPathTemporal, TimeArithmeticWrapsAndRefusesDates) {
    EXPECT_EQ(str(time_of_day("23:30").plus(qty("1 hour"))), "00:30");
    EXPECT_EQ(str(time_of_day("00:30").minus(qty("45 minutes"))), "23:45");
    EXPECT_EQ(str(time_of_day("10:00:00.000").plus(qty("10 'ms'"))), "10:00:00.010");
    EXPECT_FALSE(time_of_day("10:00").plus(qty("1 day")).has_value());
    EXPECT_FALSE(time_of_day("10:00").plus(qty("1 year")).has_value());
}

TEST(FhirPathTemporal, ArithmeticRangeAndUnits) {
    EXPECT_FALSE(date("9999-12-31").plus(qty("1 day")).has_value());
    EXPECT_FALSE(date("0001-01-01").minus(qty("1 day")).has_value());
    EXPECT_FALSE(date("2000").plus(qty("8000 years")).has_value());
    EXPECT_FALSE(date("2000-01-01").plus(qty("999999999999999 days")).has_value());
    EXPECT_FALSE(datetime("2000-01-01T00:00:00Z").plus(qty("999999999999 hours")).has_value());
    EXPECT_FALSE(date("2000-01-01").plus(Quantity(dec("1e30"), "days")).has_value());
    EXPECT_FALSE(date("2000-01-01").plus(qty("1 'kg'")).has_value());
    EXPECT_FALSE(date("2000-01-01").plus(qty("1 'mg'")).has_value());
    EXPECT_FALSE(datetime("2000-01-01T00:00:00Z").plus(qty("1 'a'")).has_value());
    EXPECT_EQ(str(date("2000-01-01").minus(qty("-7.9 days"))), "2000-01-08");
}

TEST(FhirPathTemporal, LowBoundarySuiteValues) {
    EXPECT_EQ(str(date("2014").low_boundary(6)), "2014-01");                                       // LowBoundaryDateMonth
    EXPECT_EQ(str(datetime("2014-01-01T08").low_boundary(17)), "2014-01-01T08:00:00.000+14:00");     // ...Millisecond1
    EXPECT_EQ(str(datetime("2014-01-01T08:05+08:00").low_boundary(17)), "2014-01-01T08:05:00.000+08:00");  // 2
    EXPECT_EQ(str(datetime("2014-01-01T08").low_boundary(8)), "2014-01-01");                        // 3
    EXPECT_EQ(str(time_of_day("10:30").low_boundary(9)), "10:30:00.000");                          // LowBoundaryTimeMillisecond
    EXPECT_EQ(date("2014").low_boundary(6)->kind(), Kind::date);
    EXPECT_EQ(datetime("2014-01-01T08").low_boundary(8)->kind(), Kind::datetime);
}

TEST(FhirPathTemporal, HighBoundarySuiteValues) {
    EXPECT_EQ(str(date("2014").high_boundary(6)), "2014-12");                                        // HighBoundaryDateMonth
    EXPECT_EQ(str(datetime("2014-01-01T08").high_boundary(17)), "2014-01-01T08:00:59.999-12:00");      // ...Millisecond1/3
    EXPECT_EQ(str(datetime("2014-01-01T08:05-05:00").high_boundary(17)), "2014-01-01T08:05:59.999-05:00");  // 2
    EXPECT_EQ(str(time_of_day("10:30").high_boundary(9)), "10:30:59.999");                           // HighBoundaryTimeMillisecond
}

TEST(FhirPathTemporal, BoundaryDefaultsAndCalendar) {
    EXPECT_EQ(str(date("2012-02").high_boundary(std::nullopt)), "2012-02-29");
    EXPECT_EQ(str(date("2013-02").high_boundary(8)), "2013-02-28");
    EXPECT_EQ(str(date("2014").low_boundary(std::nullopt)), "2014-01-01");
    EXPECT_EQ(str(date("2014-05-06").low_boundary(4)), "2014");
    EXPECT_EQ(str(datetime("2001-05-06").low_boundary(std::nullopt)), "2001-05-06T00:00:00.000+14:00");
    EXPECT_EQ(str(datetime("2001-05-06T10:10:10Z").high_boundary(std::nullopt)), "2001-05-06T10:10:10.999Z");
    EXPECT_EQ(str(datetime("2014").high_boundary(17)), "2014-12-31T23:59:59.999-12:00");
    EXPECT_EQ(str(time_of_day("10").high_boundary(std::nullopt)), "10:59:59.999");
    for (int bad : {-1, 0, 5, 7, 9, 11, 18}) EXPECT_FALSE(date("2014").low_boundary(bad)) << bad;
    // A Date asked for a time precision gives a zone-less DateTime.
    EXPECT_EQ(str(date("1969-11-13").low_boundary(10)), "1969-11-13T00");
    EXPECT_EQ(date("1969-11-13").low_boundary(10)->kind(), Kind::datetime);
    EXPECT_EQ(str(date("1969-11").high_boundary(17)), "1969-11-30T23:59:59.999");
    for (int bad : {3, 11, 13, 15, 16}) EXPECT_FALSE(datetime("2014").high_boundary(bad)) << bad;
    for (int bad : {4 - 1, 8, 10, 17}) EXPECT_FALSE(time_of_day("10").low_boundary(bad)) << bad;
}

TEST(FhirPathTemporal, PeriodInvariantWithBoundaries) {
    // testPeriodInvariantOld: start <= end is undecidable for these; the new form decides.
    const Temporal start = datetime("2001-05-06"), end = datetime("2001-05-06T10:10:10Z");
    EXPECT_EQ(compare(start, end), std::nullopt);
    EXPECT_EQ(compare(*start.low_boundary(std::nullopt), *end.high_boundary(std::nullopt)), -1);
}

TEST(FhirPathTemporal, Conversions) {
    const Temporal d = date("2014-01-05");
    EXPECT_EQ(d.as_datetime().kind(), Kind::datetime);
    EXPECT_EQ(d.as_datetime().to_string(), "2014-01-05");
    const Temporal dt = datetime("2014-01-05T10:30:00+02:00");
    EXPECT_EQ(dt.as_date().kind(), Kind::date);
    EXPECT_EQ(dt.as_date().to_string(), "2014-01-05");
    EXPECT_EQ(dt.as_date().hour(), 0);
    EXPECT_EQ(datetime("2014T").as_date().to_string(), "2014");
}

// ==== Quantity ====================================================================================

TEST(FhirPathQuantity, ParsesLiteralsAndToQuantityText) {
    EXPECT_EQ(qty("4.5 'mg'").to_string(), "4.5 'mg'");
    EXPECT_EQ(qty("10 'mg'").unit(), "mg");
    EXPECT_EQ(qty("4 days").to_string(), "4 days");
    EXPECT_EQ(qty("1 '1'").to_string(), "1 '1'");
    EXPECT_EQ(qty("1").to_string(), "1 '1'");  // testStringIntegerLiteralToQuantity
    EXPECT_EQ(qty("1.0").value().to_string(), "1.0");
    EXPECT_EQ(qty("-5.5 'mg'").value().to_string(), "-5.5");
    EXPECT_EQ(qty("1 'wk'").to_string(), "1 'wk'");   // testQuantityLiteralWkToString
    EXPECT_EQ(qty("1 week").to_string(), "1 week");   // testQuantityLiteralWeekToString
    EXPECT_EQ(qty("1 day").unit(), "day");
    EXPECT_EQ(qty("185 '[lb_av]'").unit(), "[lb_av]");
    EXPECT_EQ(Quantity(Decimal::from_integer(3), "").unit(), "1");
    for (std::string_view bad : {"1 wk", "1.a", "", "'mg'", "1 'mg", "1 mg'", "1 ''", "1 'm'g'", "abc", "1 fortnight",
                                 "1 'mg' x"}) {
        EXPECT_FALSE(Quantity::parse(bad).has_value()) << bad;
    }
}

TEST(FhirPathQuantity, CalendarUnits) {
    EXPECT_TRUE(qty("1 year").is_calendar_unit());
    EXPECT_TRUE(qty("2 milliseconds").is_calendar_unit());
    EXPECT_FALSE(qty("1 'a'").is_calendar_unit());
    EXPECT_FALSE(qty("1 'mg'").is_calendar_unit());
}

TEST(FhirPathQuantity, EqualitySuiteValues) {
    EXPECT_EQ(equal(qty("4.0000 'g'"), qty("4000.0 'mg'")), true);   // testQuantity1
    EXPECT_EQ(equal(qty("4 'g'"), qty("4040 'mg'")), false);         // testQuantity3
    EXPECT_EQ(equal(qty("7 days"), qty("1 week")), true);            // testQuantity5
    EXPECT_EQ(equal(qty("7 days"), qty("1 'wk'")), true);            // testQuantity6
    EXPECT_EQ(equal(qty("1 day"), qty("1 'd'")), true);              // testStringQuantityDayLiteralToQuantity
    EXPECT_EQ(equal(qty("1 'wk'"), qty("1 week")), true);
    EXPECT_EQ(equal(qty("1 'mo'"), qty("1 month")), std::nullopt);   // testStringQuantityMonthLiteralToQuantity
    EXPECT_EQ(equal(qty("1 'a'"), qty("1 year")), std::nullopt);     // testStringQuantityYearLiteralToQuantity
    EXPECT_EQ(equal(qty("185 '[lb_av]'"), qty("185 '[lb_av]'")), true);  // testEquality28
    EXPECT_EQ(equal(qty("185 '[lb_av]'"), qty("185 'kg'")), false);      // testNEquality24
    EXPECT_EQ(equal(qty("1"), qty("1 '1'")), true);                       // testIntegerLiteralToQuantity
    EXPECT_EQ(equal(qty("5.5 'mg'"), qty("5.5 'mg'")), true);
    EXPECT_EQ(equal(qty("1 'mg'"), qty("1 'cm'")), std::nullopt);
}

TEST(FhirPathQuantity, OrderingSuiteValues) {
    EXPECT_EQ(compare(qty("6 days"), qty("1 week")), -1);                  // testQuantity7
    EXPECT_EQ(compare(qty("8 days"), qty("1 week")), 1);                   // testQuantity8
    EXPECT_EQ(compare(qty("185 '[lb_av]'"), qty("200 '[lb_av]'")), -1);    // testLessThan22
    EXPECT_EQ(compare(qty("185 '[lb_av]'"), qty("100 '[lb_av]'")), 1);     // testGreaterThan22
    EXPECT_EQ(compare(qty("185 '[lb_av]'"), qty("84 'kg'")), -1);          // 83.91452845 kg
    EXPECT_EQ(compare(qty("185 '[lb_av]'"), qty("83.9 'kg'")), 1);
    EXPECT_EQ(compare(qty("185 '[lb_av]'"), qty("83914.58845 'g'")), 0);
    EXPECT_EQ(compare(qty("1 'a'"), qty("365 'd'")), 1);
    EXPECT_EQ(compare(qty("1 year"), qty("12 months")), 0);
    EXPECT_EQ(compare(qty("1 year"), qty("365 days")), std::nullopt);
}

TEST(FhirPathQuantity, Equivalence) {
    EXPECT_TRUE(equivalent(qty("4 'g'"), qty("4000 'mg'")));  // testQuantity2
    EXPECT_TRUE(equivalent(qty("4 'g'"), qty("4040 'mg'")));  // testQuantity4
    EXPECT_TRUE(equivalent(qty("4040 'mg'"), qty("4 'g'")));  // symmetric
    EXPECT_FALSE(equivalent(qty("4 'g'"), qty("4600 'mg'")));
    EXPECT_TRUE(equivalent(qty("1.0"), qty("1 '1'")));        // testStringDecimalLiteralToQuantity
    EXPECT_TRUE(equivalent(qty("185 '[lb_av]'"), qty("185 '[lb_av]'")));  // testEquivalent22
    EXPECT_TRUE(equivalent(qty("1 year"), qty("1 'a'")));
    EXPECT_TRUE(equivalent(qty("1 month"), qty("1 'mo'")));
    EXPECT_FALSE(equivalent(qty("1 'mg'"), qty("1 'cm'")));
}

TEST(FhirPathQuantity, Comparable) {
    EXPECT_TRUE(qty("1 'cm'").comparable(qty("1 '[in_i]'")));   // Comparable1
    EXPECT_FALSE(qty("1 'cm'").comparable(qty("1 '[s]'")));     // Comparable2
    EXPECT_FALSE(qty("1 'cm'").comparable(qty("1 's'")));       // Comparable3
    EXPECT_TRUE(qty("1 'Cel'").comparable(qty("2 'Cel'")));     // unknown units match themselves
    EXPECT_FALSE(qty("1 'Cel'").comparable(qty("2 '[degF]'")));
    EXPECT_TRUE(qty("1 '%'").comparable(qty("1 '1'")));
    EXPECT_TRUE(qty("1 'mL'").comparable(qty("1 'cm3'")));
    EXPECT_TRUE(qty("1 'mmol/L'").comparable(qty("1 'umol/mL'")));
    EXPECT_TRUE(qty("1 'mm[Hg]'").comparable(qty("1 'kPa'")));
    EXPECT_FALSE(qty("1 year").comparable(qty("1 'a'")));
}

TEST(FhirPathQuantity, ConversionsAcrossPrefixes) {
    EXPECT_EQ(str(qty("4 'g'").convert_to("mg")), "4000 'mg'");
    EXPECT_EQ(str(qty("4040 'mg'").convert_to("g")), "4.040 'g'");
    EXPECT_EQ(str(qty("1 'kg'").convert_to("ug")), "1000000000 'ug'");
    EXPECT_EQ(str(qty("5 'ng'").convert_to("g")), "0.000000005 'g'");
    EXPECT_EQ(str(qty("2 'μg'").convert_to("mg")), "0.002 'mg'");
    EXPECT_EQ(str(qty("2 'µg'").convert_to("ug")), "2 'ug'");
    EXPECT_EQ(str(qty("1 'dL'").convert_to("mL")), "100 'mL'");
    EXPECT_EQ(str(qty("250 'mL'").convert_to("L")), "0.250 'L'");
    EXPECT_EQ(str(qty("1 'L'").convert_to("cm3")), "1000 'cm3'");
    EXPECT_EQ(str(qty("1 '[gal_us]'").convert_to("L")), "3.785411784 'L'");
    EXPECT_EQ(str(qty("12 '[in_i]'").convert_to("[ft_i]")), "1 '[ft_i]'");
    EXPECT_EQ(str(qty("1 '[in_i]'").convert_to("cm")), "2.54 'cm'");
    EXPECT_EQ(str(qty("1 '[in_i]'").convert_to("[ft_i]")), "0.08333333 '[ft_i]'");
    EXPECT_EQ(str(qty("1.5 'km'").convert_to("m")), "1500.0 'm'");
    EXPECT_EQ(str(qty("1000 'um'").convert_to("mm")), "1.000 'mm'");
    EXPECT_EQ(str(qty("1 '[lb_av]'").convert_to("g")), "453.59237 'g'");
    EXPECT_EQ(str(qty("16 '[oz_av]'").convert_to("[lb_av]")), "1.0000 '[lb_av]'");  // 16 * 0.0625
    EXPECT_EQ(str(qty("50 '%'").convert_to("1")), "0.50 '1'");
    EXPECT_EQ(str(qty("120 'mm[Hg]'").convert_to("kPa")), "15.998640 'kPa'");
    EXPECT_EQ(str(qty("1 'mmol/L'").convert_to("umol/mL")), "1 'umol/mL'");
    EXPECT_EQ(str(qty("60 '/min'").convert_to("/s")), "1 '/s'");
    EXPECT_FALSE(qty("1 'g'").convert_to("m").has_value());
    EXPECT_FALSE(qty("1 'g'").convert_to("[s]").has_value());
    EXPECT_FALSE(qty("1 'g'").convert_to("xyz").has_value());
}

TEST(FhirPathQuantity, TimeUnits) {
    EXPECT_EQ(str(qty("1 'wk'").convert_to("d")), "7 'd'");
    EXPECT_EQ(str(qty("1 'h'").convert_to("min")), "60 'min'");
    EXPECT_EQ(str(qty("1 'min'").convert_to("ms")), "60000 'ms'");
    EXPECT_EQ(str(qty("1 'a'").convert_to("d")), "365.25 'd'");
    EXPECT_EQ(str(qty("1 'mo'").convert_to("d")), "30.4375 'd'");
    EXPECT_EQ(str(qty("12 'mo'").convert_to("a")), "1 'a'");
    EXPECT_EQ(str(qty("1 week").convert_to("days")), "7 days");
    EXPECT_EQ(str(qty("48 hours").convert_to("d")), "2 'd'");
    EXPECT_EQ(str(qty("1 year").convert_to("months")), "12 months");
    EXPECT_FALSE(qty("1 year").convert_to("d").has_value());
    EXPECT_FALSE(qty("1 'a'").convert_to("year").has_value());
}

TEST(FhirPathQuantity, UnitExpressions) {
    EXPECT_TRUE(qty("1 'kg/m2'").comparable(qty("1 'g/cm2'")));
    EXPECT_EQ(compare(qty("1 'kg/m2'"), qty("0.1 'g/cm2'")), 0);
    EXPECT_EQ(compare(qty("1 'mL/min/{1.73_m2}'"), qty("60 'mL/h'")), 0);
    EXPECT_EQ(compare(qty("1 '{beats}/min'"), qty("1 '/min'")), 0);
    EXPECT_EQ(compare(qty("1 '10*3/uL'"), qty("1 '10*9/L'")), 0);
    EXPECT_EQ(compare(qty("1 'ug/(kg.min)'"), qty("60 'ug/kg/h'")), 0);
    EXPECT_EQ(compare(qty("1 's-1'"), qty("1 'Hz'")), 0);
    EXPECT_EQ(compare(qty("1 '{score}'"), qty("1 '1'")), 0);
    for (std::string_view bad : {"m/", "(m", "m)", "m{x", "m0", "m10", "[in_i", "/", ".m"}) {
        EXPECT_FALSE(qty("1 'm'").comparable(Quantity(Decimal::from_integer(1), std::string(bad)))) << bad;
    }
}

TEST(FhirPathQuantity, MultiplyAndDivideCombineUnits) {
    const auto area = multiply(qty("2.0 'cm'"), qty("2.0 'm'"));
    ASSERT_TRUE(area);
    EXPECT_EQ(area->unit(), "cm2");
    EXPECT_EQ(equal(*area, qty("0.040 'm2'")), true);  // testQuantity9
    const auto density = divide(qty("4.0 'g'"), qty("2.0 'm'"));
    ASSERT_TRUE(density);
    EXPECT_EQ(density->unit(), "g/m");
    EXPECT_EQ(equal(*density, qty("2 'g/m'")), true);  // testQuantity10
    const auto ratio = divide(qty("1.0 'm'"), qty("1.0 'm'"));
    ASSERT_TRUE(ratio);
    EXPECT_EQ(ratio->unit(), "1");
    EXPECT_EQ(equal(*ratio, qty("1 '1'")), true);  // testQuantity11
    EXPECT_EQ(str(multiply(qty("2 'mg'"), qty("3"))), "6 'mg'");
    EXPECT_EQ(str(multiply(qty("3"), qty("2 'mg'"))), "6 'mg'");
    EXPECT_EQ(str(multiply(qty("2 week"), qty("3"))), "6 week");
    EXPECT_EQ(str(divide(qty("10 'mg'"), qty("4"))), "2.5 'mg'");
    EXPECT_EQ(str(divide(qty("1"), qty("4 's'"))), "0.25 '/s'");
    EXPECT_EQ(str(multiply(qty("2 'm/s'"), qty("3 's'"))), "6 'm'");
    EXPECT_EQ(str(divide(qty("6 'kg.m'"), qty("2 's2'"))), "3 'kg.m/s2'");
    EXPECT_EQ(str(multiply(qty("2 'Cel'"), qty("3 'xyz'"))), "6 'Cel.xyz'");
    EXPECT_FALSE(divide(qty("1 'mg'"), qty("0 'mL'")).has_value());
}

TEST(FhirPathQuantity, AddAndSubtractConvert) {
    EXPECT_EQ(str(add(qty("1 'kg'"), qty("500 'g'"))), "1.500 'kg'");
    EXPECT_EQ(str(add(qty("500 'g'"), qty("1 'kg'"))), "1500 'g'");
    EXPECT_EQ(str(add(qty("1 week"), qty("1 day"))), "8 day");
    EXPECT_EQ(str(subtract(qty("1 'h'"), qty("30 'min'"))), "30 'min'");
    EXPECT_EQ(str(subtract(qty("5.5 'mg'"), qty("5.5 'mg'"))), "0.0 'mg'");
    EXPECT_EQ(str(add(qty("1 '[ft_i]'"), qty("1 '[in_i]'"))), "13 '[in_i]'");
    EXPECT_FALSE(add(qty("1 'mg'"), qty("1 'cm'")).has_value());
    EXPECT_FALSE(add(qty("1 year"), qty("1 'a'")).has_value());
    const Quantity big(Decimal::parse("999999999999999999999999999999999999").value(), "g");
    EXPECT_FALSE(add(big, qty("1 'g'")).has_value());
    EXPECT_FALSE(multiply(big, big).has_value());
}

TEST(FhirPathQuantity, AbsAndBoundariesOfTheValue) {
    const Quantity q = qty("-5.5 'mg'");
    EXPECT_EQ(equal(Quantity(q.value().abs(), q.unit()), qty("5.5 'mg'")), true);  // testAbs3
    EXPECT_EQ(Quantity(*qty("1.587 'cm'").value().low_boundary(8), "cm").to_string(), "1.58650000 'cm'");
    EXPECT_EQ(Quantity(*qty("1.587 'm'").value().high_boundary(8), "m").to_string(), "1.58750000 'm'");
}
