// Create, update, conditional matching, reference rewriting and structural checks
// (adapter/ingress/resource_ops.hpp), run inside real store jobs as the REST API and Bundles run them.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "adapter/ingress/resource_ops.hpp"
#include "fhir/json.hpp"
#include "tests/unit/adapter/adapter_test_support.hpp"

namespace helsebro::ingress {
namespace {

using store::Tx;

Value parse(std::string_view text) {
    auto p = fhir::json::parse(text);
    if (!p.value) {
        ADD_FAILURE() << "test JSON does not parse: " << p.error.message << "\n" << text;
        return Value::object();
    }
    return *p.value;
}

std::vector<std::string> keys(const Value& object) {
    std::vector<std::string> out;
    for (const auto& [k, v] : object.members()) out.push_back(k);
    return out;
}

using Keys = std::vector<std::string>;

// Runs `body` as one store job (committed when it returns true) and waits for it.
class OpsTest : public ::testing::Test {
protected:
    test::ScratchStore s;

    void in_job(const std::function<bool(Tx&, std::int64_t message_id)>& body) {
        ASSERT_TRUE(test::run_job(*s.store, [&](Tx& tx) { return body(tx, test::record(tx)); }));
    }
    EntryResult create_now(std::string_view json, std::string_view id, std::string* now = nullptr) {
        EntryResult r;
        in_job([&](Tx& tx, std::int64_t m) {
            r = create(tx, m, prepare(parse(json), "Patient", id));
            if (now) *now = tx.now();
            return r.ok();
        });
        return r;
    }
    EntryResult update_now(std::string_view json, std::string_view id, std::string_view if_match = {}) {
        EntryResult r;
        in_job([&](Tx& tx, std::int64_t m) {
            r = update(tx, m, prepare(parse(json), "Patient", id), if_match);
            return r.ok();
        });
        return r;
    }
};

// ---------------------------------------------------------------------------------------------
// create

using Create = OpsTest;

TEST_F(Create, StampsIdAndMetaRightAfterResourceTypeAndKeepsOtherMeta) {
    std::string now;
    auto r = create_now(R"({"resourceType":"Patient",)"
                        R"("meta":{"profile":["http://example.org/StructureDefinition/p"],"tag":[{"code":"t"}]},)"
                        R"("active":true})",
                        "new-1", &now);
    ASSERT_EQ(r.status, 201);
    EXPECT_EQ(r.type, "Patient");
    EXPECT_EQ(r.id, "new-1");
    EXPECT_EQ(r.version, 1);
    EXPECT_EQ(r.last_updated, now);
    EXPECT_TRUE(r.issues.empty());

    auto body = parse(r.body);
    // FHIR's element order: resourceType, then Resource.id, Resource.meta, then the rest.
    EXPECT_EQ(keys(body), (Keys{"resourceType", "id", "meta", "active"}));
    EXPECT_EQ(body.string_at("id"), "new-1");
    const Value* meta = body.find("meta");
    ASSERT_TRUE(meta);
    // Meta's own order: versionId, lastUpdated, (source), profile, security, tag.
    EXPECT_EQ(keys(*meta), (Keys{"versionId", "lastUpdated", "profile", "tag"}));
    EXPECT_EQ(meta->string_at("versionId"), "1");
    EXPECT_EQ(meta->string_at("lastUpdated"), now);
    EXPECT_EQ(fhir::json::write(*meta->find("profile")), R"(["http://example.org/StructureDefinition/p"])");
    EXPECT_EQ(fhir::json::write(*meta->find("tag")), R"([{"code":"t"}])");

    // What the job answered is what was committed.
    auto stored = s.store->read("Patient", "new-1");
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->json, r.body);
    EXPECT_EQ(stored->version, 1);
    EXPECT_EQ(stored->last_updated, now);
}

TEST_F(Create, AddsMetaWhenThereIsNoneAndReplacesAClientId) {
    auto r = create_now(R"({"resourceType":"Patient","active":true,"id":"client-chose-this"})", "server-id");
    ASSERT_EQ(r.status, 201);
    auto body = parse(r.body);
    EXPECT_EQ(keys(body), (Keys{"resourceType", "id", "meta", "active"}));
    EXPECT_EQ(body.string_at("id"), "server-id");
    EXPECT_EQ(keys(*body.find("meta")), (Keys{"versionId", "lastUpdated"}));
}

TEST_F(Create, OverwritesVersionIdAndLastUpdatedSentByTheClient) {
    std::string now;
    auto r = create_now(R"({"resourceType":"Patient","meta":{"lastUpdated":"2001-01-01T00:00:00Z",)"
                        R"("versionId":"9","source":"urn:x"}})",
                        "p", &now);
    ASSERT_EQ(r.status, 201);
    auto body = parse(r.body);
    const Value* meta = body.find("meta");
    ASSERT_TRUE(meta);
    EXPECT_EQ(keys(*meta), (Keys{"versionId", "lastUpdated", "source"}));
    EXPECT_EQ(meta->string_at("versionId"), "1");
    EXPECT_EQ(meta->string_at("lastUpdated"), now);
}

TEST_F(Create, IndexesTheIdentifiersOfTheResource) {
    create_now(R"({"resourceType":"Patient","identifier":[{"system":"urn:a","value":"1"},{"value":"nosys"}]})", "p");
    EXPECT_EQ(s.store->ids_by_identifier("Patient", "urn:a", "1"), std::vector<std::string>{"p"});
    // An identifier without a system is kept under the empty system ("|nosys" in a search).
    EXPECT_EQ(s.store->ids_by_identifier("Patient", "", "nosys"), std::vector<std::string>{"p"});
}

// ---------------------------------------------------------------------------------------------
// update

using Update = OpsTest;

TEST_F(Update, CreatesVersionOneWhenTheResourceIsNew) {
    auto r = update_now(R"({"resourceType":"Patient","id":"u","active":true})", "u");
    EXPECT_EQ(r.status, 201);
    EXPECT_EQ(r.version, 1);
    EXPECT_EQ(keys(parse(r.body)), (Keys{"resourceType", "id", "meta", "active"}));
}

TEST_F(Update, AnUnchangedResourceKeepsItsVersion) {
    const std::string json = R"({"resourceType":"Patient","id":"u","active":true})";
    auto first = update_now(json, "u");
    ASSERT_EQ(first.status, 201);

    // Resent as is, and resent with the meta the server gave it: no new version either way.
    auto again = update_now(json, "u");
    EXPECT_EQ(again.status, 200);
    EXPECT_EQ(again.version, 1);
    EXPECT_EQ(again.last_updated, first.last_updated);
    EXPECT_EQ(again.body, first.body);
    auto with_meta = update_now(first.body, "u");
    EXPECT_EQ(with_meta.version, 1);
    auto stale_meta = update_now(
        R"({"resourceType":"Patient","id":"u","meta":{"versionId":"5","lastUpdated":"2001-01-01T00:00:00Z"},"active":true})",
        "u");
    EXPECT_EQ(stale_meta.version, 1);

    EXPECT_FALSE(s.store->read_version("Patient", "u", 2));
    EXPECT_EQ(s.store->read("Patient", "u")->version, 1);
}

TEST_F(Update, AChangedResourceGetsTheNextVersion) {
    update_now(R"({"resourceType":"Patient","id":"u","active":true})", "u");
    auto r = update_now(R"({"resourceType":"Patient","id":"u","active":false})", "u");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.version, 2);
    auto body = parse(r.body);
    ASSERT_TRUE(body.find("meta"));
    EXPECT_EQ(body.find("meta")->string_at("versionId"), "2");
    EXPECT_EQ(s.store->read("Patient", "u")->version, 2);
    EXPECT_TRUE(s.store->read_version("Patient", "u", 1));
}

TEST_F(Update, IfMatchWithAnotherVersionIsAPreconditionFailure) {
    update_now(R"({"resourceType":"Patient","id":"u","active":true})", "u");
    auto r = update_now(R"({"resourceType":"Patient","id":"u","active":false})", "u", "W/\"2\"");
    EXPECT_EQ(r.status, 412);
    EXPECT_FALSE(r.ok());
    ASSERT_FALSE(r.issues.empty());
    EXPECT_FALSE(r.issues[0].diagnostics.empty());
    // Nothing was written.
    EXPECT_EQ(s.store->read("Patient", "u")->version, 1);

    auto ok = update_now(R"({"resourceType":"Patient","id":"u","active":false})", "u", "W/\"1\"");
    EXPECT_EQ(ok.status, 200);
    EXPECT_EQ(ok.version, 2);
}

TEST_F(Update, IfMatchOnAMissingResourceFailsAndAMalformedOneIsABadRequest) {
    EXPECT_EQ(update_now(R"({"resourceType":"Patient","id":"none"})", "none", "W/\"1\"").status, 412);
    EXPECT_FALSE(s.store->read("Patient", "none"));
    update_now(R"({"resourceType":"Patient","id":"u"})", "u");
    EXPECT_EQ(update_now(R"({"resourceType":"Patient","id":"u","active":true})", "u", "not-an-etag").status, 400);
}

// ---------------------------------------------------------------------------------------------
// find_existing (If-None-Exist and conditional references)

class FindExisting : public OpsTest {
protected:
    void SetUp() override {
        in_job([](Tx& tx, std::int64_t m) {
            auto with = [&](const char* id, const char* ident) {
                auto json = std::string(R"({"resourceType":"Patient","identifier":[)") + ident + "]}";
                return create(tx, m, prepare(parse(json), "Patient", id)).ok();
            };
            return with("one", R"({"system":"urn:sys","value":"1"})") &&
                   with("twin-a", R"({"system":"urn:sys","value":"2"})") &&
                   with("twin-b", R"({"system":"urn:sys","value":"2"})");
        });
    }
    std::optional<EntryResult> find(std::string_view query, std::string_view type = "Patient") {
        std::optional<EntryResult> r;
        in_job([&](Tx& tx, std::int64_t) {
            r = find_existing(tx, type, query, "If-None-Exist");
            return true;
        });
        return r;
    }
};

TEST_F(FindExisting, NoMatchLetsTheCreateGoOn) {
    EXPECT_FALSE(find("identifier=urn:sys|0"));
    EXPECT_FALSE(find("identifier=urn:other|1"));
    EXPECT_FALSE(find("identifier=urn:sys|1", "Observation"));
    EXPECT_FALSE(find("_id=nobody"));
}

TEST_F(FindExisting, OneMatchIsTheExistingResource) {
    auto r = find("identifier=urn:sys|1");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->id, "one");
    EXPECT_EQ(r->version, 1);
    EXPECT_EQ(r->body, s.store->read("Patient", "one")->json);
    // The condition is percent-decoded first.
    auto encoded = find("identifier=urn%3Asys%7C1");
    ASSERT_TRUE(encoded);
    EXPECT_EQ(encoded->id, "one");
    auto by_id = find("_id=one");
    ASSERT_TRUE(by_id);
    EXPECT_EQ(by_id->id, "one");
}

