// FHIR search and history against the real daemon: GET /fhir/{type}?..., paging by next links
// while others write, GET /fhir/{type}/{id}/_history, refusals and limits.
#include <set>
#include <thread>

#include "tests/integration/fixture.hpp"

namespace helsebro::testing {
namespace {

class Search : public DaemonTest {
protected:
    // Creates the resource and returns its id.
    std::string create(const std::string& type, const std::string& body) {
        auto r = client->post("/fhir/" + type, body);
        EXPECT_EQ(r.status, 201) << r.body;
        return json_string(parse_json(r.body), "id");
    }

    // The ids of a searchset's matches, in order.
    static std::vector<std::string> match_ids(const rapidjson::Value& bundle) {
        std::vector<std::string> ids;
        for (std::size_t i = 0; i < json_size(bundle, "entry"); ++i) {
            auto at = "entry[" + std::to_string(i) + "]";
            if (json_string(bundle, at + ".search.mode") == "match") ids.push_back(json_string(bundle, at + ".resource.id"));
        }
        return ids;
    }

    std::vector<std::string> found(const std::string& target) {
        auto r = client->get(target);
        EXPECT_EQ(r.status, 200) << target << ": " << r.body;
        if (r.status != 200) return {};
        return match_ids(parse_json(r.body));
    }

