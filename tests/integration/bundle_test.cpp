// transaction and batch Bundles at POST /fhir: atomicity, urn:uuid references, idempotency.
#include "tests/integration/fixture.hpp"

namespace helsebro::testing {
namespace {

class Bundles : public DaemonTest {};

std::string discharge_transaction(const std::string& fnr, const std::string& identifier = {}) {
    std::string ident = identifier.empty() ? "" : R"("identifier":{"system":"urn:ietf:rfc:3986","value":")" + identifier + R"("},)";
    return R"({"resourceType":"Bundle","type":"transaction",)" + ident + R"("entry":[
      {"fullUrl":"urn:uuid:7f6e0c1a-0000-4000-8000-000000000001",
       "resource":)" + patient_json(fnr) + R"(,
       "request":{"method":"POST","url":"Patient"}},
      {"fullUrl":"urn:uuid:7f6e0c1a-0000-4000-8000-000000000002",
       "resource":{"resourceType":"Encounter","status":"finished",
         "class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"IMP"},
         "subject":{"reference":"urn:uuid:7f6e0c1a-0000-4000-8000-000000000001"}},
       "request":{"method":"POST","url":"Encounter"}},
      {"fullUrl":"urn:uuid:7f6e0c1a-0000-4000-8000-000000000003",
       "resource":{"resourceType":"Condition",
         "subject":{"reference":"urn:uuid:7f6e0c1a-0000-4000-8000-000000000001"},
         "encounter":{"reference":"urn:uuid:7f6e0c1a-0000-4000-8000-000000000002"}},
       "request":{"method":"POST","url":"Condition"}}
    ]})";
}

TEST_F(Bundles, TransactionStoresAllEntriesAndRewritesUrnUuidReferences) {
    auto r = client->post("/fhir", discharge_transaction(synthetic_fnr(11, 1, 60)));
    ASSERT_EQ(r.status, 200) << r.body;
    auto bundle = parse_json(r.body);
    EXPECT_EQ(json_string(bundle, "type"), "transaction-response");
    ASSERT_EQ(json_size(bundle, "entry"), 3u);
    for (int i = 0; i < 3; ++i) {
        auto prefix = "entry[" + std::to_string(i) + "].response.";
        EXPECT_EQ(json_string(bundle, prefix + "status"), "201 Created");
        EXPECT_EQ(json_string(bundle, prefix + "etag"), "W/\"1\"");
        EXPECT_FALSE(json_string(bundle, prefix + "lastModified").empty());
    }
    auto patient = resource_path(json_string(bundle, "entry[0].response.location"));
    auto encounter = resource_path(json_string(bundle, "entry[1].response.location"));
    auto condition = resource_path(json_string(bundle, "entry[2].response.location"));
    EXPECT_EQ(patient.rfind("Patient/", 0), 0u);

    auto enc = client->get("/fhir/" + encounter);
    ASSERT_EQ(enc.status, 200) << enc.body;
    EXPECT_EQ(json_string(parse_json(enc.body), "subject.reference"), patient);
    auto cond = client->get("/fhir/" + condition);
    ASSERT_EQ(cond.status, 200);
    EXPECT_EQ(json_string(parse_json(cond.body), "subject.reference"), patient);
    EXPECT_EQ(json_string(parse_json(cond.body), "encounter.reference"), encounter);
    EXPECT_EQ(client->get("/fhir/" + patient).status, 200);
}

TEST_F(Bundles, AFailingEntryRollsBackTheWholeTransaction) {
    auto before = counts();
    // The first entry would succeed; the second updates with a stale If-Match and fails at run time.
    auto r = client->post("/fhir", R"({"resourceType":"Bundle","type":"transaction","entry":[
      {"resource":{"resourceType":"Patient","id":"tx-rollback","active":true},
       "request":{"method":"PUT","url":"Patient/tx-rollback"}},
      {"resource":{"resourceType":"Patient","id":"tx-other","active":true},
       "request":{"method":"PUT","url":"Patient/tx-other","ifMatch":"W/\"4\""}}]})");
    EXPECT_EQ(r.status, 412) << r.body;
    auto outcome = parse_json(r.body);
    EXPECT_EQ(json_string(outcome, "resourceType"), "OperationOutcome");
    EXPECT_EQ(json_string(outcome, "issue[0].expression[0]"), "Bundle.entry[1]");
    EXPECT_EQ(client->get("/fhir/Patient/tx-rollback").status, 404);
    EXPECT_EQ(counts(), before);
}