TEST_F(FindExisting, TwoMatchesArePreconditionFailed) {
    // FHIR conditional create: multiple matches → 412 Precondition Failed.
    auto r = find("identifier=urn:sys|2");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 412);
    ASSERT_FALSE(r->issues.empty());
    EXPECT_EQ(r->issues[0].expression, std::vector<std::string>{"If-None-Exist"});
}

TEST_F(FindExisting, UnsupportedConditionsAreBadRequests) {
    for (const char* q : {"name=Ola", "identifier=1", "identifier=urn:sys|", "identifier=urn:sys|1&_id=one", ""}) {
        auto r = find(q);
        ASSERT_TRUE(r) << q;
        EXPECT_EQ(r->status, 400) << q;
        ASSERT_FALSE(r->issues.empty()) << q;
        EXPECT_EQ(r->issues[0].expression, std::vector<std::string>{"If-None-Exist"}) << q;
    }
}

// ---------------------------------------------------------------------------------------------
// read inside a transaction

using ReadInTx = OpsTest;

TEST_F(ReadInTx, FindsTheCurrentVersionAndRefusesOthers) {
    create_now(R"({"resourceType":"Patient"})", "r");
    EntryResult current, missing, old;
    in_job([&](Tx& tx, std::int64_t) {
        current = read(tx, "Patient", "r", 0);
        missing = read(tx, "Patient", "nobody", 0);
        old = read(tx, "Patient", "r", 7);
        return true;
    });
    EXPECT_EQ(current.status, 200);
    EXPECT_EQ(current.id, "r");
    EXPECT_EQ(missing.status, 404);
    EXPECT_GE(old.status, 400);
}

