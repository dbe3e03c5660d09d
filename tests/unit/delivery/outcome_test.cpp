// The delivery engine's pure decisions (adapter/delivery/outcome.hpp): what a recipient's answer
// means, Retry-After, backoff with full jitter, the per-recipient circuit, and the requests that
// carry a queued message Bundle in each delivery style. No sockets, no store.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "adapter/delivery/outcome.hpp"
#include "adapter/store/store.hpp"
#include "fhir/json.hpp"

namespace helsebro::delivery {
namespace {

namespace json = fhir::json;
using namespace std::chrono_literals;
using Kind = Verdict::Kind;
using Style = config::Recipient::Style;

// A fixed "now": Wed, 25 Nov 2026 12:00:00 GMT.
const Clock::time_point kNow = std::chrono::sys_days{std::chrono::year{2026} / 11 / 25} + 12h;

Result answer(int status, std::string body = "", std::vector<http::Header> headers = {}) {
    Result r;
    r.failure = Failure::none;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    return r;
}

Result failed(Failure f, std::string detail = "") {
    Result r;
    r.failure = f;
    r.detail = std::move(detail);
    return r;
}

const char* kind_name(Kind k) {
    switch (k) {
        case Kind::delivered: return "delivered";
        case Kind::retry: return "retry";
        case Kind::dead: return "dead";
    }
    return "?";
}

#define EXPECT_KIND(verdict, expected)                                                            \
    EXPECT_EQ((verdict).kind, (expected)) << "got " << kind_name((verdict).kind) << " (" << (verdict).reason \
                                          << "), expected " << kind_name(expected)

json::Value parse(std::string_view text) {
    auto r = json::parse(text);
    if (!r.value) throw std::runtime_error("test JSON does not parse: " + r.error.message + " at " + r.error.path);
    return *r.value;
}

std::string str(const json::Value& v, std::string_view key) {
    auto s = v.string_at(key);
    return s ? std::string(*s) : std::string("<absent>");
}

// ---- judge: no answer at all ----

TEST(Judge, ConnectionFailuresAreRetriedAndCountAgainstTheRecipient) {
    for (Failure f : {Failure::connect_failed, Failure::tls_failed, Failure::timeout, Failure::connection_closed,
                      Failure::bad_response, Failure::too_large}) {
        SCOPED_TRACE(std::string(to_string(f)));
        Verdict v = judge(failed(f, "some detail"), kNow);
        EXPECT_KIND(v, Kind::retry);
        EXPECT_TRUE(v.recipient_fault);
        EXPECT_FALSE(v.retry_after.has_value());
        EXPECT_NE(v.reason.find(std::string(to_string(f))), std::string::npos) << v.reason;
        EXPECT_NE(v.reason.find("some detail"), std::string::npos) << v.reason;
    }
}

TEST(Judge, CancelledIsRetriedButIsNotTheRecipientsFault) {
    Verdict v = judge(failed(Failure::cancelled), kNow);
    EXPECT_KIND(v, Kind::retry);
    EXPECT_FALSE(v.recipient_fault);
    EXPECT_FALSE(v.retry_after.has_value());
}

TEST(Judge, FailureWinsOverAStaleStatus) {
    // A failed exchange is judged by its failure even if a status field was left set.
    Result r = failed(Failure::timeout);
    r.status = 200;
    Verdict v = judge(r, kNow);
    EXPECT_KIND(v, Kind::retry);
    EXPECT_TRUE(v.recipient_fault);
}

// ---- judge: plain statuses ----

TEST(Judge, SuccessStatusesAreDelivered) {
    for (int status : {200, 201, 202, 204}) {
        SCOPED_TRACE(status);
        Verdict v = judge(answer(status), kNow);
        EXPECT_KIND(v, Kind::delivered);
        EXPECT_FALSE(v.recipient_fault);
        EXPECT_FALSE(v.retry_after.has_value());
    }
}

TEST(Judge, TransientStatusesAreRetriedAsRecipientFaults) {
    for (int status : {408, 429, 500, 502, 503, 504}) {
        SCOPED_TRACE(status);
        Verdict v = judge(answer(status), kNow);
        EXPECT_KIND(v, Kind::retry);
        EXPECT_TRUE(v.recipient_fault);
        EXPECT_FALSE(v.retry_after.has_value());  // none asked for
        EXPECT_NE(v.reason.find(std::to_string(status)), std::string::npos) << v.reason;
    }
}

TEST(Judge, NotImplementedIsDead) {
    Verdict v = judge(answer(501), kNow);
    EXPECT_KIND(v, Kind::dead);
    EXPECT_FALSE(v.recipient_fault);
    EXPECT_NE(v.reason.find("501"), std::string::npos) << v.reason;
}

TEST(Judge, ClientErrorsAreDeadAndNotTheRecipientsFault) {
    for (int status : {400, 401, 403, 404, 405, 409, 410, 412, 415, 422}) {
        SCOPED_TRACE(status);
        Verdict v = judge(answer(status), kNow);
        EXPECT_KIND(v, Kind::dead);
        EXPECT_FALSE(v.recipient_fault);
        EXPECT_NE(v.reason.find(std::to_string(status)), std::string::npos) << v.reason;
    }
}

TEST(Judge, RedirectsAreDead) {
    for (int status : {300, 301, 302, 303, 304, 307, 308}) {
        SCOPED_TRACE(status);
        Verdict v = judge(answer(status, "", {{"Location", "https://elsewhere.example/fhir"}}), kNow);
        EXPECT_KIND(v, Kind::dead);
        EXPECT_FALSE(v.recipient_fault);
    }
}

TEST(Judge, ErrorStatusIsNotRescuedByABody) {
    // A 4xx with an OperationOutcome that only warns is still dead; a 500 with one is still a retry.
    const std::string warning =
        R"({"resourceType":"OperationOutcome","issue":[{"severity":"warning","code":"informational"}]})";
    EXPECT_KIND(judge(answer(422, warning), kNow), Kind::dead);
    EXPECT_KIND(judge(answer(500, warning), kNow), Kind::retry);
}

// ---- judge: Retry-After ----

TEST(Judge, RetryAfterSecondsIsHonouredFor429) {
    Verdict v = judge(answer(429, "", {{"Retry-After", "120"}}), kNow);
    EXPECT_KIND(v, Kind::retry);
    EXPECT_TRUE(v.recipient_fault);
    ASSERT_TRUE(v.retry_after.has_value());
    EXPECT_EQ(*v.retry_after, 120s);
}

TEST(Judge, RetryAfterSecondsIsHonouredFor503WhateverTheHeaderCase) {
    Verdict v = judge(answer(503, "", {{"Content-Type", "text/plain"}, {"retry-after", "30"}}), kNow);
    EXPECT_KIND(v, Kind::retry);
    ASSERT_TRUE(v.retry_after.has_value());
    EXPECT_EQ(*v.retry_after, 30s);
}

TEST(Judge, RetryAfterHttpDateIsHonouredFor503And429) {
    for (int status : {429, 503}) {
        SCOPED_TRACE(status);
        Verdict v = judge(answer(status, "", {{"Retry-After", "Wed, 25 Nov 2026 12:10:00 GMT"}}), kNow);
        EXPECT_KIND(v, Kind::retry);
        ASSERT_TRUE(v.retry_after.has_value());
        EXPECT_EQ(*v.retry_after, 10min);
    }
}

TEST(Judge, UnreadableRetryAfterIsIgnored) {
    Verdict v = judge(answer(429, "", {{"Retry-After", "in a while"}}), kNow);
    EXPECT_KIND(v, Kind::retry);
    EXPECT_FALSE(v.retry_after.has_value());
}

// ---- judge: 2xx bodies ----

std::string batch_response(std::string_view type, std::vector<std::string> statuses) {
    std::string out = R"({"resourceType":"Bundle","id":"resp-1","type":")" + std::string(type) + R"(","entry":[)";
    for (std::size_t i = 0; i < statuses.size(); ++i) {
        if (i) out += ",";
        if (statuses[i] == "<no response>") {
            out += R"({"fullUrl":"urn:uuid:x"})";
        } else if (statuses[i] == "<no status>") {
            out += R"({"response":{"location":"Patient/p)" + std::to_string(i) + R"("}})";
        } else {
            out += R"({"response":{"status":")" + statuses[i] + R"(","location":"Patient/p)" + std::to_string(i) +
                   R"(/_history/1"}})";
        }
    }
    return out + "]}";
}

