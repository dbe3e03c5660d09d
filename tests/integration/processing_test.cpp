// The mapping stage in the running daemon: a message is acknowledged, then processed into shared
// records and outgoing messages; a broken rule set is refused on reload (admin API and SIGHUP)
// while traffic goes on under the rules in force; a message the rules fail on waits until fixed.
#include <csignal>
#include <fstream>
#include <thread>

#include "tests/integration/fixture.hpp"
#include "tests/support/admission.hpp"

namespace helsebro::testing {
namespace {

const std::string rules_v1 = admission_rules("'admitted: v1'");

// v2 writes another note; a patient without a name makes it fail (a rule error stands in for any).
const std::string rules_v2 = admission_rules("'admitted: v2'",
                                             "    let:\n      checked: \"iif(%patient.name.exists(), true, (1 | 2).single())\"\n", "");

const char* broken_rules = R"(rules:
  - rule: admission-plan
    when:
      event: urn:oid:2.16.578.1.12.4.1.1.8279|INNLEGGELSESRAPPORT
    patient: Bundle.entry.resource.ofType(Patient).first()
    let:
      x: "%patient.nmae"
)";

std::string admission(const std::string& fnr, int n, bool named = true) {
    return admission_message(fnr, "adm-" + std::to_string(n), named ? "Nordmann" : "");
}

class Processing : public DaemonTest {
protected:
    DaemonOptions options() override {
        DaemonOptions o;
        o.extra_yaml = "admin:\n  clients: [demo]\nrecipients:\n  - id: hospital\n    endpoint: http://127.0.0.1:9/fhir\n"
                       "    her_ids: [8094]\n";
        return o;
    }

    void SetUp() override {
        // The rules must be there before the daemon starts: it refuses to run without valid ones.
        daemon = std::make_unique<Daemon>(options());
        write_rules(*daemon, rules_v1);
        daemon->start();
        client = std::make_unique<HttpClient>(daemon->port());
        client->set_token(daemon->token());
    }

    static void write_rules(const Daemon& d, const std::string& text) {
        std::ofstream(d.mappings_dir() / "rules.yaml", std::ios::trunc) << text;
    }

    rapidjson::Document processing() {
        auto r = client->get("/admin/processing");
        EXPECT_EQ(r.status, 200) << r.body;
        return parse_json(r.body);
    }

    // Polls the admin API until `done` holds; a bounded loop, not a sleep.
    template <class Pred>
    bool eventually(Pred done) {
        for (int i = 0; i < 200; ++i) {
            auto p = processing();
            if (done(p)) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
        }
        return false;
    }

    std::int64_t scalar(const std::string& sql) { return StoreInspector(daemon->data_dir()).scalar(sql); }
};

TEST_F(Processing, AnAcknowledgedMessageBecomesRecordsAndAnOutgoingMessage) {
    const auto fnr = synthetic_fnr(1, 2, 55);
    auto r = client->post("/fhir/$process-message", admission(fnr, 1), {{"Content-Type", "application/fhir+json"}});
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_TRUE(eventually([](const auto& p) { return json_int(p, "processed") == 1; }));
    EXPECT_EQ(scalar("SELECT count(*) FROM processing WHERE state = 'done'"), 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM resource_version WHERE type = 'CarePlan'"), 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM resource_version WHERE type = 'Provenance'"), 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM outbox WHERE recipient = 'hospital'"), 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM patient_resource WHERE value = '" + fnr + "'"), 1);
    // The daemon logs what happened, never who it happened to.
    EXPECT_EQ(daemon->log().find(fnr), std::string::npos);
}

