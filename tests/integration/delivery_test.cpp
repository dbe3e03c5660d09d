// Delivery in the running daemon, to real HTTP recipients on 127.0.0.1: every acknowledged
// message arrives, in order per patient, through a recipient's outage, kill -9, refusals and
// throttling (adapter/delivery/OUTBOX.md). Waits are bounded loops; nothing asserts a timing
// except "not sooner than the recipient asked".
#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <unistd.h>
#include <random>
#include <set>

#include "tests/integration/delivery_fixture.hpp"

namespace helsebro::testing {
namespace {

using namespace std::chrono_literals;

// Each patient's sequence numbers in arrival order must never go back: a resend after a crash
// may repeat the last one, never overtake it.
::testing::AssertionResult in_order_per_patient(const std::map<int, std::vector<int>>& got) {
    for (const auto& [p, seqs] : got)
        for (std::size_t i = 1; i < seqs.size(); ++i)
            if (seqs[i] < seqs[i - 1])
                return ::testing::AssertionFailure() << "patient " << p << " got " << seqs[i] << " after " << seqs[i - 1];
    return ::testing::AssertionSuccess();
}

rapidjson::Document get_json(HttpClient& c, const std::string& target) {
    auto r = c.get(target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    return parse_json(r.body);
}

// The /admin/queue entry of one recipient.
std::string queue_field(HttpClient& c, const std::string& recipient, const std::string& field) {
    auto q = get_json(c, "/admin/queue");
    for (std::size_t i = 0; i < json_size(q, "recipients"); ++i) {
        const std::string at = "recipients[" + std::to_string(i) + "]";
        if (json_string(q, at + ".recipient") == recipient) {
            const auto* v = json_find(q, at + "." + field);
            if (!v) return "";
            if (v->IsString()) return v->GetString();
            if (v->IsInt64()) return std::to_string(v->GetInt64());
            return v->IsBool() ? (v->GetBool() ? "true" : "false") : "?";
        }
    }
    return "";
}

TEST_F(DeliveryTest, AnAcknowledgedMessageReachesBothRecipientsWithItsDeliveryId) {
    ASSERT_EQ(send_handover(1, 1), 200);
    ASSERT_TRUE(hospital.wait_for([](const auto& rs) { return !rs.empty(); }, 20s));
    ASSERT_TRUE(municipality.wait_for([](const auto& rs) { return !rs.empty(); }, 20s));
    const auto q = hospital.requests().front();
    EXPECT_EQ(q.method, "POST");
    EXPECT_EQ(q.target, "/fhir/$process-message");
    EXPECT_EQ(q.headers.at("content-type"), "application/fhir+json");
    EXPECT_EQ(handover_tag(q.body), "1-1");
    EXPECT_FALSE(bundle_id(q.body).empty());
    EXPECT_EQ(q.headers.at("idempotency-key"), bundle_id(q.body));
    EXPECT_NE(bundle_id(q.body), bundle_id(municipality.requests().front().body));
    for (int i = 0; i < 200 && scalar("SELECT count(*) FROM outbox WHERE state = 'delivered'") < 2; ++i)
        std::this_thread::sleep_for(25ms);
    EXPECT_EQ(scalar("SELECT count(*) FROM outbox WHERE state = 'delivered'"), 2);
}

// The issue's scenario: one recipient down while 1,000 messages for 50 patients arrive. The other
// recipient gets all of its messages meanwhile; once the first is back, it gets every message,
// each patient's in the order accepted.
TEST_F(DeliveryTest, ARecipientDownDelaysOnlyItsOwnMessagesAndGetsThemAllInOrderWhenBack) {
    constexpr int patients = 50, per_patient = 20, total = patients * per_patient;
    hospital.stop();
    for (int n = 1; n <= per_patient; ++n)
        for (int p = 0; p < patients; ++p) ASSERT_EQ(send_handover(p, n), 200) << p << "-" << n;

    // The municipality is not held up by the hospital being down.
    ASSERT_TRUE(municipality.wait_for([&](const auto&) { return distinct(municipality) == total; }, 120s))
        << distinct(municipality) << " of " << total;
    EXPECT_TRUE(in_order_per_patient(by_patient(municipality)));
    EXPECT_EQ(hospital.count(), 0u);

    // Down: the circuit is open (probing, not hammering) and readiness says so without failing.
    for (int i = 0; i < 200 && queue_field(*client, "hospital", "circuit") != "open"; ++i) std::this_thread::sleep_for(25ms);
    EXPECT_EQ(queue_field(*client, "hospital", "circuit"), "open");
    EXPECT_EQ(queue_field(*client, "hospital", "queued"), std::to_string(total));
    auto ready = client->get("/health/ready");
    EXPECT_EQ(ready.status, 200);
    EXPECT_NE(ready.body.find("\"warn\""), std::string::npos) << ready.body;
    EXPECT_NE(ready.body.find("\"hospital\""), std::string::npos) << ready.body;

    hospital.start();
    ASSERT_TRUE(hospital.wait_for([&](const auto&) { return distinct(hospital) == total; }, 120s))
        << distinct(hospital) << " of " << total;
    const auto got = by_patient(hospital);
    EXPECT_EQ(got.size(), static_cast<std::size_t>(patients));
    EXPECT_TRUE(in_order_per_patient(got));
    for (int i = 0; i < 400 && scalar("SELECT count(*) FROM outbox WHERE state = 'delivered'") < 2 * total; ++i)
        std::this_thread::sleep_for(25ms);
    EXPECT_EQ(scalar("SELECT count(*) FROM outbox WHERE state = 'delivered'"), 2 * total);
    EXPECT_EQ(queue_field(*client, "hospital", "circuit"), "closed");

    // Nothing the log says names a patient.
    const std::string log = daemon->log();
    for (int p = 0; p < patients; ++p)
        EXPECT_EQ(log.find(synthetic_fnr(1 + p % 28, 1 + p / 28 % 12, 50 + p / 336)), std::string::npos);
}

// kill -9 at random moments while messages flow, ten times: every acknowledged message is
// delivered to both recipients, each patient's in order; a message delivered twice (sent, then
// the daemon died before recording it) carries the same delivery id both times.
TEST_F(DeliveryTest, KillNineWhileMessagesFlowLosesNothingAndDuplicatesKeepTheirId) {
    constexpr int patients = 8, cycles = 10;
    std::mt19937 random(20261125);
    std::set<std::string> acknowledged;
    std::vector<int> next(patients, 1);
    // Slow answers keep deliveries under way when the kill comes.
    auto slowish = [](const ReceivedRequest&) {
        RecipientReply r;
        r.delay = 5ms;
        return r;
    };
    hospital.set_handler(slowish);
    municipality.set_handler(slowish);
    for (int cycle = 0; cycle < cycles; ++cycle) {
        std::atomic<bool> stop{false};
        std::mutex m;
        std::thread sender([&] {
            HttpClient c(daemon->port(), "127.0.0.1", 2000ms);
            c.set_token(daemon->token());
            for (int i = 0; !stop && i < 400; ++i) {
                const int p = i % patients;
                const int n = next[p];
                try {
                    auto r = c.post("/fhir/$process-message", handover(p, n), {{"Content-Type", "application/fhir+json"}});
                    if (r.status != 200) break;
                    std::lock_guard lock(m);
                    acknowledged.insert(std::to_string(p) + "-" + std::to_string(n));
                } catch (const std::exception&) {
                    break;  // the daemon is gone: unacknowledged, so not owed
                }
                next[p] = n + 1;  // sent (stored or not): the next one comes after it
            }
        });
        std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(50, 400)(random)));
        daemon->kill9();
        stop = true;
        sender.join();
        restart();
    }
    const std::size_t owed = acknowledged.size();
    ASSERT_GT(owed, 50u);
    auto all_there = [&](const Recipient& r) {
        std::set<std::string> got;
        for (const auto& q : r.requests()) got.insert(handover_tag(q.body));
        return std::includes(got.begin(), got.end(), acknowledged.begin(), acknowledged.end());
    };
    ASSERT_TRUE(hospital.wait_for([&](const auto&) { return all_there(hospital); }, 120s));
    ASSERT_TRUE(municipality.wait_for([&](const auto&) { return all_there(municipality); }, 120s));
    for (const Recipient* r : {&hospital, &municipality}) {
        EXPECT_TRUE(in_order_per_patient(by_patient(*r)));
        std::map<std::string, std::set<std::string>> ids;  // tag -> delivery ids seen
        for (const auto& q : r->requests()) ids[handover_tag(q.body)].insert(bundle_id(q.body));
        for (const auto& [tag, seen] : ids) EXPECT_EQ(seen.size(), 1u) << tag << " came with different ids";
    }
    std::cout << "kill -9 x" << cycles << ": " << owed << " acknowledged, hospital got " << hospital.count()
              << " requests for " << distinct(hospital) << " messages\n";
}

// A refusal (4xx) makes a dead letter that keeps the recipient's answer and does not hold up the
// patient's next message; after the cause is fixed, a replay delivers it.
TEST_F(DeliveryTest, ARefusedMessageIsADeadLetterUntilReplayedAndDoesNotBlockThePatient) {
    const std::string refusal =
        R"({"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"business-rule","diagnostics":"unknown ward"}]})";
    hospital.set_handler([&](const ReceivedRequest& q) {
        RecipientReply r;
        if (handover_tag(q.body) == "7-1") {
            r.status = 422;
            r.body = refusal;
            r.headers = {{"Content-Type", "application/fhir+json"}};
        }
        return r;
    });
    ASSERT_EQ(send_handover(7, 1), 200);
    ASSERT_EQ(send_handover(7, 2), 200);
    ASSERT_TRUE(hospital.wait_for([](const auto& rs) {
        return std::any_of(rs.begin(), rs.end(), [](const auto& q) { return handover_tag(q.body) == "7-2"; });
    }, 30s));

    rapidjson::Document dead;
    for (int i = 0; i < 200; ++i) {
        dead = get_json(*client, "/admin/deadletters?recipient=hospital");
        if (json_size(dead, "deadletters") == 1) break;
        std::this_thread::sleep_for(25ms);
    }
    ASSERT_EQ(json_size(dead, "deadletters"), 1u);
    EXPECT_EQ(json_int(dead, "deadletters[0].last_status"), 422);
    EXPECT_EQ(json_string(dead, "deadletters[0].reason"), "answered 422");
    const std::string id = json_string(dead, "deadletters[0].id");
    auto shown = get_json(*client, "/admin/deadletters/" + id);
    EXPECT_EQ(json_string(shown, "response.issue[0].diagnostics"), "unknown ward");
    EXPECT_EQ(json_string(shown, "state"), "dead");

    // Replay without a fix: dead again. Discard needs a reason.
    auto no_reason = client->post("/admin/deadletters/discard", R"({"ids":[")" + id + R"("]})");
    EXPECT_EQ(no_reason.status, 400) << no_reason.body;

    hospital.set_handler({});
    auto replay = client->post("/admin/deadletters/replay", R"({"ids":[")" + id + R"(","no-such-id"]})");
    ASSERT_EQ(replay.status, 200) << replay.body;
    auto replayed = parse_json(replay.body);
    EXPECT_EQ(json_string(replayed, "replayed[0]"), id);
    EXPECT_EQ(json_string(replayed, "unchanged[0]"), "no-such-id");
    ASSERT_TRUE(hospital.wait_for([&](const auto& rs) {
        return std::count_if(rs.begin(), rs.end(), [](const auto& q) { return handover_tag(q.body) == "7-1"; }) == 2;
    }, 30s));
    const std::string delivered = "SELECT count(*) FROM outbox WHERE state = 'delivered' AND id = '" + id + "'";
    for (int i = 0; i < 200 && scalar(delivered) == 0; ++i) std::this_thread::sleep_for(25ms);
    EXPECT_EQ(scalar(delivered), 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM outbox WHERE state = 'dead'"), 0);
    EXPECT_EQ(scalar("SELECT attempts FROM outbox WHERE id = '" + id + "'"), 1) << "a replay starts the count again";
    EXPECT_EQ(client->get("/admin/deadletters?since=25.11.2026").status, 400);

    auto audit = get_json(*client, "/admin/audit");
    ASSERT_EQ(json_size(audit, "audit"), 1u);
    EXPECT_EQ(json_string(audit, "audit[0].client"), "demo");
    EXPECT_EQ(json_string(audit, "audit[0].action"), "replay");
    EXPECT_EQ(json_string(audit, "audit[0].target"), id);
}