// ---------------------------------------------------------------------------------------------
// rewrite_references

TEST(RewriteReferences, ReplacesReferencesUrisAndNarrativeLinksButNoOtherStrings) {
    auto resource = parse(R"({
        "resourceType": "Observation",
        "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">urn:uuid:p <a href=\"urn:uuid:p\">x</a></div>"},
        "subject": {"reference": "urn:uuid:p", "display": "urn:uuid:p"},
        "performer": [{"reference": "urn:uuid:d"}, {"display": "no reference here"}],
        "note": [{"text": "urn:uuid:p"}],
        "component": [{"extension": [{"url": "urn:ext", "valueReference": {"reference": "urn:uuid:p"}}]}],
        "focus": [{"reference": "Patient/already-there"}],
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": "urn:uuid:p"}]
    })");
    std::map<std::string, std::string> ids{{"urn:uuid:p", "Patient/123"}, {"urn:uuid:d", "Practitioner/9"}};
    std::vector<std::string> asked, paths;
    auto error = rewrite_references(resource, "Observation", [&](const Reference& site, std::optional<EntryResult>&) {
        asked.push_back(site.value);
        paths.push_back(site.path);
        auto it = ids.find(site.value);
        return it == ids.end() ? std::nullopt : std::optional<std::string>(it->second);
    });
    EXPECT_FALSE(error);
    // References, uri elements and quoted narrative links are offered, in document order; no other string.
    EXPECT_EQ(asked, (std::vector<std::string>{"urn:uuid:p", "urn:uuid:p", "urn:uuid:d", "urn:ext", "urn:uuid:p",
                                               "Patient/already-there"}));
    EXPECT_EQ(paths[0], "Observation.text.div");
    EXPECT_EQ(paths[1], "Observation.subject.reference");
    EXPECT_EQ(paths[2], "Observation.performer[0].reference");
    EXPECT_EQ(paths[4], "Observation.component[0].extension[0].valueReference.reference");

    EXPECT_EQ(resource.find("subject")->string_at("reference"), "Patient/123");
    EXPECT_EQ(resource.find("subject")->string_at("display"), "urn:uuid:p");
    EXPECT_EQ(resource.find("performer")->items()[0].string_at("reference"), "Practitioner/9");
    EXPECT_EQ(resource.find("performer")->items()[1].string_at("display"), "no reference here");
    EXPECT_EQ(resource.find("note")->items()[0].string_at("text"), "urn:uuid:p");
    EXPECT_EQ(resource.find("text")->string_at("div"),
              "<div xmlns=\"http://www.w3.org/1999/xhtml\">urn:uuid:p <a href=\"Patient/123\">x</a></div>");
    EXPECT_EQ(resource.find("component")->items()[0].find("extension")->items()[0].find("valueReference")->string_at(
                  "reference"),
              "Patient/123");
    EXPECT_EQ(resource.find("component")->items()[0].find("extension")->items()[0].string_at("url"), "urn:ext");
    // A reference the resolver leaves alone stays as it was.
    EXPECT_EQ(resource.find("focus")->items()[0].string_at("reference"), "Patient/already-there");
    EXPECT_EQ(resource.find("identifier")->items()[0].string_at("value"), "urn:uuid:p");
}