    // The next link, made relative to the server (the client speaks to 127.0.0.1 anyway).
    std::string next_link(const rapidjson::Value& bundle) {
        for (std::size_t i = 0; i < json_size(bundle, "link"); ++i) {
            auto at = "link[" + std::to_string(i) + "]";
            if (json_string(bundle, at + ".relation") != "next") continue;
            auto url = json_string(bundle, at + ".url");
            auto origin = "http://127.0.0.1:" + std::to_string(daemon->port());
            EXPECT_EQ(url.rfind(origin + "/fhir/", 0), 0u) << url;
            return url.substr(origin.size());
        }
        return {};
    }
};

std::string subject(const std::string& patient_id) { return R"({"reference":"Patient/)" + patient_id + R"("})"; }
std::string subject_by_fnr(const std::string& fnr) {
    return R"({"identifier":{"system":"urn:oid:2.16.578.1.12.4.1.4.1","value":")" + fnr + R"("}})";
}

std::string care_plan(const std::string& subject_json, const std::string& status = "active", const std::string& category = {}) {
    return R"({"resourceType":"CarePlan","status":")" + status + R"(","intent":"plan",)" +
           (category.empty() ? "" : R"("category":[{"coding":[{"system":"http://snomed.info/sct","code":")" + category + R"("}]}],)") +
           R"("subject":)" + subject_json + "}";
}

std::string goal(const std::string& subject_json) {
    return R"({"resourceType":"Goal","lifecycleStatus":"active","description":{"text":"Gå til butikken"},"subject":)" +
           subject_json + "}";
}

std::string encoded(std::string s) {
    std::string out;
    for (char c : s) out += c == '|' ? std::string("%7C") : std::string(1, c);
    return out;
}

TEST_F(Search, FindsByPatientReferenceAndByNationalIdentifier) {
    auto fnr = synthetic_fnr(12, 3, 44);
    auto patient = create("Patient", patient_json(fnr));
    auto by_ref = create("CarePlan", care_plan(subject(patient)));
    auto by_fnr = create("CarePlan", care_plan(subject_by_fnr(fnr)));
    create("CarePlan", care_plan(subject_by_fnr(synthetic_fnr(13, 3, 44))));
    auto flag = create("Flag", R"({"resourceType":"Flag","status":"active","code":{"text":"Smitte"},"subject":)" +
                                   subject_by_fnr(fnr) + "}");

    EXPECT_EQ(found("/fhir/CarePlan?patient=Patient/" + patient), std::vector<std::string>{by_ref});
    EXPECT_EQ(found("/fhir/CarePlan?patient=" + patient), std::vector<std::string>{by_ref});
    EXPECT_EQ(found("/fhir/CarePlan?subject=Patient/" + patient), std::vector<std::string>{by_ref});
    std::string ident = encoded(std::string(fnr_system) + "|" + fnr);
    EXPECT_EQ(found("/fhir/CarePlan?patient:identifier=" + ident), std::vector<std::string>{by_fnr});
    EXPECT_EQ(found("/fhir/Flag?patient:identifier=" + ident), std::vector<std::string>{flag});
    EXPECT_EQ(found("/fhir/Patient?identifier=" + ident), std::vector<std::string>{patient});
    EXPECT_EQ(found("/fhir/Patient?_id=" + patient), std::vector<std::string>{patient});
}

TEST_F(Search, FindsByStatusAndCategoryWithAndWithoutSystem) {
    auto p = create("Patient", patient_json(synthetic_fnr(14, 3, 44)));
    auto active = create("CarePlan", care_plan(subject(p), "active", "734163000"));
    auto done = create("CarePlan", care_plan(subject(p), "completed", "736353004"));
    EXPECT_EQ(found("/fhir/CarePlan?status=active&patient=" + p), std::vector<std::string>{active});
    EXPECT_EQ(found("/fhir/CarePlan?status=active,completed&patient=" + p), (std::vector<std::string>{active, done}));
    EXPECT_EQ(found("/fhir/CarePlan?category=734163000"), std::vector<std::string>{active});
    EXPECT_EQ(found("/fhir/CarePlan?category=" + encoded("http://snomed.info/sct|736353004")), std::vector<std::string>{done});
    EXPECT_TRUE(found("/fhir/CarePlan?category=" + encoded("http://loinc.org|736353004")).empty());
    EXPECT_TRUE(found("/fhir/CarePlan?status=active&status=completed").empty()) << "repeated parameters are AND";
    EXPECT_EQ(found("/fhir/CarePlan?status:not=active&patient=" + p), std::vector<std::string>{done});
}

TEST_F(Search, LastUpdatedRanges) {
    auto p = create("Patient", patient_json(synthetic_fnr(15, 3, 44)));
    auto first = client->post("/fhir/Goal", goal(subject(p)));
    ASSERT_EQ(first.status, 201);
    auto first_id = json_string(parse_json(first.body), "id");
    auto first_at = json_string(parse_json(first.body), "meta.lastUpdated");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto second = client->post("/fhir/Goal", goal(subject(p)));
    auto second_id = json_string(parse_json(second.body), "id");
    auto second_at = json_string(parse_json(second.body), "meta.lastUpdated");
    ASSERT_LT(first_at, second_at);
    auto q = "/fhir/Goal?patient=" + p + "&_lastUpdated=";
    EXPECT_EQ(found(q + "gt" + first_at), std::vector<std::string>{second_id});
    EXPECT_EQ(found(q + "lt" + second_at), std::vector<std::string>{first_id});
    EXPECT_EQ(found(q + "ge" + first_at), (std::vector<std::string>{first_id, second_id}));
    EXPECT_EQ(found(q + "le" + first_at), std::vector<std::string>{first_id});
    EXPECT_EQ(found(q + "eq" + second_at), std::vector<std::string>{second_id});
    EXPECT_EQ(found(q + first_at.substr(0, 4)), (std::vector<std::string>{first_id, second_id})) << "the whole year";
    EXPECT_EQ(found(q + "ge" + first_at + "&_lastUpdated=lt" + second_at), std::vector<std::string>{first_id});
}

TEST_F(Search, TheAnswerIsASearchsetBundleWithAbsoluteUrls) {
    auto p = create("Patient", patient_json(synthetic_fnr(16, 3, 44)));
    auto id = create("CarePlan", care_plan(subject(p)));
    auto r = client->get("/fhir/CarePlan?patient=" + p);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-type"), "application/fhir+json; charset=utf-8");
    auto b = parse_json(r.body);
    EXPECT_EQ(json_string(b, "resourceType"), "Bundle");
    EXPECT_EQ(json_string(b, "type"), "searchset");
    auto base = "http://127.0.0.1:" + std::to_string(daemon->port()) + "/fhir";
    EXPECT_EQ(json_string(b, "entry[0].fullUrl"), base + "/CarePlan/" + id);
    EXPECT_EQ(json_string(b, "entry[0].search.mode"), "match");
    EXPECT_EQ(json_string(b, "link[0].relation"), "self");
    EXPECT_EQ(json_string(b, "link[0].url"), base + "/CarePlan?patient=" + p + "&_count=20");
    EXPECT_EQ(json_size(b, "link"), 1u) << "no next link on the last page";
    EXPECT_FALSE(json_find(b, "total"));
}

TEST_F(Search, PagingFollowsNextLinksAndSeesEachResourceOnceWhileOthersWrite) {
    auto p = create("Patient", patient_json(synthetic_fnr(17, 3, 44)));
    std::vector<std::string> created;
    for (int i = 0; i < 45; ++i) created.push_back(create("Goal", goal(subject(p))));
    std::vector<std::string> seen;
    std::string target = "/fhir/Goal?patient=" + p + "&_count=10";
    int pages = 0;
    while (!target.empty() && pages < 10) {
        auto r = client->get(target);
        ASSERT_EQ(r.status, 200) << r.body;
        auto b = parse_json(r.body);
        auto ids = match_ids(b);
        EXPECT_LE(ids.size(), 10u);
        seen.insert(seen.end(), ids.begin(), ids.end());
        ++pages;
        // Between pages others write: new goals for the same patient, and an update of one seen.
        create("Goal", goal(subject(p)));
        auto again = client->put("/fhir/Goal/" + created[0],
                                 R"({"resourceType":"Goal","id":")" + created[0] +
                                     R"(","lifecycleStatus":"active","description":{"text":"Page )" + std::to_string(pages) +
                                     R"("},"subject":)" + subject(p) + "}");
        ASSERT_EQ(again.status, 200) << again.body;
        target = next_link(b);
    }
    EXPECT_EQ(pages, 5);
    EXPECT_EQ(seen, created) << "each of the 45 once, in the order they were created";
    EXPECT_EQ(found("/fhir/Goal?patient=" + p + "&_count=1000").size(), 50u) << "a new search sees the new ones";
}

TEST_F(Search, HistoryOfAResourceUpdatedThreeTimes) {
    auto fnr = synthetic_fnr(18, 3, 44);
    for (const char* gender : {"female", "male", "other", "unknown"}) {
        auto r = client->put("/fhir/Patient/hist-1", patient_json(fnr, R"(,"id":"hist-1","gender":")" + std::string(gender) + "\""));
        ASSERT_LT(r.status, 300) << r.body;
    }
    auto r = client->get("/fhir/Patient/hist-1/_history");
    ASSERT_EQ(r.status, 200) << r.body;
    auto b = parse_json(r.body);
    EXPECT_EQ(json_string(b, "type"), "history");
    ASSERT_EQ(json_size(b, "entry"), 4u);
    EXPECT_EQ(json_string(b, "entry[0].resource.meta.versionId"), "4");
    EXPECT_EQ(json_string(b, "entry[0].resource.gender"), "unknown");
    EXPECT_EQ(json_string(b, "entry[3].resource.meta.versionId"), "1");
    EXPECT_EQ(json_string(b, "entry[3].request.method"), "POST");
    EXPECT_EQ(json_string(b, "entry[0].request.method"), "PUT");
    EXPECT_EQ(json_string(b, "entry[0].response.etag"), "W/\"4\"");

