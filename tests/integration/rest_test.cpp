// Single-resource REST interactions against the real daemon: create, read, vread, update,
// conditional create, version headers, authentication.
#include "tests/integration/fixture.hpp"

namespace helsebro::testing {
namespace {

class Rest : public DaemonTest {};

TEST_F(Rest, CreateAnswersWithLocationEtagAndTheStoredResource) {
    auto r = client->post("/fhir/Patient", patient_json(synthetic_fnr(1, 2, 73)));
    ASSERT_EQ(r.status, 201) << r.body;
    auto location = r.header("location");
    EXPECT_EQ(location.rfind("http://127.0.0.1:" + std::to_string(daemon->port()) + "/fhir/Patient/", 0), 0u) << location;
    EXPECT_NE(location.find("/_history/1"), std::string::npos);
    EXPECT_EQ(r.header("etag"), "W/\"1\"");
    EXPECT_NE(r.header("last-modified").find("GMT"), std::string::npos);
    auto body = parse_json(r.body);
    EXPECT_EQ(json_string(body, "meta.versionId"), "1");
    EXPECT_EQ("Patient/" + json_string(body, "id"), resource_path(location));
    EXPECT_EQ(r.header("content-type"), "application/fhir+json; charset=utf-8");
}

TEST_F(Rest, ReadReturnsWhatWasStoredWithVersionHeaders) {
    auto created = client->post("/fhir/Patient", patient_json(synthetic_fnr(2, 3, 74)));
    ASSERT_EQ(created.status, 201);
    auto read = client->get("/fhir/" + resource_path(created.header("location")));
    ASSERT_EQ(read.status, 200) << read.body;
    EXPECT_EQ(read.body, created.body);
    EXPECT_EQ(read.header("etag"), "W/\"1\"");
    EXPECT_EQ(read.header("last-modified"), created.header("last-modified"));
}

TEST_F(Rest, UpdateMakesANewVersionAndOldVersionsStayReadable) {
    auto fnr = synthetic_fnr(3, 4, 75);
    auto first = client->put("/fhir/Patient/p-update", patient_json(fnr, R"(,"id":"p-update")"));
    ASSERT_EQ(first.status, 201) << first.body;
    EXPECT_EQ(resource_path(first.header("location")), "Patient/p-update");
    auto second = client->put("/fhir/Patient/p-update", patient_json(fnr, R"(,"id":"p-update","gender":"female")"));
    ASSERT_EQ(second.status, 200) << second.body;
    EXPECT_EQ(second.header("etag"), "W/\"2\"");
    EXPECT_EQ(json_string(parse_json(client->get("/fhir/Patient/p-update").body), "meta.versionId"), "2");
    auto v1 = client->get("/fhir/Patient/p-update/_history/1");
    ASSERT_EQ(v1.status, 200);
    EXPECT_EQ(v1.body, first.body);
    EXPECT_EQ(json_optional_string(parse_json(v1.body), "gender"), std::nullopt);
    EXPECT_EQ(client->get("/fhir/Patient/p-update/_history/3").status, 404);
}

TEST_F(Rest, ResendingTheSameUpdateMakesNoNewVersion) {
    auto body = patient_json(synthetic_fnr(4, 5, 76), R"(,"id":"p-same")");
    ASSERT_EQ(client->put("/fhir/Patient/p-same", body).status, 201);
    auto again = client->put("/fhir/Patient/p-same", body);
    ASSERT_EQ(again.status, 200);
    EXPECT_EQ(again.header("etag"), "W/\"1\"");
    EXPECT_EQ(client->get("/fhir/Patient/p-same/_history/2").status, 404);
}

TEST_F(Rest, IfMatchRefusesAnUpdateOfAnotherVersion) {
    auto fnr = synthetic_fnr(5, 6, 77);
    ASSERT_EQ(client->put("/fhir/Patient/p-match", patient_json(fnr, R"(,"id":"p-match")")).status, 201);
    auto stale = client->put("/fhir/Patient/p-match", patient_json(fnr, R"(,"id":"p-match","gender":"male")"),
                             {{"If-Match", "W/\"7\""}});
    EXPECT_EQ(stale.status, 412) << stale.body;
    auto fresh = client->put("/fhir/Patient/p-match", patient_json(fnr, R"(,"id":"p-match","gender":"male")"),
                             {{"If-Match", "W/\"1\""}});
    EXPECT_EQ(fresh.status, 200) << fresh.body;
}

TEST_F(Rest, ConditionalCreateFindsTheExistingResourceByIdentifier) {
    auto fnr = synthetic_fnr(6, 7, 78);
    std::string condition = std::string("identifier=") + fnr_system + "%7C" + fnr;
    auto first = client->post("/fhir/Patient", patient_json(fnr), {{"If-None-Exist", condition}});
    ASSERT_EQ(first.status, 201) << first.body;
    auto before = counts();
    auto second = client->post("/fhir/Patient", patient_json(fnr), {{"If-None-Exist", condition}});
    EXPECT_EQ(second.status, 200) << second.body;
    EXPECT_EQ(resource_path(second.header("location")), resource_path(first.header("location")));
    EXPECT_EQ(counts(), before);
}

TEST_F(Rest, ConditionalCreateWithAnUnsupportedParameterIsRefused) {
    auto r = client->post("/fhir/Patient", patient_json(synthetic_fnr(7, 8, 79)), {{"If-None-Exist", "name=x"}});
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body.find("not-supported"), std::string::npos) << r.body;
}

TEST_F(Rest, PreferReturnMinimalAnswersWithoutABody) {
    auto r = client->post("/fhir/Patient", patient_json(synthetic_fnr(8, 9, 80)), {{"Prefer", "return=minimal"}});
    ASSERT_EQ(r.status, 201);
    EXPECT_TRUE(r.body.empty());
    EXPECT_FALSE(r.header("location").empty());
}

TEST_F(Rest, XmlIsAcceptedAndAnsweredWhenAskedFor) {
    std::string xml = "<Patient xmlns=\"http://hl7.org/fhir\"><identifier><system value=\"urn:oid:2.16.578.1.12.4.1.4.1\"/>"
                      "<value value=\"" + synthetic_fnr(24, 2, 73) + "\"/></identifier><active value=\"true\"/></Patient>";
    auto created = client->post("/fhir/Patient", xml, {{"Content-Type", "application/fhir+xml"}});
    ASSERT_EQ(created.status, 201) << created.body;
    EXPECT_EQ(json_string(parse_json(created.body), "identifier[0].system"), "urn:oid:2.16.578.1.12.4.1.4.1");
    auto path = "/fhir/" + resource_path(created.header("location"));
    auto as_xml = client->request("GET", path, "", {{"Accept", "application/fhir+xml"}, {"Authorization", "Bearer " + daemon->token()}});
    ASSERT_EQ(as_xml.status, 200);
    EXPECT_EQ(as_xml.header("content-type"), "application/fhir+xml; charset=utf-8");
    EXPECT_NE(as_xml.body.find("<active value=\"true\"/>"), std::string::npos) << as_xml.body;
    auto by_format = client->get(path + "?_format=xml");
    EXPECT_EQ(by_format.body, as_xml.body);
    auto missing = client->get("/fhir/Patient/none?_format=xml");
    EXPECT_EQ(missing.status, 404);
    EXPECT_NE(missing.body.find("<OperationOutcome"), std::string::npos) << missing.body;
    StoreInspector db(daemon->data_dir());
    EXPECT_EQ(db.rows("SELECT body FROM message")[0][0], xml) << "kept as received";
}

TEST_F(Rest, UnknownResourcesAndVersionsAre404) {
    EXPECT_EQ(client->get("/fhir/Patient/does-not-exist").status, 404);
    EXPECT_EQ(client->get("/fhir/NoSuchType/1").status, 404);
    auto r = client->get("/fhir/Patient/x/_history/abc");
    EXPECT_EQ(r.status, 404);
    EXPECT_NE(r.body.find("OperationOutcome"), std::string::npos);
}

TEST_F(Rest, UnsupportedMethodsGet405WithAllow) {
    auto r = client->del("/fhir/Patient/1");
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(r.header("allow"), "GET, PUT");
}

TEST_F(Rest, RequestsWithoutAValidTokenGet401AndChangeNothing) {
    auto before = counts();
    HttpClient anonymous(daemon->port());
    auto r = anonymous.request("POST", "/fhir/Patient", patient_json(synthetic_fnr(9, 10, 81)),
                               {{"Content-Type", "application/fhir+json"}});
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.header("www-authenticate"), "Bearer realm=\"helsebro\"");
    EXPECT_NE(r.body.find("\"login\""), std::string::npos) << r.body;
    HttpClient wrong(daemon->port());
    wrong.set_token(daemon->token() + "x");
    EXPECT_EQ(wrong.get("/fhir/Patient/1").status, 401);
    EXPECT_EQ(counts(), before);
}