TEST(RewriteReferences, StopsAtTheFirstErrorAndReturnsIt) {
    auto resource = parse(R"({"resourceType":"Observation","subject":{"reference":"urn:uuid:bad"},)"
                          R"("performer":[{"reference":"urn:uuid:later"}]})");
    std::vector<std::string> asked;
    auto error = rewrite_references(resource, "Observation", [&](const Reference& site, std::optional<EntryResult>& err) {
        asked.push_back(site.value);
        err = failure(404, "not-found", "No entry has that fullUrl.", site.path);
        return std::optional<std::string>();
    });
    ASSERT_TRUE(error);
    EXPECT_EQ(error->status, 404);
    EXPECT_EQ(error->issues.at(0).expression.at(0), "Observation.subject.reference");
    EXPECT_EQ(asked, std::vector<std::string>{"urn:uuid:bad"});
    EXPECT_EQ(resource.find("subject")->string_at("reference"), "urn:uuid:bad");
}

// ---------------------------------------------------------------------------------------------
// check_resource

// The one issue, with its code and expression.
fhir::Issue only_issue(const std::vector<fhir::Issue>& issues) {
    EXPECT_EQ(issues.size(), 1u);
    if (issues.empty()) return {};
    EXPECT_FALSE(issues[0].diagnostics.empty());
    return issues[0];
}