TEST(Judge, BatchAndTransactionResponsesWithAllEntriesFineAreDelivered) {
    for (const char* type : {"batch-response", "transaction-response"}) {
        SCOPED_TRACE(type);
        Verdict v = judge(answer(200, batch_response(type, {"200 OK", "201 Created", "204", "304 Not Modified"})), kNow);
        EXPECT_KIND(v, Kind::delivered);
        EXPECT_FALSE(v.recipient_fault);
    }
}

TEST(Judge, BatchResponseWithABadRequestEntryIsDeadAndNamesTheEntry) {
    for (const char* type : {"batch-response", "transaction-response"}) {
        SCOPED_TRACE(type);
        Verdict v = judge(answer(200, batch_response(type, {"201 Created", "200 OK", "400 Bad Request"})), kNow);
        EXPECT_KIND(v, Kind::dead);
        EXPECT_FALSE(v.recipient_fault);
        EXPECT_NE(v.reason.find("entry 2"), std::string::npos) << v.reason;
        EXPECT_NE(v.reason.find("400"), std::string::npos) << v.reason;
    }
}

TEST(Judge, BatchResponseWithAnUnavailableEntryIsRetried) {
    Verdict v = judge(answer(200, batch_response("batch-response", {"201 Created", "503"})), kNow);
    EXPECT_KIND(v, Kind::retry);
    EXPECT_TRUE(v.recipient_fault);
    EXPECT_NE(v.reason.find("entry 1"), std::string::npos) << v.reason;
    EXPECT_NE(v.reason.find("503"), std::string::npos) << v.reason;
}

TEST(Judge, BatchResponseEntryWithoutStatusIsRetried) {
    for (const char* missing : {"<no status>", "<no response>"}) {
        SCOPED_TRACE(missing);
        Verdict v = judge(answer(200, batch_response("batch-response", {"200 OK", missing})), kNow);
        EXPECT_KIND(v, Kind::retry);
        EXPECT_NE(v.reason.find("entry 1"), std::string::npos) << v.reason;
    }
}

TEST(Judge, BatchResponseRetryNamesTheFirstFailedEntry) {
    Verdict v = judge(answer(200, batch_response("batch-response", {"200 OK", "503", "<no status>", "500"})), kNow);
    EXPECT_KIND(v, Kind::retry);
    EXPECT_NE(v.reason.find("entry 1"), std::string::npos) << v.reason;
}

TEST(Judge, APermanentEntryFailureOutweighsATransientOne) {
    // Retrying cannot help an entry that was refused for what it is.
    Verdict v = judge(answer(200, batch_response("transaction-response", {"503", "422 Unprocessable Entity"})), kNow);
    EXPECT_KIND(v, Kind::dead);
    EXPECT_NE(v.reason.find("entry 1"), std::string::npos) << v.reason;
}

TEST(Judge, EntryStatusesOf408And429AreRetried) {
    EXPECT_KIND(judge(answer(200, batch_response("batch-response", {"408 Request Timeout"})), kNow), Kind::retry);
    EXPECT_KIND(judge(answer(200, batch_response("batch-response", {"429 Too Many Requests"})), kNow), Kind::retry);
    EXPECT_KIND(judge(answer(200, batch_response("batch-response", {"501 Not Implemented"})), kNow), Kind::dead);
}