TEST_F(Rest, TheSenderIsRecordedWithTheMessageAsReceived) {
    std::string body = patient_json(synthetic_fnr(10, 11, 82));
    ASSERT_EQ(client->post("/fhir/Patient", body).status, 201);
    StoreInspector db(daemon->data_dir());
    auto rows = db.rows("SELECT sender, method, target, kind, body FROM message");
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0][0], "demo");
    EXPECT_EQ(rows[0][1], "POST");
    EXPECT_EQ(rows[0][2], "/fhir/Patient");
    EXPECT_EQ(rows[0][3], "create");
    EXPECT_EQ(rows[0][4], body);
}

TEST_F(Rest, MetadataIsPublicAndListsWhatIsImplemented) {
    HttpClient anonymous(daemon->port());
    auto r = anonymous.get("/fhir/metadata");
    ASSERT_EQ(r.status, 200);
    auto cs = parse_json(r.body);
    EXPECT_EQ(json_string(cs, "resourceType"), "CapabilityStatement");
    EXPECT_EQ(json_string(cs, "fhirVersion"), "4.0.1");
    EXPECT_EQ(json_string(cs, "rest[0].interaction[0].code"), "transaction");
    EXPECT_EQ(json_string(cs, "rest[0].operation[0].name"), "process-message");
    EXPECT_EQ(json_string(cs, "rest[0].resource[0].interaction[0].code"), "read");
    EXPECT_GT(json_size(cs, "rest[0].resource"), 140u);
}

}  // namespace
}  // namespace helsebro::testing
