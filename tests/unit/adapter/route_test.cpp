// Request routing of the FHIR base (adapter/ingress/route.hpp): which interaction a method and
// target ask for, the refusals (404, 405 with Allow, 400 for bad ids), query decoding, and
// Bundle entry urls.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "adapter/ingress/route.hpp"

namespace helsebro::ingress {
namespace {

using Query = std::vector<std::pair<std::string, std::string>>;

// The route, or a failed expectation naming the refusal.
Route routed(std::string_view method, std::string_view target) {
    auto r = route(method, target);
    if (!r.route) {
        ADD_FAILURE() << method << " " << target << " was refused: " << r.error.status << " " << r.error.message;
        return {};
    }
    return *r.route;
}

RouteError refused(std::string_view method, std::string_view target) {
    auto r = route(method, target);
    if (r.route) {
        ADD_FAILURE() << method << " " << target << " was routed, expected a refusal";
        return {};
    }
    EXPECT_FALSE(r.error.message.empty()) << "a refusal says why";
    EXPECT_FALSE(r.error.code.empty()) << "a refusal has a FHIR issue type";
    return r.error;
}

TEST(Route, EveryOperationHasItsRoute) {
    EXPECT_EQ(routed("GET", "/fhir/metadata").op, Op::capabilities);
    EXPECT_EQ(routed("POST", "/fhir").op, Op::bundle);
    EXPECT_EQ(routed("POST", "/fhir/").op, Op::bundle);
    EXPECT_EQ(routed("POST", "/fhir/$process-message").op, Op::process_message);

    auto create = routed("POST", "/fhir/Patient");
    EXPECT_EQ(create.op, Op::create);
    EXPECT_EQ(create.type, "Patient");
    EXPECT_TRUE(create.id.empty());

    auto update = routed("PUT", "/fhir/Observation/obs-1.a");
    EXPECT_EQ(update.op, Op::update);
    EXPECT_EQ(update.type, "Observation");
    EXPECT_EQ(update.id, "obs-1.a");

    auto read = routed("GET", "/fhir/Patient/123");
    EXPECT_EQ(read.op, Op::read);
    EXPECT_EQ(read.type, "Patient");
    EXPECT_EQ(read.id, "123");
    EXPECT_EQ(read.version, 0);

    auto vread = routed("GET", "/fhir/Patient/123/_history/42");
    EXPECT_EQ(vread.op, Op::vread);
    EXPECT_EQ(vread.type, "Patient");
    EXPECT_EQ(vread.id, "123");
    EXPECT_EQ(vread.version, 42);

    EXPECT_EQ(routed("GET", "/health/live").op, Op::health);
    EXPECT_EQ(routed("GET", "/health/ready").op, Op::health);
}

TEST(Route, UnknownResourceTypesAreNotFound) {
    EXPECT_EQ(refused("POST", "/fhir/Nope").status, 404);
    EXPECT_EQ(refused("GET", "/fhir/Nope/1").status, 404);
    // Type names are case-sensitive.
    EXPECT_EQ(refused("POST", "/fhir/patient").status, 404);
    // Unimplemented operations and system-level paths are not found either.
    EXPECT_EQ(refused("POST", "/fhir/$everything").status, 404);
    EXPECT_EQ(refused("GET", "/fhir/_history").status, 404);
}

TEST(Route, PathsOutsideTheFhirBaseAreNotFound) {
    EXPECT_EQ(refused("GET", "/").status, 404);
    EXPECT_EQ(refused("GET", "/Patient/1").status, 404);
    EXPECT_EQ(refused("POST", "/fhirx/Patient").status, 404);
    EXPECT_EQ(refused("POST", "/fhirPatient").status, 404);
    EXPECT_EQ(refused("GET", "/FHIR/metadata").status, 404);
    EXPECT_EQ(refused("GET", "/health").status, 404);
    EXPECT_EQ(refused("GET", "/health/other").status, 404);
}

TEST(Route, SearchAndHistory) {
    auto search = routed("GET", "/fhir/CarePlan?patient:identifier=urn:oid:2.16.578.1.12.4.1.4.1%7C1&status=active");
    EXPECT_EQ(search.op, Op::search);
    EXPECT_EQ(search.type, "CarePlan");
    ASSERT_EQ(search.query.size(), 2u);
    EXPECT_EQ(search.query[0].first, "patient:identifier");
    EXPECT_EQ(search.query[0].second, "urn:oid:2.16.578.1.12.4.1.4.1|1");
    auto history = routed("GET", "/fhir/Patient/123/_history?_count=2");
    EXPECT_EQ(history.op, Op::history);
    EXPECT_EQ(history.id, "123");
}

TEST(Route, PathsBelowAResourceThatAreNotHistoryAreNotFound) {
    EXPECT_EQ(refused("GET", "/fhir/Patient/1/x/2").status, 404);
    EXPECT_EQ(refused("GET", "/fhir/Patient/1/_history/2/more").status, 404);
}

TEST(Route, WrongMethodsAreRefusedWithAllow) {
    struct Case {
        const char* method;
        const char* target;
        const char* allow;
    };
    for (auto [method, target, allow] : {
             Case{"POST", "/fhir/metadata", "GET"},
             Case{"GET", "/fhir", "POST"},
             Case{"PUT", "/fhir", "POST"},
             Case{"GET", "/fhir/$process-message", "POST"},
             Case{"PUT", "/fhir/Patient", "GET, POST"},
             Case{"DELETE", "/fhir/Patient", "GET, POST"},
             Case{"POST", "/fhir/Patient/1/_history", "GET"},
             Case{"POST", "/fhir/Patient/1", "GET, PUT"},
             Case{"DELETE", "/fhir/Patient/1", "GET, PUT"},
             Case{"PATCH", "/fhir/Patient/1", "GET, PUT"},
             Case{"PUT", "/fhir/Patient/1/_history/1", "GET"},
             Case{"POST", "/health/live", "GET"},
         }) {
        auto e = refused(method, target);
        EXPECT_EQ(e.status, 405) << method << " " << target;
        EXPECT_EQ(e.allow, allow) << method << " " << target;
    }
}

TEST(Route, MethodsAreCaseSensitive) {
    // RFC 9110 §9.1: the method token is case-sensitive; "get" is not GET.
    EXPECT_EQ(refused("get", "/fhir/Patient/1").status, 405);
}

TEST(Route, ResourceIdsAreValidated) {
    EXPECT_EQ(refused("GET", "/fhir/Patient/a_b").status, 400);
    EXPECT_EQ(refused("PUT", "/fhir/Patient/a%20b").status, 400);
    EXPECT_EQ(refused("GET", "/fhir/Patient/" + std::string(65, 'a')).status, 400);
    EXPECT_EQ(refused("GET", "/fhir/Patient/" + std::string(65, 'a') + "/_history/1").status, 400);
    // 64 characters is the most an id may have.
    EXPECT_EQ(routed("GET", "/fhir/Patient/" + std::string(64, 'a')).id, std::string(64, 'a'));
}

TEST(Route, HistoryVersionsArePositiveWholeNumbers) {
    EXPECT_FALSE(route("GET", "/fhir/Patient/1/_history/0").route);
    EXPECT_FALSE(route("GET", "/fhir/Patient/1/_history/x").route);
    EXPECT_FALSE(route("GET", "/fhir/Patient/1/_history/-1").route);
    EXPECT_FALSE(route("GET", "/fhir/Patient/1/_history/1x").route);
    EXPECT_FALSE(route("GET", "/fhir/Patient/1/_history/99999999999999999999").route);
    EXPECT_EQ(refused("GET", "/fhir/Patient/1/_history/0").status, 404);
    EXPECT_EQ(refused("GET", "/fhir/Patient/1/_history/x").status, 404);
    EXPECT_EQ(routed("GET", "/fhir/Patient/1/_history/1").version, 1);
}

TEST(Route, TheQueryIsSplitAndPercentDecoded) {
    auto r = routed("POST", "/fhir/Patient?identifier=urn%3Aoid%3A2.16.578%7C123&name=Ola+Nordmann&flag&=x&&plus=%2B");
    EXPECT_EQ(r.op, Op::create);
    EXPECT_EQ(r.query, (Query{{"identifier", "urn:oid:2.16.578|123"},
                              {"name", "Ola Nordmann"},
                              {"flag", ""},
                              {"", "x"},
                              {"plus", "+"}}));
    // The query does not change the route.
    EXPECT_EQ(routed("GET", "/fhir/metadata?_format=json").op, Op::capabilities);
    EXPECT_EQ(routed("GET", "/fhir/Patient/1?_summary=true").id, "1");
}

TEST(PercentDecode, DecodesEscapesAndPlusAndKeepsMalformedEscapes) {
    EXPECT_EQ(percent_decode("a%20b"), "a b");
    EXPECT_EQ(percent_decode("a+b"), "a b");
    EXPECT_EQ(percent_decode("%7c%7C"), "||");
    EXPECT_EQ(percent_decode("%C3%A6"), "\xC3\xA6");  // UTF-8 bytes come through as bytes
    EXPECT_EQ(percent_decode("%41"), "A");            // an escape at the very end
    EXPECT_EQ(percent_decode("100%"), "100%");
    EXPECT_EQ(percent_decode("%4"), "%4");
    EXPECT_EQ(percent_decode("%zz"), "%zz");
    EXPECT_EQ(percent_decode(""), "");
}

TEST(ParseQuery, SplitsPairsAndDecodesNamesAndValues) {
    EXPECT_EQ(parse_query("a=1&b=2"), (Query{{"a", "1"}, {"b", "2"}}));
    EXPECT_EQ(parse_query("a%5Fb=x%3Dy"), (Query{{"a_b", "x=y"}}));
    EXPECT_EQ(parse_query("a=1=2"), (Query{{"a", "1=2"}}));  // only the first '=' separates
    EXPECT_TRUE(parse_query("").empty());
    EXPECT_TRUE(parse_query("&&").empty());
}

TEST(ParseEntryUrl, AcceptsTypeInstanceAndVersionUrls) {
    auto type = parse_entry_url("Patient");
    ASSERT_TRUE(type);
    EXPECT_EQ(type->type, "Patient");
    EXPECT_TRUE(type->id.empty());
    EXPECT_EQ(type->version, 0);
    EXPECT_TRUE(type->query.empty());

    auto instance = parse_entry_url("Patient/1");
    ASSERT_TRUE(instance);
    EXPECT_EQ(instance->type, "Patient");
    EXPECT_EQ(instance->id, "1");
    EXPECT_EQ(instance->version, 0);

    auto version = parse_entry_url("Patient/1/_history/2");
    ASSERT_TRUE(version);
    EXPECT_EQ(version->type, "Patient");
    EXPECT_EQ(version->id, "1");
    EXPECT_EQ(version->version, 2);

    // Conditional urls keep their query undecoded; find_existing decodes it.
    auto conditional = parse_entry_url("Patient?identifier=a|b");
    ASSERT_TRUE(conditional);
    EXPECT_EQ(conditional->type, "Patient");
    EXPECT_TRUE(conditional->id.empty());
    EXPECT_EQ(conditional->query, "identifier=a|b");
}

TEST(ParseEntryUrl, RefusesAbsoluteUnknownAndMalformedUrls) {
    for (const char* url : {"", "/Patient", "/Patient/1", "Nope/1", "Nope", "Patient/1/x/2", "Patient/1/_history",
                            "Patient/1/_history/0", "Patient/1/_history/x", "Patient/a_b", "Patient/1/_history/2/x",
                            "http://x/fhir/Patient/1", "http://x/Patient/1", "urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0"})
        EXPECT_FALSE(parse_entry_url(url)) << url;
}

}  // namespace
}  // namespace helsebro::ingress