std::string response_message(std::string_view code) {
    return std::string(R"({"resourceType":"Bundle","id":"reply-9","type":"message","timestamp":"2026-11-25T12:00:01Z",
"entry":[{"fullUrl":"urn:uuid:8b0c1f4e-8a53-4b1e-9c43-7d0f2b4b7a11","resource":{"resourceType":"MessageHeader",
"id":"8b0c1f4e-8a53-4b1e-9c43-7d0f2b4b7a11","eventCoding":{"system":"http://example.org/fhir/message-events","code":"careplan-notify"},
"source":{"endpoint":"https://recipient.example/fhir"},"response":{"identifier":"msg-1","code":")") +
           std::string(code) + R"("}}}]})";
}

TEST(Judge, MessageResponseOkIsDelivered) {
    Verdict v = judge(answer(200, response_message("ok")), kNow);
    EXPECT_KIND(v, Kind::delivered);
    EXPECT_FALSE(v.recipient_fault);
}

TEST(Judge, MessageResponseTransientErrorIsRetried) {
    Verdict v = judge(answer(200, response_message("transient-error")), kNow);
    EXPECT_KIND(v, Kind::retry);
    EXPECT_TRUE(v.recipient_fault);
    EXPECT_NE(v.reason.find("transient-error"), std::string::npos) << v.reason;
}

TEST(Judge, MessageResponseFatalErrorIsDead) {
    Verdict v = judge(answer(200, response_message("fatal-error")), kNow);
    EXPECT_KIND(v, Kind::dead);
    EXPECT_FALSE(v.recipient_fault);
    EXPECT_NE(v.reason.find("fatal-error"), std::string::npos) << v.reason;
}

std::string outcome(std::string_view issues) {
    return R"({"resourceType":"OperationOutcome","id":"oo-1","issue":[)" + std::string(issues) + "]}";
}