// 429 with Retry-After: the recipient is left alone for as long as it asked, then gets it.
TEST_F(DeliveryTest, TooManyRequestsWithRetryAfterIsHonoured) {
    std::atomic<int> calls{0};
    hospital.set_handler([&](const ReceivedRequest&) {
        RecipientReply r;
        if (calls++ == 0) {
            r.status = 429;
            r.headers = {{"Retry-After", "3"}};
        }
        return r;
    });
    ASSERT_EQ(send_handover(3, 1), 200);
    ASSERT_TRUE(hospital.wait_for([](const auto& rs) { return rs.size() >= 2; }, 30s));
    const auto rs = hospital.requests();
    EXPECT_GE(rs[1].at - rs[0].at, 2900ms);  // a lower bound the recipient set, not a speed
    EXPECT_EQ(handover_tag(rs[1].body), "3-1");
    EXPECT_EQ(bundle_id(rs[1].body), bundle_id(rs[0].body));
}

// Unreachable at first, a 503 next: retried with the same id until it is delivered.
TEST_F(DeliveryTest, ServerErrorsAndDroppedConnectionsAreRetriedWithTheSameId) {
    std::atomic<int> calls{0};
    hospital.set_handler([&](const ReceivedRequest&) {
        RecipientReply r;
        const int n = calls++;
        if (n == 0) r.action = RecipientReply::Action::close_without_answer;
        if (n == 1) r.status = 503;
        return r;
    });
    ASSERT_EQ(send_handover(4, 1), 200);
    ASSERT_TRUE(hospital.wait_for([](const auto& rs) { return rs.size() >= 3; }, 30s));
    const auto rs = hospital.requests();
    EXPECT_EQ(bundle_id(rs[0].body), bundle_id(rs[2].body));
    for (int i = 0; i < 200 && scalar("SELECT count(*) FROM outbox WHERE recipient = 'hospital' AND state = 'delivered'") < 1; ++i)
        std::this_thread::sleep_for(25ms);
    EXPECT_EQ(scalar("SELECT attempts FROM outbox WHERE recipient = 'hospital'"), 3);
}