TEST_F(Bundles, AnInvalidEntryRefusesTheTransactionWithItsPath) {
    auto before = counts();
    auto r = client->post("/fhir", R"({"resourceType":"Bundle","type":"transaction","entry":[
      {"resource":{"resourceType":"Patient","id":"tx-ok"},"request":{"method":"PUT","url":"Patient/tx-ok"}},
      {"resource":{"resourceType":"Observation","status":"final","code":{"text":"weight"}},"request":{"method":"POST","url":"Patient"}}]})");
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(json_string(parse_json(r.body), "issue[0].expression[0]"), "Bundle.entry[1].resource.resourceType");
    EXPECT_EQ(client->get("/fhir/Patient/tx-ok").status, 404);
    EXPECT_EQ(counts(), before);
}

TEST_F(Bundles, AReferenceToNoEntryRefusesTheTransaction) {
    auto r = client->post("/fhir", R"({"resourceType":"Bundle","type":"transaction","entry":[
      {"resource":{"resourceType":"Encounter","status":"finished","class":{"code":"IMP"},
        "subject":{"reference":"urn:uuid:00000000-0000-4000-8000-00000000dead"}},
       "request":{"method":"POST","url":"Encounter"}}]})");
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(json_string(parse_json(r.body), "issue[0].expression[0]"), "Bundle.entry[0].resource.subject.reference");
}

TEST_F(Bundles, ConditionalReferencesResolveToTheOneMatch) {
    auto fnr = synthetic_fnr(12, 2, 61);
    auto created = client->post("/fhir/Patient", patient_json(fnr));
    ASSERT_EQ(created.status, 201);
    auto r = client->post("/fhir", R"({"resourceType":"Bundle","type":"transaction","entry":[
      {"resource":{"resourceType":"Flag","status":"active","code":{"text":"follow-up"},
        "subject":{"reference":"Patient?identifier=urn:oid:2.16.578.1.12.4.1.4.1|)" + fnr + R"("}},
       "request":{"method":"POST","url":"Flag"}}]})");
    ASSERT_EQ(r.status, 200) << r.body;
    auto flag = client->get("/fhir/" + resource_path(json_string(parse_json(r.body), "entry[0].response.location")));
    EXPECT_EQ(json_string(parse_json(flag.body), "subject.reference"), resource_path(created.header("location")));
}

TEST_F(Bundles, TheSameTransactionTwiceIsStoredOnceAndAnsweredIdentically) {
    auto body = discharge_transaction(synthetic_fnr(13, 3, 62), "urn:uuid:2b1f8a52-5c51-4d0e-9d7e-3d8c1f0a9e11");
    auto first = client->post("/fhir", body);
    ASSERT_EQ(first.status, 200) << first.body;
    auto after_first = counts();
    auto second = client->post("/fhir", body);
    EXPECT_EQ(second.status, 200);
    EXPECT_EQ(second.body, first.body);
    EXPECT_EQ(counts(), after_first);
    EXPECT_EQ(after_first.messages, 1);
    EXPECT_EQ(after_first.versions, 3);
}

TEST_F(Bundles, BatchEntriesSucceedOrFailOnTheirOwn) {
    auto r = client->post("/fhir", R"({"resourceType":"Bundle","type":"batch","entry":[
      {"resource":{"resourceType":"Patient","id":"b-1","active":true},"request":{"method":"PUT","url":"Patient/b-1"}},
      {"resource":{"resourceType":"Patient","id":"b-2"},"request":{"method":"PUT","url":"Patient/other-id"}},
      {"request":{"method":"GET","url":"Patient/b-1"}},
      {"request":{"method":"GET","url":"Patient/missing"}}]})");
    ASSERT_EQ(r.status, 200) << r.body;
    auto b = parse_json(r.body);
    EXPECT_EQ(json_string(b, "type"), "batch-response");
    EXPECT_EQ(json_string(b, "entry[0].response.status"), "201 Created");
    EXPECT_EQ(json_string(b, "entry[1].response.status"), "400 Bad Request");
    EXPECT_EQ(json_string(b, "entry[1].response.outcome.issue[0].expression[0]"), "Bundle.entry[1].resource.id");
    EXPECT_EQ(json_string(b, "entry[2].response.status"), "200 OK");
    EXPECT_EQ(json_string(b, "entry[3].response.status"), "404 Not Found");
    EXPECT_EQ(client->get("/fhir/Patient/b-1").status, 200);
}

