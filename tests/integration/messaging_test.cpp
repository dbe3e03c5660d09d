// FHIR messaging: $process-message and message Bundles at the base.
#include "tests/integration/fixture.hpp"

namespace helsebro::testing {
namespace {

class Messaging : public DaemonTest {};

std::string discharge_message(const std::string& header_id, const std::string& fnr) {
    return R"({"resourceType":"Bundle","type":"message","timestamp":"2026-11-25T08:00:00+01:00","entry":[
      {"fullUrl":"urn:uuid:)" + header_id + R"(","resource":{"resourceType":"MessageHeader","id":")" + header_id + R"(",
        "eventCoding":{"system":"urn:oid:2.16.578.1.12.4.1.1.8279","code":"UTSKRIVNINGSRAPPORT"},
        "source":{"endpoint":"https://sykehus.example/fhir"},
        "focus":[{"reference":"urn:uuid:9a0c2f4e-1111-4000-8000-000000000002"}]}},
      {"fullUrl":"urn:uuid:9a0c2f4e-1111-4000-8000-000000000002","resource":)" + patient_json(fnr) + R"(}]})";
}

TEST_F(Messaging, ProcessMessageAnswersWithAResponseMessage) {
    auto r = client->post("/fhir/$process-message", discharge_message("5c3f7e1d-0001-4a00-9000-000000000001", synthetic_fnr(14, 4, 63)));
    ASSERT_EQ(r.status, 200) << r.body;
    auto b = parse_json(r.body);
    EXPECT_EQ(json_string(b, "type"), "message");
    EXPECT_EQ(json_string(b, "entry[0].resource.resourceType"), "MessageHeader");
    EXPECT_EQ(json_string(b, "entry[0].resource.response.code"), "ok");
    EXPECT_EQ(json_string(b, "entry[0].resource.response.identifier"), "5c3f7e1d-0001-4a00-9000-000000000001");
    EXPECT_EQ(json_string(b, "entry[0].resource.eventCoding.code"), "UTSKRIVNINGSRAPPORT");
    EXPECT_EQ(json_string(b, "entry[0].resource.destination[0].endpoint"), "https://sykehus.example/fhir");
    StoreInspector db(daemon->data_dir());
    EXPECT_EQ(db.scalar("SELECT count(*) FROM message WHERE kind = 'message'"), 1);
}

TEST_F(Messaging, TheSameMessageTwiceIsStoredOnceAndAnsweredIdentically) {
    auto body = discharge_message("5c3f7e1d-0001-4a00-9000-000000000002", synthetic_fnr(15, 5, 64));
    auto first = client->post("/fhir/$process-message", body);
    ASSERT_EQ(first.status, 200) << first.body;
    auto after = counts();
    auto second = client->post("/fhir", body);  // the base takes message Bundles too
    EXPECT_EQ(second.status, 200);
    EXPECT_EQ(second.body, first.body);
    EXPECT_EQ(counts(), after);
    EXPECT_EQ(after.messages, 1);
}

TEST_F(Messaging, AMessageWithoutAHeaderFirstIsRefused) {
    auto before = counts();
    auto r = client->post("/fhir/$process-message", R"({"resourceType":"Bundle","type":"message","entry":[
      {"resource":{"resourceType":"Patient"}}]})");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(json_string(parse_json(r.body), "issue[0].expression[0]"), "Bundle.entry");  // bdl-12
    EXPECT_EQ(counts(), before);
}

TEST_F(Messaging, AHeaderWithoutSourceEndpointIsRefusedWithThePath) {
    auto r = client->post("/fhir/$process-message", R"({"resourceType":"Bundle","type":"message","entry":[
      {"resource":{"resourceType":"MessageHeader","id":"h1","eventCoding":{"code":"X"}}}]})");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(json_string(parse_json(r.body), "issue[0].expression[0]"), "Bundle.entry[0].resource.source");
}

TEST_F(Messaging, ProcessMessageTakesOnlyMessageBundles) {
    auto r = client->post("/fhir/$process-message", R"({"resourceType":"Bundle","type":"transaction"})");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(json_string(parse_json(r.body), "issue[0].expression[0]"), "Bundle.type");
}

class MessagingRules : public DaemonTest {};

TEST_F(MessagingRules, AMessageIsKnownByItsHeaderIdAndOtherContentUnderItIsRefused) {
    auto body = discharge_message("5c3f7e1d-0001-4a00-9000-000000000003", synthetic_fnr(20, 10, 69));
    ASSERT_EQ(client->post("/fhir/$process-message", body).status, 200);
    auto before = counts();
    auto changed = discharge_message("5c3f7e1d-0001-4a00-9000-000000000003", synthetic_fnr(21, 11, 69));
    auto r = client->post("/fhir/$process-message", changed);
    EXPECT_EQ(r.status, 409) << r.body;
    EXPECT_EQ(json_string(parse_json(r.body), "issue[0].expression[0]"), "Bundle.entry[0].resource.id");
    EXPECT_EQ(counts(), before);
}

TEST_F(MessagingRules, EveryEntryOfAMessageMustBeAResource) {
    auto before = counts();
    auto r = client->post("/fhir/$process-message", R"({"resourceType":"Bundle","type":"message","entry":[
      {"resource":{"resourceType":"MessageHeader","id":"h2","eventCoding":{"code":"X"},"source":{"endpoint":"urn:x"}}},
      {"resource":{"resourceType":"NotAType"}}]})");
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(json_string(parse_json(r.body), "issue[0].expression[0]"), "Bundle.entry[1].resource.resourceType");
    EXPECT_EQ(counts(), before);
}

TEST_F(MessagingRules, AHeaderWithTwoEventsIsRefused) {
    auto r = client->post("/fhir/$process-message", R"({"resourceType":"Bundle","type":"message","entry":[
      {"resource":{"resourceType":"MessageHeader","id":"h3","eventCoding":{"code":"X"},"eventUri":"urn:y","source":{"endpoint":"urn:x"}}}]})");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(json_string(parse_json(r.body), "issue[0].expression[0]"), "Bundle.entry[0].resource.eventUri");
}

}  // namespace
}  // namespace helsebro::testing