TEST_F(Processing, ABrokenRuleSetIsRefusedWhileTrafficGoesOnUnderTheRulesInForce) {
    const auto before = json_string(processing(), "rule_set");
    write_rules(*daemon, broken_rules);
    auto reload = client->post("/admin/mappings/reload", "");
    ASSERT_EQ(reload.status, 422) << reload.body;
    EXPECT_NE(reload.body.find("rules.yaml:7:"), std::string::npos) << reload.body;
    EXPECT_NE(reload.body.find("nmae"), std::string::npos) << reload.body;
    EXPECT_EQ(json_string(processing(), "rule_set"), before);

    // Meanwhile messages are taken and mapped with the rules in force.
    for (int i = 0; i < 5; ++i) {
        auto r = client->post("/fhir/$process-message", admission(synthetic_fnr(3, 4, 40 + i), 10 + i),
                              {{"Content-Type", "application/fhir+json"}});
        ASSERT_EQ(r.status, 200) << r.body;
    }
    ASSERT_TRUE(eventually([](const auto& p) { return json_int(p, "processed") == 5; }));
    EXPECT_EQ(scalar("SELECT count(*) FROM resource_version WHERE type = 'CarePlan' AND instr(CAST(body AS TEXT), 'admitted: v1') > 0"), 5);

    // SIGHUP with fixed rules: the new set takes over.
    write_rules(*daemon, rules_v2);
    ::kill(daemon->pid(), SIGHUP);
    ASSERT_TRUE(eventually([&](const auto& p) { return json_string(p, "rule_set") != before; }));
    auto r = client->post("/fhir/$process-message", admission(synthetic_fnr(5, 6, 50), 20), {{"Content-Type", "application/fhir+json"}});
    ASSERT_EQ(r.status, 200);
    ASSERT_TRUE(eventually([](const auto& p) { return json_int(p, "processed") == 6; }));
    EXPECT_EQ(scalar("SELECT count(*) FROM resource_version WHERE type = 'CarePlan' AND instr(CAST(body AS TEXT), 'admitted: v2') > 0"), 1);
    EXPECT_EQ(scalar("SELECT count(DISTINCT rule_set) FROM processing"), 2);
}

TEST_F(Processing, AMessageTheRulesFailOnWaitsAndIsProcessedOnceTheyAreFixed) {
    write_rules(*daemon, rules_v2);
    ASSERT_EQ(client->post("/admin/mappings/reload", "").status, 200);
    const auto fnr = synthetic_fnr(7, 8, 60);
    auto r = client->post("/fhir/$process-message", admission(fnr, 30, /*named=*/false), {{"Content-Type", "application/fhir+json"}});
    ASSERT_EQ(r.status, 200) << r.body;  // accepted: a rule problem is ours, not the sender's
    r = client->post("/fhir/$process-message", admission(fnr, 31), {{"Content-Type", "application/fhir+json"}});
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_TRUE(eventually([](const auto& p) { return json_int(p, "failed") == 1 && json_int(p, "waiting") == 1; }));
    EXPECT_EQ(scalar("SELECT count(*) FROM resource_version WHERE type = 'CarePlan'"), 0);
    // The administrator sees which messages wait and why, and nobody's fødselsnummer.
    auto state = client->get("/admin/processing");
    auto doc = parse_json(state.body);
    ASSERT_EQ(json_size(doc, "unfinished"), 2u) << state.body;
    EXPECT_EQ(json_string(doc, "unfinished[0].state"), "failed");
    EXPECT_NE(json_string(doc, "unfinished[0].error").find("rule 'admission-plan' (rules.yaml:"), std::string::npos);
    EXPECT_EQ(json_string(doc, "unfinished[1].state"), "waiting");
    EXPECT_EQ(state.body.find(fnr), std::string::npos);

    write_rules(*daemon, rules_v1);
    ASSERT_EQ(client->post("/admin/mappings/reload", "").status, 200);
    ASSERT_TRUE(eventually([](const auto& p) { return json_int(p, "processed") >= 2; }));
    EXPECT_EQ(scalar("SELECT count(*) FROM processing WHERE state <> 'done'"), 0);
    EXPECT_EQ(scalar("SELECT count(*) FROM outbox"), 2);
}

TEST_F(Processing, TheAdminApiIsForAdministratorsOnly) {
    HttpClient anonymous(daemon->port());
    EXPECT_EQ(anonymous.request("POST", "/admin/mappings/reload").status, 401);
    // A daemon whose config names no administrator: its demo client may send, not administer.
    Daemon plain;
    plain.start();
    HttpClient sender(plain.port());
    sender.set_token(plain.token());
    EXPECT_EQ(sender.post("/admin/mappings/reload", "").status, 403);
    EXPECT_EQ(sender.get("/admin/processing").status, 403);
}

}  // namespace
}  // namespace helsebro::testing