// Long retry delays: a refused-for-now message waits up to a minute before it is tried again.
class SlowRetries : public DeliveryTest {
protected:
    std::string recipient_extra() override {
        return "    retry:\n      initial_delay_seconds: 60\n      max_delay_seconds: 120\n";
    }
};

// Discarding a message that waits for its retry lets its patient's next message go at once,
// instead of at the discarded one's retry time.
TEST_F(SlowRetries, DiscardingAWaitingMessageLetsItsPatientsNextOneGo) {
    hospital.set_handler([](const ReceivedRequest& q) {
        RecipientReply r;
        if (handover_tag(q.body) == "9-1") r.status = 503;
        return r;
    });
    ASSERT_EQ(send_handover(9, 1), 200);
    ASSERT_EQ(send_handover(9, 2), 200);
    const std::string first = "SELECT id FROM outbox WHERE recipient = 'hospital' ORDER BY rowid LIMIT 1";
    for (int i = 0; i < 400 && (scalar("SELECT count(*) FROM outbox WHERE recipient = 'hospital'") < 2 ||
                                scalar("SELECT attempts FROM outbox WHERE recipient = 'hospital' ORDER BY rowid LIMIT 1") < 1);
         ++i)
        std::this_thread::sleep_for(25ms);
    ASSERT_EQ(scalar("SELECT attempts FROM outbox WHERE recipient = 'hospital' ORDER BY rowid LIMIT 1"), 1);
    const std::string id = StoreInspector(daemon->data_dir()).rows(first).at(0).at(0);
    auto discard = client->post("/admin/deadletters/discard", R"({"ids":[")" + id + R"("],"reason":"sent by fax instead"})");
    ASSERT_EQ(discard.status, 200) << discard.body;
    EXPECT_TRUE(hospital.wait_for([](const auto& rs) {
        return std::any_of(rs.begin(), rs.end(), [](const auto& q) { return handover_tag(q.body) == "9-2"; });
    }, 10s)) << "the next message waited for the discarded one's retry";
    const auto got = hospital.requests();
    EXPECT_EQ(std::count_if(got.begin(), got.end(), [](const auto& q) { return handover_tag(q.body) == "9-1"; }), 1);
}