TEST(Judge, OperationOutcomeWithAProcessingErrorIsDead) {
    Verdict v = judge(answer(200, outcome(R"({"severity":"warning","code":"informational","diagnostics":"fyi"},
{"severity":"error","code":"processing","diagnostics":"CarePlan.subject cannot be resolved"})")),
                      kNow);
    EXPECT_KIND(v, Kind::dead);
    EXPECT_FALSE(v.recipient_fault);
    EXPECT_NE(v.reason.find("processing"), std::string::npos) << v.reason;
}

TEST(Judge, OperationOutcomeWithAFatalIssueIsDead) {
    Verdict v = judge(answer(201, outcome(R"({"severity":"fatal","code":"structure"})")), kNow);
    EXPECT_KIND(v, Kind::dead);
}

TEST(Judge, OperationOutcomeWithATransientErrorIsRetried) {
    for (const char* code : {"transient", "throttled", "timeout", "lock"}) {
        SCOPED_TRACE(code);
        Verdict v = judge(answer(200, outcome(R"({"severity":"error","code":")" + std::string(code) + R"("})")), kNow);
        EXPECT_KIND(v, Kind::retry);
        EXPECT_TRUE(v.recipient_fault);
        EXPECT_NE(v.reason.find(code), std::string::npos) << v.reason;
    }
}

TEST(Judge, OperationOutcomeWithOnlyWarningsIsDelivered) {
    Verdict v = judge(answer(200, outcome(R"({"severity":"information","code":"informational","diagnostics":"stored"},
{"severity":"warning","code":"business-rule","diagnostics":"unusual but accepted"})")),
                      kNow);
    EXPECT_KIND(v, Kind::delivered);
    EXPECT_FALSE(v.recipient_fault);
}

TEST(Judge, NonJsonAndUnrelatedBodiesOfA2xxAreDelivered) {
    for (const char* body : {"OK", "<html><body>Accepted</body></html>", "{\"resourceType\":", "[1,2,3]",
                             R"({"resourceType":"CarePlan","id":"cp-1","status":"active","intent":"plan"})",
                             R"({"resourceType":"Bundle","id":"s","type":"searchset","entry":[{"response":{"status":"500"}}]})"}) {
        SCOPED_TRACE(body);
        Verdict v = judge(answer(200, body), kNow);
        EXPECT_KIND(v, Kind::delivered);
    }
}

// ---- parse_retry_after ----

TEST(ParseRetryAfter, DelaySeconds) {
    EXPECT_EQ(parse_retry_after("120", kNow), std::optional<milliseconds>(120s));
    EXPECT_EQ(parse_retry_after("1", kNow), std::optional<milliseconds>(1s));
}

TEST(ParseRetryAfter, SurroundingWhitespaceIsTrimmed) {
    EXPECT_EQ(parse_retry_after(" 5 ", kNow), std::optional<milliseconds>(5s));
    EXPECT_EQ(parse_retry_after("\t7\t", kNow), std::optional<milliseconds>(7s));
}

TEST(ParseRetryAfter, ZeroMeansNow) {
    auto v = parse_retry_after("0", kNow);
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, 0ms);
}

TEST(ParseRetryAfter, HugeValuesAreCappedAtADay) {
    EXPECT_EQ(parse_retry_after("86400", kNow), std::optional<milliseconds>(24h));
    EXPECT_EQ(parse_retry_after("86401", kNow), std::optional<milliseconds>(24h));
    EXPECT_EQ(parse_retry_after("31536000", kNow), std::optional<milliseconds>(24h));
    EXPECT_EQ(parse_retry_after("99999999999999999999999999999", kNow), std::optional<milliseconds>(24h));
}

TEST(ParseRetryAfter, HttpDateInTheFuture) {
    EXPECT_EQ(parse_retry_after("Wed, 25 Nov 2026 13:00:00 GMT", kNow), std::optional<milliseconds>(1h));
    EXPECT_EQ(parse_retry_after("Wed, 25 Nov 2026 12:00:42 GMT", kNow), std::optional<milliseconds>(42s));
    EXPECT_EQ(parse_retry_after("Thu, 26 Nov 2026 00:00:00 GMT", kNow), std::optional<milliseconds>(12h));
    // Sub-second "now" is taken into account, not rounded away.
    EXPECT_EQ(parse_retry_after("Wed, 25 Nov 2026 12:00:10 GMT", kNow + 250ms), std::optional<milliseconds>(9750ms));
}

TEST(ParseRetryAfter, HttpDateFarAheadIsCappedAtADay) {
    EXPECT_EQ(parse_retry_after("Fri, 01 Jan 2027 00:00:00 GMT", kNow), std::optional<milliseconds>(24h));
}

TEST(ParseRetryAfter, HttpDateInThePastMeansNow) {
    EXPECT_EQ(parse_retry_after("Wed, 25 Nov 2026 11:59:59 GMT", kNow), std::optional<milliseconds>(0ms));
    EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", kNow), std::optional<milliseconds>(0ms));
    EXPECT_EQ(parse_retry_after("Wed, 25 Nov 2026 12:00:00 GMT", kNow), std::optional<milliseconds>(0ms));
}

TEST(ParseRetryAfter, GarbageIsNullopt) {
    for (const char* v : {"soon", "-5", "+5", "1.5", "12abc", "5 s", "0x10", "Wed, 25 Nov 2026 13:00:00",
                          "Wed, 25 Nov 2026 13:00:00 GMT and then some", "Wed, 25 Foo 2026 13:00:00 GMT",
                          "2026-11-25T13:00:00Z"}) {
        SCOPED_TRACE(v);
        EXPECT_FALSE(parse_retry_after(v, kNow).has_value());
    }
}

TEST(ParseRetryAfter, EmptyIsNullopt) {
    EXPECT_FALSE(parse_retry_after("", kNow).has_value());
    EXPECT_FALSE(parse_retry_after("   ", kNow).has_value());
    EXPECT_FALSE(parse_retry_after("\t", kNow).has_value());
}

// ---- backoff ----

// min(max, initial * 2^(attempt-1)), without overflow.
std::int64_t expected_cap(std::uint64_t attempt, std::int64_t initial, std::int64_t max) {
    std::int64_t cap = initial;
    for (std::uint64_t i = 1; i < attempt && cap < max; ++i) cap = cap > max / 2 ? max : cap * 2;
    return std::min(cap, max);
}

TEST(Backoff, AlwaysWithinZeroAndTheCap) {
    std::mt19937_64 rng(20261125);
    const milliseconds initial = 100ms, max = 30s;
    for (std::uint64_t attempt = 1; attempt <= 40; ++attempt) {
        const auto cap = expected_cap(attempt, initial.count(), max.count());
        for (int i = 0; i < 1000; ++i) {
            const auto d = backoff(attempt, initial, max, rng());
            ASSERT_GE(d.count(), 0) << "attempt " << attempt;
            ASSERT_LE(d.count(), cap) << "attempt " << attempt;
        }
    }
    // Edge values of the random number stay inside too.
    for (std::uint64_t random : {std::uint64_t{0}, std::uint64_t{1}, std::numeric_limits<std::uint64_t>::max(),
                                 std::uint64_t{1} << 63}) {
        for (std::uint64_t attempt = 1; attempt <= 20; ++attempt) {
            const auto d = backoff(attempt, initial, max, random);
            EXPECT_GE(d.count(), 0);
            EXPECT_LE(d.count(), expected_cap(attempt, initial.count(), max.count()));
        }
    }
}

TEST(Backoff, TheCapDoublesPerAttemptUntilMax) {
    // Over many draws the largest delay seen is close to the cap of that attempt, so the cap really
    // is initial * 2^(attempt-1) and not something smaller.
    std::mt19937_64 rng(7);
    const milliseconds initial = 1000ms, max = 300000ms;
    for (std::uint64_t attempt = 1; attempt <= 12; ++attempt) {
        const auto cap = expected_cap(attempt, initial.count(), max.count());
        std::int64_t hi = 0;
        for (int i = 0; i < 2000; ++i) hi = std::max(hi, backoff(attempt, initial, max, rng()).count());
        SCOPED_TRACE(attempt);
        EXPECT_LE(hi, cap);
        EXPECT_GE(hi, cap * 99 / 100);
    }
}

TEST(Backoff, ReachesBothEndsOfASmallRange) {
    // initial 100 ms, attempt 1: uniform over 0..100 inclusive; 10000 draws see both ends.
    std::mt19937_64 rng(42);
    bool zero = false, cap = false;
    for (int i = 0; i < 10000; ++i) {
        const auto d = backoff(1, 100ms, 30s, rng());
        zero = zero || d == 0ms;
        cap = cap || d == 100ms;
    }
    EXPECT_TRUE(zero);
    EXPECT_TRUE(cap);
    // Attempt 3: 0..400.
    bool cap3 = false;
    for (int i = 0; i < 20000; ++i) cap3 = cap3 || backoff(3, 100ms, 30s, rng()) == 400ms;
    EXPECT_TRUE(cap3);
}

TEST(Backoff, HugeAttemptNumbersNeverExceedMax) {
    std::mt19937_64 rng(99);
    const milliseconds max = 1h;
    for (std::uint64_t attempt : {std::uint64_t{30}, std::uint64_t{63}, std::uint64_t{64}, std::uint64_t{65},
                                  std::uint64_t{1000}, std::uint64_t{1} << 40, std::numeric_limits<std::uint64_t>::max()}) {
        SCOPED_TRACE(attempt);
        std::int64_t lo = max.count(), hi = 0;
        for (int i = 0; i < 1000; ++i) {
            const auto d = backoff(attempt, 1s, max, rng());
            ASSERT_GE(d.count(), 0);
            ASSERT_LE(d, max);
            lo = std::min(lo, d.count());
            hi = std::max(hi, d.count());
        }
        // Still spread over the whole range, not collapsed to 0 by an overflow.
        EXPECT_GT(hi, max.count() * 95 / 100);
        EXPECT_LT(lo, max.count() * 5 / 100);
    }
}

TEST(Backoff, NoOverflowWithTheLargestMax) {
    std::mt19937_64 rng(5);
    const milliseconds max = milliseconds::max();
    for (std::uint64_t attempt : {std::uint64_t{1}, std::uint64_t{62}, std::uint64_t{64}, std::uint64_t{200},
                                  std::numeric_limits<std::uint64_t>::max()}) {
        for (int i = 0; i < 100; ++i) {
            const auto d = backoff(attempt, 1000ms, max, rng());
            ASSERT_GE(d.count(), 0) << "attempt " << attempt;
        }
    }
    EXPECT_GE(backoff(std::numeric_limits<std::uint64_t>::max(), 1000ms, max, std::numeric_limits<std::uint64_t>::max())
                  .count(),
              0);
}

TEST(Backoff, FullJitterUsesTheWholeRange) {
    // attempt 5 with initial 1 s and max 5 min: cap 16 s.
    std::mt19937_64 rng(123456789);
    const std::int64_t cap = 16000;
    std::int64_t lo = cap, hi = 0;
    double sum = 0;
    int buckets[4] = {0, 0, 0, 0};
    for (int i = 0; i < 1000; ++i) {
        const auto d = backoff(5, 1s, 300s, rng()).count();
        lo = std::min(lo, d);
        hi = std::max(hi, d);
        sum += static_cast<double>(d);
        ++buckets[std::min<std::int64_t>(3, d * 4 / (cap + 1))];
    }
    EXPECT_LT(lo, cap * 3 / 100);
    EXPECT_GT(hi, cap * 97 / 100);
    EXPECT_NEAR(sum / 1000.0, cap / 2.0, cap * 0.06);
    for (int b : buckets) EXPECT_GT(b, 180) << "a quarter of the range is under-used";
}

TEST(Backoff, DependsOnTheRandomNumber) {
    // Different random numbers give different delays (jitter), the same one the same delay.
    EXPECT_EQ(backoff(4, 1s, 300s, 123456), backoff(4, 1s, 300s, 123456));
    std::mt19937_64 rng(1);
    std::vector<std::int64_t> seen;
    for (int i = 0; i < 50; ++i) seen.push_back(backoff(4, 1s, 300s, rng()).count());
    std::sort(seen.begin(), seen.end());
    EXPECT_GT(std::unique(seen.begin(), seen.end()) - seen.begin(), 40);
}

// ---- Circuit ----

TEST(Circuit, ClosedAllowsFreely) {
    Circuit c(3, 10s, 5min);
    EXPECT_EQ(c.state(), Circuit::State::closed);
    for (int i = 0; i < 100; ++i) EXPECT_TRUE(c.allow(kNow + std::chrono::seconds(i)));
    EXPECT_EQ(c.state(), Circuit::State::closed);
    EXPECT_EQ(c.consecutive_faults(), 0u);
}

TEST(Circuit, OpensAfterThresholdFaultsInARow) {
    Circuit c(3, 10s, 5min);
    c.fault(kNow);
    c.fault(kNow + 1s);
    EXPECT_EQ(c.state(), Circuit::State::closed);
    EXPECT_EQ(c.consecutive_faults(), 2u);
    EXPECT_TRUE(c.allow(kNow + 2s));
    c.fault(kNow + 3s);
    EXPECT_EQ(c.state(), Circuit::State::open);
    EXPECT_EQ(c.reopen_at(), kNow + 3s + 10s);
    EXPECT_FALSE(c.allow(kNow + 3s));
}

TEST(Circuit, ASuccessInBetweenResetsTheCount) {
    Circuit c(3, 10s, 5min);
    c.fault(kNow);
    c.fault(kNow);
    c.success();
    EXPECT_EQ(c.consecutive_faults(), 0u);
    c.fault(kNow);
    c.fault(kNow);
    EXPECT_EQ(c.state(), Circuit::State::closed);
    EXPECT_TRUE(c.allow(kNow));
    c.fault(kNow + 1s);
    EXPECT_EQ(c.state(), Circuit::State::open);
}

TEST(Circuit, ThresholdZeroActsAsOne) {
    Circuit c(0, 10s, 5min);
    EXPECT_TRUE(c.allow(kNow));
    c.fault(kNow);
    EXPECT_EQ(c.state(), Circuit::State::open);
}

TEST(Circuit, OpenRefusesUntilReopenAtThenAllowsExactlyOneProbe) {
    Circuit c(1, 10s, 5min);
    c.fault(kNow);
    ASSERT_EQ(c.state(), Circuit::State::open);
    EXPECT_FALSE(c.allow(kNow + 1s));
    EXPECT_FALSE(c.allow(kNow + 10s - 1ms));
    EXPECT_EQ(c.state(), Circuit::State::open);
    EXPECT_TRUE(c.allow(kNow + 10s));  // the probe
    EXPECT_EQ(c.state(), Circuit::State::half_open);
    EXPECT_FALSE(c.allow(kNow + 10s));
    EXPECT_FALSE(c.allow(kNow + 11s));
    EXPECT_FALSE(c.allow(kNow + 1h));
    EXPECT_EQ(c.state(), Circuit::State::half_open);
}

TEST(Circuit, ProbeSuccessCloses) {
    Circuit c(2, 10s, 5min);
    c.fault(kNow);
    c.fault(kNow);
    ASSERT_TRUE(c.allow(kNow + 10s));
    c.success();
    EXPECT_EQ(c.state(), Circuit::State::closed);
    EXPECT_EQ(c.consecutive_faults(), 0u);
    EXPECT_TRUE(c.allow(kNow + 10s));
    EXPECT_TRUE(c.allow(kNow + 10s));
    // Closed again means the full threshold is needed to open it.
    c.fault(kNow + 11s);
    EXPECT_EQ(c.state(), Circuit::State::closed);
    c.fault(kNow + 12s);
    EXPECT_EQ(c.state(), Circuit::State::open);
    EXPECT_EQ(c.reopen_at(), kNow + 12s + 10s);  // the wait is back to the initial one
}

TEST(Circuit, ProbeFaultReopensWithADoubledWaitUpToMax) {
    Circuit c(1, 10s, 45s);
    auto t = kNow;
    c.fault(t);
    EXPECT_EQ(c.reopen_at(), t + 10s);
    for (milliseconds expected : {milliseconds(20s), milliseconds(40s), milliseconds(45s), milliseconds(45s)}) {
        t = c.reopen_at();
        ASSERT_TRUE(c.allow(t));
        ASSERT_EQ(c.state(), Circuit::State::half_open);
        c.fault(t + 1s);
        EXPECT_EQ(c.state(), Circuit::State::open);
        EXPECT_EQ(c.reopen_at(), t + 1s + expected);
        EXPECT_FALSE(c.allow(t + 1s));
        EXPECT_FALSE(c.allow(c.reopen_at() - 1ms));
    }
    // After a successful probe the next opening waits the initial time again.
    ASSERT_TRUE(c.allow(c.reopen_at()));
    c.success();
    c.fault(kNow + 1h);
    EXPECT_EQ(c.reopen_at(), kNow + 1h + 10s);
}

TEST(Circuit, AbandonedProbeLetsAnotherProbeGo) {
    Circuit c(1, 10s, 5min);
    c.fault(kNow);
    ASSERT_TRUE(c.allow(kNow + 10s));
    EXPECT_FALSE(c.allow(kNow + 10s));
    c.abandon_probe();
    EXPECT_EQ(c.state(), Circuit::State::half_open);
    EXPECT_TRUE(c.allow(kNow + 10s));
    EXPECT_FALSE(c.allow(kNow + 10s));
}

TEST(Circuit, FaultsWhileOpenDoNotPushReopenAt) {
    Circuit c(2, 10s, 5min);
    c.fault(kNow);
    c.fault(kNow);
    ASSERT_EQ(c.state(), Circuit::State::open);
    const auto reopen = c.reopen_at();
    // Requests sent before it opened come back failed later on.
    c.fault(kNow + 3s);
    c.fault(kNow + 9s);
    EXPECT_EQ(c.state(), Circuit::State::open);
    EXPECT_EQ(c.reopen_at(), reopen);
    EXPECT_TRUE(c.allow(reopen));
    // ...and they did not double the wait either: a failed probe now waits 20 s.
    c.fault(reopen);
    EXPECT_EQ(c.reopen_at(), reopen + 20s);
}

TEST(Circuit, MaxWaitBelowInitialIsRaisedToInitial) {
    Circuit c(1, 10s, 1s);
    c.fault(kNow);
    EXPECT_EQ(c.reopen_at(), kNow + 10s);
    ASSERT_TRUE(c.allow(kNow + 10s));
    c.fault(kNow + 10s);
    EXPECT_EQ(c.reopen_at(), kNow + 20s);
}

TEST(Circuit, StateNames) {
    EXPECT_EQ(to_string(Circuit::State::closed), "closed");
    EXPECT_EQ(to_string(Circuit::State::open), "open");
    EXPECT_EQ(to_string(Circuit::State::half_open), "half-open");
}

// ---- requests_for ----

constexpr const char* kCarePlanUuid = "2f0c6d4e-5b1a-4c7e-9d3f-0a1b2c3d4e5f";
constexpr const char* kPatientUuid = "9a8b7c6d-1e2f-4a3b-8c4d-5e6f7a8b9c0d";
constexpr const char* kPractitionerUuid = "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f";

// A message: MessageHeader, a CarePlan without an id referring to a Patient (with an id of its
// own, different from its urn:uuid) and, nested in an array of objects, a Practitioner without id.
const std::string kMessage = std::string(R"({"resourceType":"Bundle","id":"msg-1","type":"message",
"timestamp":"2026-11-25T12:00:00Z","entry":[
{"fullUrl":"urn:uuid:0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e","resource":{"resourceType":"MessageHeader",
 "id":"0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e","eventCoding":{"system":"http://example.org/fhir/message-events",
 "code":"careplan-notify"},"source":{"endpoint":"https://helsebro.example/fhir"},
 "focus":[{"reference":"urn:uuid:2f0c6d4e-5b1a-4c7e-9d3f-0a1b2c3d4e5f"}]}},
{"fullUrl":"urn:uuid:2f0c6d4e-5b1a-4c7e-9d3f-0a1b2c3d4e5f","resource":{"resourceType":"CarePlan",
 "status":"active","intent":"plan","subject":{"reference":"urn:uuid:9a8b7c6d-1e2f-4a3b-8c4d-5e6f7a8b9c0d",
 "display":"Kari Nordmann"},"author":{"reference":"Organization/org-1"},
 "activity":[{"detail":{"status":"scheduled","performer":[{"reference":"urn:uuid:c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"},
 {"reference":"Practitioner/already-known"}]}}],
 "note":[{"text":"see urn:uuid:9a8b7c6d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"}]}},
{"fullUrl":"urn:uuid:9a8b7c6d-1e2f-4a3b-8c4d-5e6f7a8b9c0d","resource":{"resourceType":"Patient","id":"pat-7",
 "name":[{"family":"Nordmann","given":["Kari"]}],"gender":"female"}},
{"fullUrl":"urn:uuid:c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f","resource":{"resourceType":"Practitioner",
 "name":[{"family":"Lege","given":["Ola"]}]}}
]})");