TEST_F(Bundles, CollectionsAreStoredAsReceived) {
    auto r = client->post("/fhir", R"({"resourceType":"Bundle","type":"collection","entry":[
      {"resource":{"resourceType":"Patient","active":true}}]})");
    ASSERT_EQ(r.status, 201) << r.body;
    auto stored = client->get("/fhir/" + resource_path(r.header("location")));
    ASSERT_EQ(stored.status, 200);
    EXPECT_EQ(json_string(parse_json(stored.body), "type"), "collection");
    EXPECT_EQ(json_string(parse_json(stored.body), "entry[0].resource.resourceType"), "Patient");
}

TEST_F(Bundles, ADocumentNeedsAnIdentifierAndACompositionFirst) {
    auto r = client->post("/fhir", R"({"resourceType":"Bundle","type":"document","entry":[
      {"resource":{"resourceType":"Patient"}}]})");
    EXPECT_EQ(r.status, 400);
    auto oo = parse_json(r.body);
    auto paths = issue_paths(oo);
    EXPECT_NE(paths.find("Bundle.identifier"), std::string::npos) << paths;  // bdl-9
    EXPECT_NE(paths.find("Bundle.entry"), std::string::npos) << paths;       // bdl-11: a Composition first
}

TEST_F(Bundles, OtherBundleTypesAreRefused) {
    auto r = client->post("/fhir", R"({"resourceType":"Bundle","type":"searchset"})");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(json_string(parse_json(r.body), "issue[0].expression[0]"), "Bundle.type");
}

class BundleRules : public DaemonTest {};

TEST_F(BundleRules, AReusedIdentifierWithOtherContentIsRefusedAndTheFirstKept) {
    std::string ident = R"("identifier":{"system":"urn:ietf:rfc:3986","value":"urn:uuid:6d1c2b3a-9e8f-4a7b-8c6d-5e4f3a2b1c0d"},)";
    auto first = client->post("/fhir", R"({"resourceType":"Bundle","type":"batch",)" + ident + R"("entry":[
      {"resource":{"resourceType":"Patient","id":"reuse-1"},"request":{"method":"PUT","url":"Patient/reuse-1"}}]})");
    ASSERT_EQ(first.status, 200) << first.body;
    auto before = counts();
    auto other = client->post("/fhir", R"({"resourceType":"Bundle","type":"batch",)" + ident + R"("entry":[
      {"resource":{"resourceType":"Patient","id":"reuse-2"},"request":{"method":"PUT","url":"Patient/reuse-2"}}]})");
    EXPECT_EQ(other.status, 409) << other.body;
    EXPECT_EQ(json_string(parse_json(other.body), "issue[0].expression[0]"), "Bundle.identifier");
    EXPECT_EQ(client->get("/fhir/Patient/reuse-2").status, 404);
    EXPECT_EQ(counts(), before);
}

TEST_F(BundleRules, ATransactionMayNotChangeOneResourceTwice) {
    auto before = counts();
    auto r = client->post("/fhir", R"({"resourceType":"Bundle","type":"transaction","entry":[
      {"resource":{"resourceType":"Patient","id":"twice"},"request":{"method":"PUT","url":"Patient/twice"}},
      {"resource":{"resourceType":"Patient","id":"twice","active":true},"request":{"method":"PUT","url":"Patient/twice"}}]})");
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(json_string(parse_json(r.body), "issue[0].expression[0]"), "Bundle.entry[1]");
    EXPECT_EQ(counts(), before);
}

TEST_F(BundleRules, BatchEntriesCannotReferToEachOther) {
    auto r = client->post("/fhir", R"({"resourceType":"Bundle","type":"batch","entry":[
      {"fullUrl":"urn:uuid:11111111-2222-4333-8444-555555555555","resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}},
      {"resource":{"resourceType":"Flag","status":"active","code":{"text":"x"},
        "subject":{"reference":"urn:uuid:11111111-2222-4333-8444-555555555555"}},"request":{"method":"POST","url":"Flag"}}]})");
    ASSERT_EQ(r.status, 200) << r.body;
    auto b = parse_json(r.body);
    EXPECT_EQ(json_string(b, "entry[0].response.status"), "201 Created");
    EXPECT_EQ(json_string(b, "entry[1].response.status"), "400 Bad Request");
    EXPECT_EQ(json_string(b, "entry[1].response.outcome.issue[0].expression[0]"), "Bundle.entry[1].resource.subject.reference");
}

