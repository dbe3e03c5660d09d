// `helsebro queue`, `helsebro deadletters ...` and `helsebro audit`: the built binary against a
// running daemon whose recipient refuses messages, then accepts them again.
#include <set>

#include "tests/integration/delivery_fixture.hpp"

namespace helsebro::testing {
namespace {

using namespace std::chrono_literals;

// Polls `check` until it holds or `limit` passes; the last check decides.
template <class Check>
bool eventually(Check check, std::chrono::seconds limit = 30s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (check()) return true;
        std::this_thread::sleep_for(100ms);
    }
    return check();
}

class DeliveryCli : public DeliveryTest {
protected:
    // The command with the daemon's address and the demo client's token (an administrator here).
    CommandResult cli(std::vector<std::string> args) {
        args.insert(args.end(), {"--url", "http://127.0.0.1:" + std::to_string(daemon->port()), "--token-file",
                                 (daemon->data_dir() / "demo-client.token").string()});
        return run_command(args);
    }

    // The ids `deadletters list --json` gives for `recipient`; empty when the command fails.
    std::vector<std::string> dead_letters(const std::string& recipient) {
        auto r = cli({"deadletters", "list", "--recipient", recipient, "--json"});
        std::vector<std::string> ids;
        if (r.exit_code != 0) return ids;
        auto doc = parse_json(r.out);
        for (std::size_t i = 0; i < json_size(doc, "deadletters"); ++i)
            ids.push_back(json_string(doc, "deadletters[" + std::to_string(i) + "].id"));
        return ids;
    }

    struct QueueRow {
        std::int64_t queued = -1, dead = -1;
    };

    // `recipient`'s row of `queue --json`.
    QueueRow queue_row(const std::string& recipient) {
        auto r = cli({"queue", "--json"});
        if (r.exit_code != 0) return {};
        auto doc = parse_json(r.out);
        for (std::size_t i = 0; i < json_size(doc, "recipients"); ++i) {
            const std::string at = "recipients[" + std::to_string(i) + "]";
            if (json_string(doc, at + ".recipient") == recipient) return {json_int(doc, at + ".queued"), json_int(doc, at + ".dead")};
        }
        return {};
    }
};

TEST_F(DeliveryCli, ListsShowsReplaysAndDiscardsDeadLetters) {
    // Patient 1 of handover(): the refusal names the patient's fødselsnummer, as a careless recipient might.
    const std::string fnr = synthetic_fnr(2, 1, 50);
    ASSERT_NE(handover(1, 1).find(fnr), std::string::npos);
    hospital.set_handler([fnr](const ReceivedRequest&) {
        RecipientReply r;
        r.status = 422;
        r.headers = {{"Content-Type", "application/fhir+json"}};
        r.body = R"({"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"processing",)"
                 R"("diagnostics":"No care unit takes patient )" + fnr + R"( at HER 8094"}]})";
        return r;
    });
    for (int n = 1; n <= 3; ++n) ASSERT_EQ(send_handover(1, n), 200);

    std::vector<std::string> dead;
    ASSERT_TRUE(eventually([&] { return (dead = dead_letters("hospital")).size() == 3; }))
        << "dead letters for hospital: " << dead.size() << "\n" << daemon->current_log();
    ASSERT_TRUE(municipality.wait_for([](const auto& rs) { return rs.size() >= 3; }, 20s));
    EXPECT_TRUE(dead_letters("municipality").empty());

    // The human list: one line per dead letter, and no fødselsnummer.
    auto listed = cli({"deadletters", "list", "--recipient", "hospital"});
    ASSERT_EQ(listed.exit_code, 0) << listed.err;
    for (const auto& id : dead) EXPECT_NE(listed.out.find(id), std::string::npos) << listed.out;
    EXPECT_NE(listed.out.find("3 dead letters."), std::string::npos) << listed.out;
    EXPECT_EQ(listed.out.find(fnr), std::string::npos);

    // show: the record and the recipient's own words, the fødselsnummer in them blanked out.
    auto shown = cli({"deadletters", "show", dead.front()});
    ASSERT_EQ(shown.exit_code, 0) << shown.err;
    EXPECT_NE(shown.out.find("dead"), std::string::npos) << shown.out;
    EXPECT_NE(shown.out.find("422"), std::string::npos) << shown.out;
    EXPECT_NE(shown.out.find("error processing: No care unit takes patient *********** at HER 8094"), std::string::npos)
        << shown.out;
    EXPECT_EQ(shown.out.find(fnr), std::string::npos) << shown.out;
    auto shown_json = cli({"deadletters", "show", dead.front(), "--json"});
    ASSERT_EQ(shown_json.exit_code, 0) << shown_json.err;
    auto record = parse_json(shown_json.out);
    EXPECT_EQ(json_string(record, "state"), "dead");
    EXPECT_EQ(json_int(record, "last_status"), 422);
    EXPECT_EQ(json_string(record, "response.resourceType"), "OperationOutcome");
    EXPECT_EQ(json_string(record, "response.issue[0].code"), "processing");

    // queue: hospital has 3 dead, nothing queued; the table says so too.
    const auto before = queue_row("hospital");
    EXPECT_EQ(before.dead, 3);
    EXPECT_EQ(before.queued, 0);
    auto table = cli({"queue"});
    ASSERT_EQ(table.exit_code, 0) << table.err;
    EXPECT_NE(table.out.find("RECIPIENT"), std::string::npos) << table.out;
    EXPECT_NE(table.out.find("hospital"), std::string::npos) << table.out;
    EXPECT_NE(table.out.find("answered 422"), std::string::npos) << table.out;