TEST(RequestsFor, ProcessMessagePostsTheBundleUnchanged) {
    auto requests = requests_for(Style::process_message, kMessage);
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].method, "POST");
    EXPECT_EQ(requests[0].path, "/$process-message");
    EXPECT_EQ(requests[0].body, kMessage);  // byte for byte
    EXPECT_EQ(requests[0].idempotency_key, "msg-1");
}

TEST(RequestsFor, TransactionIsOneBundleOfPuts) {
    auto requests = requests_for(Style::transaction, kMessage);
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].method, "POST");
    EXPECT_EQ(requests[0].path, "");
    EXPECT_EQ(requests[0].idempotency_key, "msg-1");

    json::Value bundle = parse(requests[0].body);
    EXPECT_EQ(str(bundle, "resourceType"), "Bundle");
    EXPECT_EQ(str(bundle, "type"), "transaction");
    EXPECT_EQ(str(bundle, "id"), "msg-1");
    const json::Value* entries = bundle.find("entry");
    ASSERT_TRUE(entries && entries->is_array());
    ASSERT_EQ(entries->items().size(), 3u);  // no MessageHeader

    struct Want {
        std::string type, id, full_url;
    };
    const std::vector<Want> want = {
        {"CarePlan", kCarePlanUuid, std::string("urn:uuid:") + kCarePlanUuid},
        {"Patient", "pat-7", std::string("urn:uuid:") + kPatientUuid},
        {"Practitioner", kPractitionerUuid, std::string("urn:uuid:") + kPractitionerUuid},
    };
    for (std::size_t i = 0; i < want.size(); ++i) {
        SCOPED_TRACE(i);
        const json::Value& entry = entries->items()[i];
        const json::Value* resource = entry.find("resource");
        const json::Value* request = entry.find("request");
        ASSERT_TRUE(resource && request);
        EXPECT_EQ(str(*resource, "resourceType"), want[i].type);
        EXPECT_NE(str(*resource, "resourceType"), "MessageHeader");
        EXPECT_EQ(str(*resource, "id"), want[i].id);
        EXPECT_EQ(str(*request, "method"), "PUT");
        EXPECT_EQ(str(*request, "url"), want[i].type + "/" + want[i].id);
        // The fullUrl stays, so the server can resolve the urn:uuid references inside the transaction.
        EXPECT_EQ(str(entry, "fullUrl"), want[i].full_url);
    }
    // The data is carried over.
    const json::Value& patient = *entries->items()[1].find("resource");
    ASSERT_TRUE(patient.find("name"));
    EXPECT_EQ(str(patient.find("name")->items().at(0), "family"), "Nordmann");
    EXPECT_EQ(requests[0].body.find("MessageHeader"), std::string::npos);
}