    auto page = parse_json(client->get("/fhir/Patient/hist-1/_history?_count=3").body);
    ASSERT_EQ(json_size(page, "entry"), 3u);
    auto next = next_link(page);
    ASSERT_FALSE(next.empty());
    auto rest = parse_json(client->get(next).body);
    ASSERT_EQ(json_size(rest, "entry"), 1u);
    EXPECT_EQ(json_string(rest, "entry[0].resource.meta.versionId"), "1");
    EXPECT_EQ(client->get("/fhir/Patient/nobody/_history").status, 404);
}

TEST_F(Search, UnknownParametersAreRefusedByNameUnlessLenient) {
    auto r = client->get("/fhir/CarePlan?status=active&colour=blue");
    EXPECT_EQ(r.status, 400);
    auto outcome = parse_json(r.body);
    EXPECT_EQ(json_string(outcome, "resourceType"), "OperationOutcome");
    EXPECT_NE(json_string(outcome, "issue[0].diagnostics").find("colour"), std::string::npos) << r.body;

    auto lenient = client->request("GET", "/fhir/CarePlan?status=active&colour=blue",
                                   {}, {{"Authorization", "Bearer " + daemon->token()}, {"Prefer", "handling=lenient"}});
    ASSERT_EQ(lenient.status, 200) << lenient.body;
    auto b = parse_json(lenient.body);
    auto last = "entry[" + std::to_string(json_size(b, "entry") - 1) + "]";
    EXPECT_EQ(json_string(b, last + ".search.mode"), "outcome");
    EXPECT_NE(json_string(b, last + ".resource.issue[0].diagnostics").find("colour"), std::string::npos);

    EXPECT_EQ(client->get("/fhir/CarePlan?date=ge2024-13-45").status, 400);
    EXPECT_EQ(client->get("/fhir/CarePlan?_sort=date").status, 400);
}