    // The hospital is fixed: a replay of all its dead letters delivers every one.
    hospital.set_handler({});
    hospital.clear();
    auto replayed = cli({"deadletters", "replay", "--all", "--recipient", "hospital"});
    ASSERT_EQ(replayed.exit_code, 0) << replayed.err;
    EXPECT_NE(replayed.out.find("Replayed 3 messages"), std::string::npos) << replayed.out;
    ASSERT_TRUE(hospital.wait_for(
        [](const std::vector<ReceivedRequest>& rs) {
            std::set<std::string> tags;
            for (const auto& q : rs) tags.insert(handover_tag(q.body));
            return tags == std::set<std::string>{"1-1", "1-2", "1-3"};
        },
        20s));
    std::set<std::string> delivered_ids;
    for (const auto& q : hospital.requests()) delivered_ids.insert(bundle_id(q.body));
    EXPECT_EQ(delivered_ids, std::set<std::string>(dead.begin(), dead.end())) << "a replay keeps the delivery id";
    ASSERT_TRUE(eventually([&] {
        const auto row = queue_row("hospital");
        return row.dead == 0 && row.queued == 0;
    }));
    EXPECT_TRUE(dead_letters("hospital").empty());
    EXPECT_EQ(scalar("SELECT count(*) FROM outbox WHERE recipient = 'hospital' AND state = 'delivered'"), 3);

    // A discard needs a reason: a usage error, and nothing is asked of the daemon.
    const std::string delivered = bundle_id(municipality.requests().front().body);
    ASSERT_FALSE(delivered.empty());
    ASSERT_TRUE(eventually([&] {
        return scalar("SELECT count(*) FROM outbox WHERE recipient = 'municipality' AND state = 'delivered'") == 3;
    }));
    auto no_reason = cli({"deadletters", "discard", delivered});
    EXPECT_EQ(no_reason.exit_code, 2);
    EXPECT_NE(no_reason.err.find("--reason"), std::string::npos) << no_reason.err;

    // A delivered message is left as it is, and the command says why.
    auto discarded = cli({"deadletters", "discard", delivered, "--reason", "sent twice by mistake"});
    ASSERT_EQ(discarded.exit_code, 0) << discarded.err;
    EXPECT_NE(discarded.out.find(delivered + ": it is delivered"), std::string::npos) << discarded.out;
    auto still = cli({"deadletters", "show", delivered, "--json"});
    ASSERT_EQ(still.exit_code, 0) << still.err;
    EXPECT_EQ(json_string(parse_json(still.out), "state"), "delivered");

    // The audit log has the three replays, by the demo client, and no discard.
    auto audit = cli({"audit", "--json"});
    ASSERT_EQ(audit.exit_code, 0) << audit.err;
    auto log = parse_json(audit.out);
    std::set<std::string> replay_targets;
    for (std::size_t i = 0; i < json_size(log, "audit"); ++i) {
        const std::string at = "audit[" + std::to_string(i) + "]";
        EXPECT_EQ(json_string(log, at + ".client"), "demo");
        EXPECT_EQ(json_string(log, at + ".action"), "replay");
        replay_targets.insert(json_string(log, at + ".target"));
    }
    EXPECT_EQ(replay_targets, std::set<std::string>(dead.begin(), dead.end()));
    auto audit_table = cli({"audit"});
    ASSERT_EQ(audit_table.exit_code, 0) << audit_table.err;
    EXPECT_NE(audit_table.out.find("demo"), std::string::npos) << audit_table.out;
    EXPECT_NE(audit_table.out.find(dead.front()), std::string::npos) << audit_table.out;
}

TEST_F(DeliveryCli, ExitCodesTellUsageErrorsRefusalsAndAnUnreachableDaemon) {
    // Usage errors are found before the daemon is looked for.
    EXPECT_EQ(run_command({"deadletters"}).exit_code, 2);
    EXPECT_EQ(cli({"deadletters", "forget"}).exit_code, 2);
    EXPECT_EQ(cli({"deadletters", "replay"}).exit_code, 2);
    EXPECT_EQ(cli({"deadletters", "replay", "some-id", "--all"}).exit_code, 2);
    EXPECT_EQ(cli({"deadletters", "replay", "some-id", "--recipient", "hospital"}).exit_code, 2);
    EXPECT_EQ(cli({"deadletters", "list", "--status", "four"}).exit_code, 2);
    EXPECT_EQ(cli({"deadletters", "discard", "--all", "--reason", "  "}).exit_code, 2);

    // The daemon's refusals: exit 1 with its diagnostics.
    auto unknown = cli({"deadletters", "show", "no-such-message"});
    EXPECT_EQ(unknown.exit_code, 1);
    EXPECT_NE(unknown.err.find("404"), std::string::npos) << unknown.err;
    EXPECT_NE(unknown.err.find("No outgoing message has that id."), std::string::npos) << unknown.err;
    const auto bad_token = daemon->data_dir() / "not-a-client.token";
    std::ofstream(bad_token) << "not-the-token\n";
    auto refused = run_command({"queue", "--url", "http://127.0.0.1:" + std::to_string(daemon->port()), "--token-file",
                                bad_token.string()});
    std::filesystem::remove(bad_token);
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_NE(refused.err.find("401"), std::string::npos) << refused.err;

    // Nothing listens: exit 3.
    const auto port = daemon->port();
    ASSERT_EQ(daemon->terminate(), 0);
    auto gone = run_command({"queue", "--url", "http://127.0.0.1:" + std::to_string(port), "--token-file",
                             (daemon->data_dir() / "demo-client.token").string()});
    EXPECT_EQ(gone.exit_code, 3);
    EXPECT_NE(gone.err.find("cannot reach the daemon"), std::string::npos) << gone.err;
}

}  // namespace
}  // namespace helsebro::testing