TEST(RequestsFor, CreatePutsEachResourceWithReferencesRewritten) {
    auto requests = requests_for(Style::create, kMessage);
    ASSERT_EQ(requests.size(), 3u);
    const std::string care_plan_path = std::string("/CarePlan/") + kCarePlanUuid;
    const std::string practitioner_path = std::string("/Practitioner/") + kPractitionerUuid;
    EXPECT_EQ(requests[0].path, care_plan_path);
    EXPECT_EQ(requests[1].path, "/Patient/pat-7");
    EXPECT_EQ(requests[2].path, practitioner_path);
    for (std::size_t i = 0; i < requests.size(); ++i) {
        SCOPED_TRACE(i);
        EXPECT_EQ(requests[i].method, "PUT");
        EXPECT_EQ(requests[i].idempotency_key, "msg-1:" + std::to_string(i));
    }

    json::Value care_plan = parse(requests[0].body);
    EXPECT_EQ(str(care_plan, "resourceType"), "CarePlan");
    EXPECT_EQ(str(care_plan, "id"), kCarePlanUuid);
    EXPECT_EQ(str(*care_plan.find("subject"), "reference"), "Patient/pat-7");
    EXPECT_EQ(str(*care_plan.find("subject"), "display"), "Kari Nordmann");
    EXPECT_EQ(str(*care_plan.find("author"), "reference"), "Organization/org-1");  // untouched
    const json::Value& performers = *care_plan.find("activity")->items().at(0).find("detail")->find("performer");
    ASSERT_EQ(performers.items().size(), 2u);
    EXPECT_EQ(str(performers.items()[0], "reference"), std::string("Practitioner/") + kPractitionerUuid);
    EXPECT_EQ(str(performers.items()[1], "reference"), "Practitioner/already-known");
    // Only reference elements are rewritten, not text that happens to contain the fullUrl.
    EXPECT_EQ(str(care_plan.find("note")->items().at(0), "text"), std::string("see urn:uuid:") + kPatientUuid);

    json::Value patient = parse(requests[1].body);
    EXPECT_EQ(str(patient, "resourceType"), "Patient");
    EXPECT_EQ(str(patient, "id"), "pat-7");
    EXPECT_EQ(str(patient, "gender"), "female");

    json::Value practitioner = parse(requests[2].body);
    EXPECT_EQ(str(practitioner, "resourceType"), "Practitioner");
    EXPECT_EQ(str(practitioner, "id"), kPractitionerUuid);

    for (const auto& r : requests) EXPECT_EQ(r.body.find("MessageHeader"), std::string::npos) << r.body;
}