TEST_F(Search, CountAboveTheLimitIsClamped) {
    auto p = create("Patient", patient_json(synthetic_fnr(19, 3, 44)));
    for (int i = 0; i < 3; ++i) create("Goal", goal(subject(p)));
    auto r = client->get("/fhir/Goal?patient=" + p + "&_count=5000");
    ASSERT_EQ(r.status, 200) << r.body;
    auto b = parse_json(r.body);
    EXPECT_EQ(match_ids(b).size(), 3u);
    EXPECT_NE(json_string(b, "link[0].url").find("_count=1000"), std::string::npos) << json_string(b, "link[0].url");
}

TEST_F(Search, WhatATransactionStoredIsFoundThroughItsRewrittenReferences) {
    auto fnr = synthetic_fnr(20, 3, 44);
    auto r = client->post("/fhir", R"({"resourceType":"Bundle","type":"transaction","entry":[
      {"fullUrl":"urn:uuid:5a1e0c1a-0000-4000-8000-000000000001","resource":)" + patient_json(fnr) + R"(,
       "request":{"method":"POST","url":"Patient"}},
      {"resource":{"resourceType":"Condition","code":{"coding":[{"system":"urn:oid:2.16.578.1.12.4.1.1.7110","code":"J18.9"}]},
         "subject":{"reference":"urn:uuid:5a1e0c1a-0000-4000-8000-000000000001"}},
       "request":{"method":"POST","url":"Condition"}}]})");
    ASSERT_EQ(r.status, 200) << r.body;
    auto b = parse_json(r.body);
    auto patient = resource_path(json_string(b, "entry[0].response.location"));
    auto condition = resource_path(json_string(b, "entry[1].response.location"));
    auto ids = found("/fhir/Condition?patient=" + patient + "&code=J18.9");
    ASSERT_EQ(ids.size(), 1u);
    EXPECT_EQ("Condition/" + ids[0], condition);
}

TEST_F(Search, TheCapabilityStatementSaysWhatCanBeSearched) {
    auto cs = parse_json(client->get("/fhir/metadata").body);
    const auto* resources = json_find(cs, "rest[0].resource");
    ASSERT_TRUE(resources && resources->IsArray());
    bool checked = false;
    for (const auto& r : resources->GetArray()) {
        if (json_string(r, "type") != "CarePlan") continue;
        std::set<std::string> interactions, params;
        for (std::size_t i = 0; i < json_size(r, "interaction"); ++i)
            interactions.insert(json_string(r, "interaction[" + std::to_string(i) + "].code"));
        for (std::size_t i = 0; i < json_size(r, "searchParam"); ++i)
            params.insert(json_string(r, "searchParam[" + std::to_string(i) + "].name"));
        EXPECT_TRUE(interactions.count("search-type") && interactions.count("history-instance"));
        for (const char* p : {"patient", "subject", "status", "category", "date", "identifier", "_id", "_lastUpdated"})
            EXPECT_TRUE(params.count(p)) << p;
        checked = true;
    }
    EXPECT_TRUE(checked);
}

}  // namespace
}  // namespace helsebro::testing