TEST(CheckResource, AcceptsAWellFormedResource) {
    EXPECT_TRUE(check_resource(parse(R"({"resourceType":"Patient","id":"a-1.b","meta":{"source":"urn:x"}})"), "", "Patient").empty());
    EXPECT_TRUE(check_resource(parse(R"({"resourceType":"Observation"})"), "Bundle.entry[0].resource").empty());
}

TEST(CheckResource, RefusesWhatIsNoObject) {
    auto i = only_issue(check_resource(parse("[1]"), "Bundle.entry[2].resource"));
    EXPECT_EQ(i.code, "structure");
    EXPECT_EQ(i.expression, std::vector<std::string>{"Bundle.entry[2].resource"});
}

TEST(CheckResource, RefusesAMissingOrNonStringResourceType) {
    auto top = only_issue(check_resource(parse(R"({"id":"1"})"), ""));
    EXPECT_EQ(top.expression, std::vector<std::string>{"resourceType"});
    auto nested = only_issue(check_resource(parse(R"({"id":"1"})"), "Bundle.entry[1].resource"));
    EXPECT_EQ(nested.expression, std::vector<std::string>{"Bundle.entry[1].resource.resourceType"});
    auto number = only_issue(check_resource(parse(R"({"resourceType":7})"), ""));
    EXPECT_EQ(number.expression, std::vector<std::string>{"resourceType"});
}

TEST(CheckResource, RefusesAnUnknownType) {
    auto i = only_issue(check_resource(parse(R"({"resourceType":"Nope"})"), "Bundle.entry[0].resource"));
    EXPECT_EQ(i.expression, std::vector<std::string>{"Bundle.entry[0].resource.resourceType"});
    EXPECT_NE(i.diagnostics.find("Nope"), std::string::npos);
}

TEST(CheckResource, RefusesATypeOtherThanTheRequestsType) {
    auto i = only_issue(check_resource(parse(R"({"resourceType":"Observation"})"), "", "Patient"));
    EXPECT_EQ(i.code, "invalid");
    EXPECT_EQ(i.expression, std::vector<std::string>{"Observation.resourceType"});
}