// A recipient that wants a bearer token gets the one in its token_file, and the token never
// reaches the daemon's log.
class TokenRecipients : public DeliveryTest {
protected:
    std::string recipient_extra() override {
        if (token_file.empty()) {
            token_file = (std::filesystem::temp_directory_path() / ("helsebro-token-" + std::to_string(::getpid()))).string();
            std::ofstream(token_file, std::ios::trunc) << "s3cret-recipient-token-0123456789\n";
            std::filesystem::permissions(token_file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                                         std::filesystem::perm_options::replace);
        }
        return DeliveryTest::recipient_extra() + "    token_file: " + token_file + "\n";
    }
    void TearDown() override { std::filesystem::remove(token_file); }
    std::string token_file;
};

TEST_F(TokenRecipients, EachRequestCarriesTheRecipientsBearerToken) {
    ASSERT_EQ(send_handover(2, 1), 200);
    ASSERT_TRUE(hospital.wait_for([](const auto& rs) { return !rs.empty(); }, 20s));
    EXPECT_EQ(hospital.requests().front().headers.at("authorization"), "Bearer s3cret-recipient-token-0123456789");
    EXPECT_EQ(daemon->log().find("s3cret"), std::string::npos);
}

// A plain FHIR server as recipient: the hospital takes a transaction of PUTs, the municipality
// each resource on its own; a transaction-response with a failed entry is a refusal.
class PlainFhirRecipients : public DeliveryTest {
protected:
    DaemonOptions options() override {
        DaemonOptions o;
        o.extra_yaml = "admin:\n  clients: [demo]\nrecipients:\n"
                       "  - id: hospital\n    endpoint: " + hospital.base_url() + "\n    style: transaction\n" + recipient_extra() +
                       "  - id: municipality\n    endpoint: " + municipality.base_url() + "\n    style: create\n" + recipient_extra();
        return o;
    }
};