TEST_F(BundleRules, UnsupportedEntryMethodsAreRefusedAsNotSupported) {
    auto r = client->post("/fhir", R"({"resourceType":"Bundle","type":"transaction","entry":[
      {"request":{"method":"DELETE","url":"Patient/1"}}]})");
    EXPECT_EQ(r.status, 400) << r.body;
    auto oo = parse_json(r.body);
    EXPECT_EQ(json_string(oo, "issue[0].code"), "not-supported");
    EXPECT_EQ(json_string(oo, "issue[0].expression[0]"), "Bundle.entry[0].request.method");
}

TEST_F(BundleRules, ACanonicalUrlEqualToTheFullUrlIsNotRewritten) {
    auto r = client->post("/fhir", R"({"resourceType":"Bundle","type":"transaction","entry":[
      {"fullUrl":"http://example.org/fhir/Questionnaire/q1",
       "resource":{"resourceType":"Questionnaire","id":"q1","url":"http://example.org/fhir/Questionnaire/q1","status":"active"},
       "request":{"method":"PUT","url":"Questionnaire/q1"}}]})");
    ASSERT_EQ(r.status, 200) << r.body;
    auto q = parse_json(client->get("/fhir/Questionnaire/q1").body);
    EXPECT_EQ(json_string(q, "url"), "http://example.org/fhir/Questionnaire/q1");
}

TEST_F(BundleRules, ABundleInsideAnEntryKeepsItsOwnReferences) {
    auto r = client->post("/fhir", R"({"resourceType":"Bundle","type":"transaction","entry":[
      {"resource":{"resourceType":"Bundle","type":"collection","entry":[
         {"fullUrl":"urn:uuid:0a0a0a0a-0000-4000-8000-000000000001","resource":{"resourceType":"Patient"}},
         {"resource":{"resourceType":"Flag","status":"active","code":{"text":"x"},
           "subject":{"reference":"urn:uuid:0a0a0a0a-0000-4000-8000-000000000001"}}}]},
       "request":{"method":"POST","url":"Bundle"}}]})");
    ASSERT_EQ(r.status, 200) << r.body;
    auto stored = parse_json(client->get("/fhir/" + resource_path(json_string(parse_json(r.body), "entry[0].response.location"))).body);
    EXPECT_EQ(json_string(stored, "entry[1].resource.subject.reference"), "urn:uuid:0a0a0a0a-0000-4000-8000-000000000001");
}

TEST_F(BundleRules, TwoCreatesOnOneConditionAreRefused) {
    auto r = client->post("/fhir", R"({"resourceType":"Bundle","type":"transaction","entry":[
      {"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:x|1"}},
      {"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:x|1"}}]})");
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(json_string(parse_json(r.body), "issue[0].expression[0]"), "Bundle.entry[1].request.ifNoneExist");
}

TEST_F(BundleRules, NarrativeLinksToEntriesAreRewrittenToo) {
    auto r = client->post("/fhir", R"({"resourceType":"Bundle","type":"transaction","entry":[
      {"fullUrl":"urn:uuid:aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee","resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}},
      {"resource":{"resourceType":"Flag","status":"active","code":{"text":"x"},
        "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><a href=\"urn:uuid:aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee\">patient</a></div>"},
        "subject":{"reference":"urn:uuid:aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"}},"request":{"method":"POST","url":"Flag"}}]})");
    ASSERT_EQ(r.status, 200) << r.body;
    auto b = parse_json(r.body);
    auto patient = resource_path(json_string(b, "entry[0].response.location"));
    auto flag = parse_json(client->get("/fhir/" + resource_path(json_string(b, "entry[1].response.location"))).body);
    EXPECT_NE(json_string(flag, "text.div").find("href=\"" + patient + "\""), std::string::npos) << json_string(flag, "text.div");
}

}  // namespace
}  // namespace helsebro::testing
