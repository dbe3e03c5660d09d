// Bad input gets an OperationOutcome with the fitting status and a precise place, and changes nothing.
#include "tests/integration/fixture.hpp"

namespace helsebro::testing {
namespace {

class BadInput : public DaemonTest {
protected:
    DaemonOptions options() override {
        DaemonOptions o;
        o.full_yaml = "http:\n  listen: 127.0.0.1:0\n  max_body_bytes: 65536\n"
                      "store:\n  data_dir: ${DATA_DIR}\nfhir:\n  max_json_depth: 16\n"
                      "auth:\n  demo_client: true\n";
        return o;
    }

    // Posts, expects the status, and checks the answer is an OperationOutcome and nothing was stored.
    rapidjson::Document expect_refused(const std::string& target, const std::string& body, int status,
                                       std::map<std::string, std::string> headers = {}) {
        auto before = counts();
        auto r = client->post(target, body, std::move(headers));
        EXPECT_EQ(r.status, status) << r.body;
        EXPECT_EQ(counts(), before);
        auto doc = parse_json(r.body);
        EXPECT_EQ(json_string(doc, "resourceType"), "OperationOutcome");
        return doc;
    }
};

TEST_F(BadInput, MalformedJsonNamesLineAndColumn) {
    auto oo = expect_refused("/fhir/Patient", "{\n  \"resourceType\": \"Patient\",\n  \"active\": tru\n}", 400);
    EXPECT_EQ(json_string(oo, "issue[0].code"), "structure");
    auto diagnostics = json_string(oo, "issue[0].diagnostics");
    EXPECT_NE(diagnostics.find("line 3"), std::string::npos) << diagnostics;
    EXPECT_EQ(json_string(oo, "issue[0].expression[0]"), "Patient.active");
    EXPECT_EQ(json_int(oo, "issue[0].extension[0].valueInteger"), 3);
}

TEST_F(BadInput, ABodyThatIsNoResourceIsRefused) {
    auto oo = expect_refused("/fhir/Patient", R"({"active":true})", 400);
    EXPECT_EQ(json_string(oo, "issue[0].expression[0]"), "Patient.resourceType");
    expect_refused("/fhir/Patient", R"([1,2,3])", 400);
}

TEST_F(BadInput, AnUnknownResourceTypeIsRefused) {
    auto oo = expect_refused("/fhir", R"({"resourceType":"Pasient","type":"transaction"})", 400);
    EXPECT_EQ(json_string(oo, "issue[0].expression[0]"), "Pasient.resourceType");
}

TEST_F(BadInput, AResourceThatContradictsTheUrlIsRefused) {
    auto oo = expect_refused("/fhir/Patient", R"({"resourceType":"Observation","status":"final"})", 400);
    EXPECT_EQ(json_string(oo, "issue[0].expression[0]"), "Observation.resourceType");
    auto before = counts();
    auto r = client->put("/fhir/Patient/a", R"({"resourceType":"Patient","id":"b"})");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(json_string(parse_json(r.body), "issue[0].expression[0]"), "Patient.id");
    auto no_id = client->put("/fhir/Patient/a", R"({"resourceType":"Patient"})");
    EXPECT_EQ(no_id.status, 400);
    EXPECT_EQ(counts(), before);
}

TEST_F(BadInput, ABodyOverTheLimitGets413WithoutBeingRead) {
    auto before = counts();
    // Announces 10 MB and sends none of it: the answer must come from the header alone.
    auto r = raw_exchange(daemon->port(),
                          "POST /fhir/Patient HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + daemon->token() +
                              "\r\nContent-Type: application/fhir+json\r\nContent-Length: 10000000\r\n\r\n");
    EXPECT_EQ(r.status, 413);
    EXPECT_NE(r.body.find("too-long"), std::string::npos) << r.body;
    // Chunked, so the size is only found while reading.
    std::string big(70000, ' ');
    auto chunked = raw_exchange(daemon->port(),
                                "POST /fhir/Patient HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + daemon->token() +
                                    "\r\nContent-Type: application/fhir+json\r\nTransfer-Encoding: chunked\r\n\r\n" +
                                    "11170\r\n" + big + "\r\n0\r\n\r\n");
    EXPECT_EQ(chunked.status, 413);
    EXPECT_EQ(counts(), before);
}

TEST_F(BadInput, NestingDeeperThanTheLimitIsRefused) {
    std::string deep = R"({"resourceType":"Patient","extension":)";
    for (int i = 0; i < 40; ++i) deep += "[";
    for (int i = 0; i < 40; ++i) deep += "]";
    deep += "}";
    auto oo = expect_refused("/fhir/Patient", deep, 400);
    EXPECT_NE(json_string(oo, "issue[0].diagnostics").find("16"), std::string::npos);
}

TEST_F(BadInput, AWrongContentTypeGets415) {
    auto oo = expect_refused("/fhir/Patient", R"({"resourceType":"Patient"})", 415, {{"Content-Type", "text/plain"}});
    EXPECT_EQ(json_string(oo, "issue[0].code"), "not-supported");
    expect_refused("/fhir/Patient", R"({"resourceType":"Patient"})", 415,
                   {{"Content-Type", "application/fhir+json; charset=iso-8859-1"}});
    expect_refused("/fhir/Patient", R"({"resourceType":"Patient"})", 415, {{"Content-Type", "text/html"}});
}

TEST_F(BadInput, AnAcceptThatIsNeitherJsonNorXmlGets406) {
    auto r = client->request("GET", "/fhir/metadata", "", {{"Accept", "text/html"}});
    EXPECT_EQ(r.status, 406);
    EXPECT_EQ(client->get("/fhir/metadata?_format=turtle").status, 406);
    EXPECT_EQ(client->get("/fhir/metadata?_format=json").status, 200);
}

TEST_F(BadInput, MalformedXmlNamesTheLineAndDoctypeIsRefused) {
    auto oo = expect_refused("/fhir/Patient", "<Patient xmlns=\"http://hl7.org/fhir\">\n<active value=\"true\">\n</Patient>", 400,
                             {{"Content-Type", "application/fhir+xml"}});
    EXPECT_EQ(json_string(oo, "issue[0].code"), "structure");
    expect_refused("/fhir/Patient",
                   "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>"
                   "<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"&e;\"/></Patient>",
                   400, {{"Content-Type", "application/fhir+xml"}});
}

TEST_F(BadInput, ReferencesOnlyATransactionCouldResolveAreRefusedElsewhere) {
    auto oo = expect_refused("/fhir/Flag", R"({"resourceType":"Flag","status":"active","code":{"text":"x"},)"
                             R"("subject":{"reference":"urn:uuid:12345678-1234-4234-8234-123456789012"}})", 400);
    EXPECT_EQ(json_string(oo, "issue[0].expression[0]"), "Flag.subject.reference");
    auto cond = expect_refused("/fhir/Flag", R"({"resourceType":"Flag","status":"active","code":{"text":"x"},)"
                               R"("subject":{"reference":"Patient?identifier=urn:x|1"}})", 400);
    EXPECT_EQ(json_string(cond, "issue[0].code"), "not-supported");
}

TEST_F(BadInput, InvalidFhirIsRefusedWithEveryIssueAndItsPath) {
    auto oo = expect_refused("/fhir/Patient", R"({"resourceType":"Patient","gender":"dunno","birthDate":"1944-13-01","nickname":"x"})", 400);
    auto paths = issue_paths(oo);
    EXPECT_NE(paths.find("Patient.gender"), std::string::npos) << paths;
    EXPECT_NE(paths.find("Patient.birthDate"), std::string::npos) << paths;
    EXPECT_NE(paths.find("Patient.nickname"), std::string::npos) << paths;
}

TEST_F(BadInput, AnEmptyBodyIsRefused) {
    auto oo = expect_refused("/fhir/Patient", "", 400, {{"Content-Type", "application/fhir+json"}});
    EXPECT_EQ(json_string(oo, "issue[0].code"), "required");
}

TEST_F(BadInput, DuplicatePropertiesAreRefused) {
    auto oo = expect_refused("/fhir/Patient", R"({"resourceType":"Patient","active":true,"active":false})", 400);
    EXPECT_NE(json_string(oo, "issue[0].diagnostics").find("active"), std::string::npos);
}

TEST_F(BadInput, MalformedHttpGets400AndTheServerStaysUp) {
    auto r = raw_exchange(daemon->port(), "BLAH / HTTP/9\r\n\r\n");
    EXPECT_TRUE(r.status == 400 || r.status == 0) << r.status;
    EXPECT_EQ(client->get("/fhir/metadata").status, 200);
}

}  // namespace
}  // namespace helsebro::testing