TEST_F(PlainFhirRecipients, TransactionAndCreateStylesPutTheResourcesAndReadTheEntries) {
    hospital.set_handler([](const ReceivedRequest& q) {
        RecipientReply r;
        r.headers = {{"Content-Type", "application/fhir+json"}};
        const bool refuse = handover_tag(q.body) == "5-2";
        r.body = std::string(R"({"resourceType":"Bundle","type":"transaction-response","entry":[{"response":{"status":"200 OK"}},)") +
                 R"({"response":{"status":")" + (refuse ? "422 Unprocessable Entity" : "201 Created") + R"("}}]})";
        return r;
    });
    ASSERT_EQ(send_handover(5, 1), 200);
    ASSERT_EQ(send_handover(5, 2), 200);
    ASSERT_TRUE(hospital.wait_for([](const auto& rs) { return rs.size() >= 2; }, 30s));
    const auto first = hospital.requests().front();
    EXPECT_EQ(first.target, "/fhir");
    auto tx = parse_json(first.body);
    EXPECT_EQ(json_string(tx, "type"), "transaction");
    EXPECT_EQ(json_string(tx, "id"), first.headers.at("idempotency-key"));
    ASSERT_EQ(json_size(tx, "entry"), 2u);  // Basic and Patient; the MessageHeader stays behind
    EXPECT_EQ(json_string(tx, "entry[0].request.method"), "PUT");
    EXPECT_EQ(json_string(tx, "entry[0].request.url").rfind("Basic/", 0), 0u);

    ASSERT_TRUE(municipality.wait_for([](const auto& rs) { return rs.size() >= 4; }, 30s));
    std::set<std::string> types;
    for (const auto& q : municipality.requests()) {
        EXPECT_EQ(q.method, "PUT");
        types.insert(q.target.substr(0, q.target.rfind('/')));
    }
    EXPECT_EQ(types, (std::set<std::string>{"/fhir/Basic", "/fhir/Patient"}));

    for (int i = 0; i < 200 && scalar("SELECT count(*) FROM outbox WHERE state <> 'queued'") < 4; ++i)
        std::this_thread::sleep_for(25ms);
    EXPECT_EQ(scalar("SELECT count(*) FROM outbox WHERE recipient = 'hospital' AND state = 'dead'"), 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM outbox WHERE recipient = 'hospital' AND state = 'delivered'"), 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM outbox WHERE recipient = 'municipality' AND state = 'delivered'"), 2);
    auto dead = get_json(*client, "/admin/deadletters?recipient=hospital");
    EXPECT_EQ(json_string(dead, "deadletters[0].reason"), "entry 1 of the transaction-response answered 422");
}

}  // namespace
}  // namespace helsebro::testing