TEST(RequestsFor, ResourceWithNeitherIdNorUrnUuidIsRefused) {
    const std::string message = R"({"resourceType":"Bundle","id":"msg-2","type":"message","entry":[
{"fullUrl":"urn:uuid:0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e","resource":{"resourceType":"MessageHeader",
 "eventCoding":{"system":"http://example.org/fhir/message-events","code":"x"},"source":{"endpoint":"https://a.example"}}},
{"resource":{"resourceType":"Observation","status":"final","code":{"text":"pulse"}}}]})";
    EXPECT_THROW(requests_for(Style::transaction, message), std::invalid_argument);
    EXPECT_THROW(requests_for(Style::create, message), std::invalid_argument);
    // process_message does not look inside.
    EXPECT_EQ(requests_for(Style::process_message, message).size(), 1u);
}

TEST(RequestsFor, NotAMessageBundleIsRefused) {
    const std::vector<std::string> bad = {
        R"({"resourceType":"Bundle","id":"b-1","type":"collection","entry":[]})",
        R"({"resourceType":"Bundle","id":"b-2","type":"transaction","entry":[]})",
        R"({"resourceType":"Bundle","id":"b-3","entry":[]})",
        R"({"resourceType":"Patient","id":"p-1","type":"message"})",
        R"(["resourceType","Bundle"])",
        R"({"resourceType":"Bundle","id":"msg-1","type":"message")",  // truncated
        "not json at all",
        "",
    };
    for (Style style : {Style::process_message, Style::transaction, Style::create}) {
        for (const auto& message : bad) {
            SCOPED_TRACE(message);
            EXPECT_THROW(requests_for(style, message), std::invalid_argument);
        }
    }
}