TEST(CheckResource, RefusesABadId) {
    for (const char* json : {R"({"resourceType":"Patient","id":"a_b"})", R"({"resourceType":"Patient","id":""})",
                             R"({"resourceType":"Patient","id":7})"}) {
        auto i = only_issue(check_resource(parse(json), ""));
        EXPECT_EQ(i.expression, std::vector<std::string>{"Patient.id"}) << json;
    }
    auto long_id = std::string(R"({"resourceType":"Patient","id":")") + std::string(65, 'x') + "\"}";
    EXPECT_EQ(only_issue(check_resource(parse(long_id), "Bundle.entry[3].resource")).expression,
              std::vector<std::string>{"Bundle.entry[3].resource.id"});
}

TEST(CheckResource, RefusesAMetaThatIsNoObject) {
    auto i = only_issue(check_resource(parse(R"({"resourceType":"Patient","meta":"x"})"), ""));
    EXPECT_EQ(i.code, "structure");
    EXPECT_EQ(i.expression, std::vector<std::string>{"Patient.meta"});
    EXPECT_EQ(only_issue(check_resource(parse(R"({"resourceType":"Patient","meta":[]})"), "")).expression,
              std::vector<std::string>{"Patient.meta"});
}

}  // namespace
}  // namespace helsebro::ingress

namespace helsebro::ingress {
namespace {

TEST(Prepare, FillsVersionAndLastUpdatedWhereFhirOrdersThem) {
    auto p = prepare(fhir::json::parse(R"({"meta":{"profile":["urn:p"],"extension":[{"url":"urn:e","valueBoolean":true}],)"
                                       R"("versionId":"99"},"resourceType":"Patient","id":"ignored","active":true})")
                         .value.value(),
                     "Patient", "p1");
    auto doc = fhir::json::parse(p.json(3, "2026-11-25T08:30:12.123Z")).value.value();
    const auto& top = doc.members();
    ASSERT_GE(top.size(), 3u);
    EXPECT_EQ(top[0].first, "resourceType");
    EXPECT_EQ(top[1].first, "id");
    EXPECT_EQ(top[2].first, "meta");
    EXPECT_EQ(doc.string_at("id"), "p1");
    const auto& meta = doc.find("meta")->members();
    ASSERT_EQ(meta.size(), 4u);
    EXPECT_EQ(meta[0].first, "extension");
    EXPECT_EQ(meta[1].first, "versionId");
    EXPECT_EQ(meta[1].second.text(), "3");
    EXPECT_EQ(meta[2].first, "lastUpdated");
    EXPECT_EQ(meta[2].second.text(), "2026-11-25T08:30:12.123Z");
    EXPECT_EQ(meta[3].first, "profile");
}

TEST(Prepare, StringsThatLookLikeTheHolesAreLeftAlone) {
    auto p = prepare(fhir::json::parse(R"({"resourceType":"Basic","code":{"text":"\u0001version \u0001"}})").value.value(),
                     "Basic", "b1");
    auto doc = fhir::json::parse(p.json(1, "2026-01-01T00:00:00.000Z")).value.value();
    EXPECT_EQ(doc.find("code")->string_at("text"), std::string_view("\x01version \x01"));
    EXPECT_EQ(doc.find("meta")->string_at("versionId"), "1");
}

TEST(Prepare, KeepsTheIdentifiersForTheIndex) {
    auto p = prepare(fhir::json::parse(R"({"resourceType":"Patient","identifier":[{"system":"urn:s","value":"1"},{"value":"2"}]})")
                         .value.value(),
                     "Patient", "x");
    ASSERT_EQ(p.identifiers.size(), 2u);
    EXPECT_EQ(p.identifiers[0].system, "urn:s");
    EXPECT_EQ(p.identifiers[1].system, "");
    EXPECT_EQ(p.identifiers[1].value, "2");
}

}  // namespace
}  // namespace helsebro::ingress
