// Building answers (adapter/ingress/reply.hpp): HTTP dates, ETags, version paths, status lines and
// OperationOutcome replies.
#include <gtest/gtest.h>

#include <string>

#include "adapter/ingress/reply.hpp"
#include "fhir/json.hpp"

namespace helsebro::ingress {
namespace {

using fhir::json::Value;

std::string header(const http::Response& r, std::string_view name) {
    std::string found;
    int n = 0;
    for (const auto& h : r.headers)
        if (h.name == name) {
            found = h.value;
            ++n;
        }
    EXPECT_LE(n, 1) << name << " appears more than once";
    return found;
}

Value parsed(const std::string& body) {
    auto p = fhir::json::parse(body);
    if (!p.value) {
        ADD_FAILURE() << "not JSON: " << p.error.message << "\n" << body;
        return Value::object();
    }
    return *p.value;
}

TEST(HttpDate, TurnsAFhirInstantIntoAnImfFixdate) {
    // RFC 9110 §5.6.7: "Sun, 06 Nov 1994 08:49:37 GMT"; milliseconds are dropped.
    EXPECT_EQ(http_date("2026-11-25T08:30:12.123Z"), "Wed, 25 Nov 2026 08:30:12 GMT");
    EXPECT_EQ(http_date("1994-11-06T08:49:37.000Z"), "Sun, 06 Nov 1994 08:49:37 GMT");
    EXPECT_EQ(http_date("2024-02-29T23:59:59.999Z"), "Thu, 29 Feb 2024 23:59:59 GMT");
    EXPECT_EQ(http_date("2027-01-01T00:00:00.000Z"), "Fri, 01 Jan 2027 00:00:00 GMT");
}

TEST(HttpDate, IsEmptyForSomethingThatIsNoInstant) {
    EXPECT_EQ(http_date(""), "");
    EXPECT_EQ(http_date("yesterday"), "");
}

TEST(Etag, IsAWeakEtagOfTheVersion) {
    EXPECT_EQ(etag(1), "W/\"1\"");
    EXPECT_EQ(etag(1234567890123), "W/\"1234567890123\"");
}

TEST(VersionedPath, IsTypeIdHistoryVersion) {
    EXPECT_EQ(versioned_path("Patient", "abc-1", 3), "Patient/abc-1/_history/3");
}

TEST(StatusLine, StartsWithTheCodeAndAddsTheReasonPhrase) {
    // Bundle.entry.response.status: a 3-digit code, optionally followed by the HTTP reason.
    EXPECT_EQ(status_line(200), "200 OK");
    EXPECT_EQ(status_line(201), "201 Created");
    EXPECT_EQ(status_line(400), "400 Bad Request");
    EXPECT_EQ(status_line(404), "404 Not Found");
    EXPECT_EQ(status_line(412), "412 Precondition Failed");
    EXPECT_EQ(status_line(500), "500 Internal Server Error");
    // Unlisted codes still start with the code.
    EXPECT_EQ(status_line(299).substr(0, 3), "299");
}

TEST(AddVersionHeaders, SetsEtagLastModifiedAndLocationWhenAsked) {
    http::Response r;
    add_version_headers(r, "http://localhost:8080/fhir", "Patient", "p1", 2, "2026-11-25T08:30:12.123Z", true);
    EXPECT_EQ(header(r, "ETag"), "W/\"2\"");
    EXPECT_EQ(header(r, "Last-Modified"), "Wed, 25 Nov 2026 08:30:12 GMT");
    EXPECT_EQ(header(r, "Location"), "http://localhost:8080/fhir/Patient/p1/_history/2");

    http::Response without;
    add_version_headers(without, "http://localhost:8080/fhir", "Patient", "p1", 2, "2026-11-25T08:30:12.123Z", false);
    EXPECT_EQ(header(without, "Location"), "");
}

TEST(ResourceReply, IsFhirJsonWithTheBodyAsGiven) {
    auto r = resource_reply(201, R"({"resourceType":"Patient"})");
    EXPECT_EQ(r.status, 201);
    EXPECT_EQ(header(r, "Content-Type"), "application/fhir+json; charset=utf-8");
    EXPECT_EQ(r.body, R"({"resourceType":"Patient"})");
}

TEST(OutcomeReply, IsAnOperationOutcomeWithCodeDiagnosticsAndExpression) {
    auto r = outcome_reply(400, "value", "id must be a FHIR id.", "Patient.id");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(header(r, "Content-Type"), "application/fhir+json; charset=utf-8");
    auto oo = parsed(r.body);
    EXPECT_EQ(oo.string_at("resourceType"), "OperationOutcome");
    const Value* issues = oo.find("issue");
    ASSERT_TRUE(issues && issues->is_array());
    ASSERT_EQ(issues->items().size(), 1u);
    const Value& issue = issues->items()[0];
    EXPECT_EQ(issue.string_at("severity"), "error");
    EXPECT_EQ(issue.string_at("code"), "value");
    EXPECT_EQ(issue.string_at("diagnostics"), "id must be a FHIR id.");
    const Value* expression = issue.find("expression");
    ASSERT_TRUE(expression && expression->is_array());
    ASSERT_EQ(expression->items().size(), 1u);
    EXPECT_EQ(expression->items()[0].text(), "Patient.id");
}

TEST(OutcomeReply, LeavesOutAnEmptyExpressionAndMarksServerErrorsFatal) {
    auto r = outcome_reply(500, "exception", "The store failed.");
    EXPECT_EQ(r.status, 500);
    auto oo = parsed(r.body);
    const Value* issues = oo.find("issue");
    ASSERT_TRUE(issues && issues->is_array() && issues->items().size() == 1);
    // FHIR forbids empty arrays: no expression at all rather than [].
    EXPECT_EQ(issues->items()[0].find("expression"), nullptr);
    EXPECT_EQ(issues->items()[0].string_at("severity"), "fatal");
}

TEST(OutcomeReply, KeepsEveryIssueGiven) {
    fhir::Issue a, b;
    a.code = "required";
    a.diagnostics = "first";
    a.expression = {"Bundle.entry[0].resource"};
    b.code = "value";
    b.diagnostics = "second";
    b.expression = {"Bundle.entry[1].resource.id"};
    auto oo = parsed(outcome_reply(400, {a, b}).body);
    const Value* issues = oo.find("issue");
    ASSERT_TRUE(issues && issues->items().size() == 2);
    EXPECT_EQ(issues->items()[0].string_at("code"), "required");
    EXPECT_EQ(issues->items()[1].string_at("code"), "value");
    EXPECT_EQ(issues->items()[1].find("expression")->items()[0].text(), "Bundle.entry[1].resource.id");
}

}  // namespace
}  // namespace helsebro::ingress