// The outbox knows each message's id: process_message then sends the bytes as stored, unparsed,
// exactly as it would after parsing them.
TEST(RequestsFor, AKnownIdSendsTheMessageAsStoredWithoutParsingIt) {
    const std::string message = R"({"resourceType":"Bundle","id":"msg-9","type":"message","entry":[]})";
    auto parsed = requests_for(Style::process_message, message);
    auto known = requests_for(Style::process_message, message, "msg-9");
    ASSERT_EQ(known.size(), 1u);
    ASSERT_EQ(parsed.size(), 1u);
    EXPECT_EQ(known[0].method, parsed[0].method);
    EXPECT_EQ(known[0].path, parsed[0].path);
    EXPECT_EQ(known[0].body, parsed[0].body);
    EXPECT_EQ(known[0].idempotency_key, parsed[0].idempotency_key);
    // The other styles need the resources, so they still parse (and refuse what is not a message).
    EXPECT_THROW(requests_for(Style::transaction, "not json", "msg-9"), std::invalid_argument);
}

TEST(RequestsFor, MessageWithOnlyAHeaderGivesAnEmptyTransactionAndNoCreates) {
    const std::string message = R"({"resourceType":"Bundle","id":"msg-3","type":"message","entry":[
{"fullUrl":"urn:uuid:0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e","resource":{"resourceType":"MessageHeader",
 "eventCoding":{"system":"http://example.org/fhir/message-events","code":"ping"},"source":{"endpoint":"https://a.example"}}}]})";
    auto tx = requests_for(Style::transaction, message);
    ASSERT_EQ(tx.size(), 1u);
    json::Value bundle = parse(tx[0].body);
    EXPECT_EQ(str(bundle, "id"), "msg-3");
    ASSERT_TRUE(bundle.find("entry"));
    EXPECT_TRUE(bundle.find("entry")->items().empty());
    EXPECT_TRUE(requests_for(Style::create, message).empty());
}

// ---- decide: what an attempt's verdict writes ----

store::Queued row_created(Clock::time_point created, std::int64_t attempts) {
    store::Queued q;
    q.id = "m-1";
    q.created_at = store::to_instant(created);
    q.attempts = attempts;
    return q;
}

Result answered(int status, std::string body) {
    Result r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

TEST(Decide, DeliveredKeepsTheStatusButNotTheAnswer) {
    const auto now = Clock::now();
    auto a = decide(Verdict{Kind::delivered, "answered 200", {}, false}, answered(200, "{\"ok\":1}"), row_created(now, 0),
                    {1, 300, 0}, now, 42, 100);
    EXPECT_EQ(a.result, store::Attempt::Result::delivered);
    EXPECT_EQ(a.status, 200);
    EXPECT_TRUE(a.response.empty());
    EXPECT_TRUE(a.error.empty());
}

TEST(Decide, DeadKeepsTheReasonAndTheAnswerUpToTheCap) {
    const auto now = Clock::now();
    auto a = decide(Verdict{Kind::dead, "answered 422", {}, false}, answered(422, std::string(500, 'x')), row_created(now, 2),
                    {1, 300, 0}, now, 42, 100);
    EXPECT_EQ(a.result, store::Attempt::Result::dead);
    EXPECT_EQ(a.error, "answered 422");
    EXPECT_EQ(a.response.size(), 100u);
}

TEST(Decide, RetryWaitsWithinTheBackoffAndNeverLessThanRetryAfter) {
    const auto now = Clock::now();
    const auto ms_of = [&](const store::Attempt& a) { return a.next_attempt_ms - std::chrono::duration_cast<milliseconds>(now.time_since_epoch()).count(); };
    std::mt19937_64 random(7);
    for (int i = 0; i < 200; ++i) {
        auto a = decide(Verdict{Kind::retry, "answered 503", {}, true}, answered(503, ""), row_created(now, 3), {1, 300, 0}, now,
                        random(), 100);
        ASSERT_EQ(a.result, store::Attempt::Result::retry);
        EXPECT_GE(ms_of(a), 0);
        EXPECT_LE(ms_of(a), 8000);  // attempt 4: initial 1 s doubled three times
    }
    auto throttled = decide(Verdict{Kind::retry, "answered 429", 60s, true}, answered(429, ""), row_created(now, 0), {1, 300, 0},
                            now, 0, 100);
    EXPECT_EQ(ms_of(throttled), 60000);
}

TEST(Decide, AMessageOlderThanTheMaximumAgeIsGivenUpAsDead) {
    const auto now = Clock::now();
    auto old = decide(Verdict{Kind::retry, "no answer: connect_failed", {}, true}, Result{Failure::connect_failed, "", 0, {}, {}, {}},
                      row_created(now - 25h, 40), {1, 300, 24}, now, 1, 100);
    EXPECT_EQ(old.result, store::Attempt::Result::dead);
    EXPECT_EQ(old.error, "gave up after 24 hours (retry.max_age_hours); last: no answer: connect_failed");
    auto young = decide(Verdict{Kind::retry, "x", {}, true}, Result{Failure::timeout, "", 0, {}, {}, {}}, row_created(now - 23h, 40),
                        {1, 300, 24}, now, 1, 100);
    EXPECT_EQ(young.result, store::Attempt::Result::retry);
    auto forever = decide(Verdict{Kind::retry, "x", {}, true}, Result{Failure::timeout, "", 0, {}, {}, {}},
                          row_created(now - 24h * 365, 4000), {1, 300, 0}, now, 1, 100);
    EXPECT_EQ(forever.result, store::Attempt::Result::retry);
    auto replayed_row = row_created(now - 25h, 40);
    replayed_row.age_from = store::to_instant(now - 1h);  // an administrator replayed it an hour ago
    auto replayed = decide(Verdict{Kind::retry, "x", {}, true}, Result{Failure::timeout, "", 0, {}, {}, {}}, replayed_row,
                           {1, 300, 24}, now, 1, 100);
    EXPECT_EQ(replayed.result, store::Attempt::Result::retry);
}

}  // namespace
}  // namespace helsebro::delivery
