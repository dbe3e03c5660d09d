// The store's contract (adapter/store/store.hpp): group commit, per-job rollback inside a batch,
// version history, the identifier index, stored replies, durability across reopen, close().
#include <gtest/gtest.h>

#include <algorithm>

#include <sqlite3.h>

#include <atomic>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "adapter/store/store.hpp"
#include "tests/unit/adapter/adapter_test_support.hpp"

namespace helsebro {
namespace {

using store::Identifier;
using store::ResourceVersion;
using store::Tx;
using test::deadline;

ResourceVersion patient(Tx& tx, std::string id, std::int64_t version, std::string json = {}) {
    if (json.empty()) json = R"({"resourceType":"Patient","id":")" + id + R"("})";
    return ResourceVersion{"Patient", std::move(id), version, tx.now(), false, std::move(json)};
}

// Rows counted straight from the database file, for what the Store's read API cannot show
// (received messages). A separate read-only connection sees only committed data.
std::int64_t count_rows(const std::string& db_path, const char* sql) {
    sqlite3* db = nullptr;
    std::int64_t n = -1;
    if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_stmt* s = nullptr;
        if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
            n = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
    }
    sqlite3_close(db);
    return n;
}

// Holds the writer inside a first job until released, so that everything submitted meanwhile is
// queued when the writer next looks at the queue: batches become deterministic.
class WriterGate {
public:
    explicit WriterGate(store::Store& s) {
        auto started = std::make_shared<std::promise<void>>();
        auto started_f = started->get_future();
        auto released = released_.get_future().share();
        s.submit(
            [started, released](Tx&) {
                started->set_value();
                return released.wait_for(deadline) == std::future_status::ready;
            },
            [this](bool) { done_.set_value(); });
        // Only once the gate job runs has the writer taken it off the queue as a batch of its own.
        if (started_f.wait_for(deadline) != std::future_status::ready) test::abort_on_hang("the gate job");
    }
    ~WriterGate() {
        open();
        if (done_f_.wait_for(deadline) != std::future_status::ready) test::abort_on_hang("the gate job");
    }
    void open() {
        if (!opened_) released_.set_value();
        opened_ = true;
    }

private:
    std::promise<void> released_;
    std::promise<void> done_;
    std::future<void> done_f_ = done_.get_future();
    bool opened_ = false;
};

// Counts Done calls and lets the test wait, with a deadline, for all of them.
class DoneCounter {
public:
    explicit DoneCounter(int expected) : expected_(expected) {}
    store::Done done() {
        return [this](bool c) {
            if (c) ++committed_;
            if (++finished_ == expected_) all_.set_value();
        };
    }
    void wait() {
        if (all_f_.wait_for(deadline) != std::future_status::ready) test::abort_on_hang("the submitted jobs");
    }
    int committed() const { return committed_; }
    int finished() const { return finished_; }

private:
    const int expected_;
    std::atomic<int> committed_{0};
    std::atomic<int> finished_{0};
    std::promise<void> all_;
    std::future<void> all_f_ = all_.get_future();
};

// ---------------------------------------------------------------------------------------------
// Group commit

TEST(StoreGroupCommit, JobsQueuedDuringACommitShareTheNext) {
    test::ScratchStore s;
    constexpr int queued = 100;
    DoneCounter counter(queued);
    std::atomic<int> ran{0};
    // 'J' when one of the 100 jobs runs, 'D' when its Done runs. One shared batch means every job
    // runs before the single commit, and every Done after it: 100 J, then 100 D.
    std::mutex events_mutex;
    std::string events;
    auto note = [&](char c) {
        std::lock_guard lock(events_mutex);
        events += c;
    };
    auto on_done = counter.done();
    {
        WriterGate gate(*s.store);
        std::vector<std::thread> submitters;
        for (int t = 0; t < 4; ++t) {
            submitters.emplace_back([&, t] {
                for (int i = 0; i < queued / 4; ++i) {
                    std::string id = "p" + std::to_string(t) + "-" + std::to_string(i);
                    s.store->submit(
                        [&, id](Tx& tx) {
                            note('J');
                            ++ran;
                            tx.put_version(patient(tx, id, 1), test::record(tx), {});
                            return true;
                        },
                        [&](bool c) {
                            note('D');
                            on_done(c);
                        });
                }
            });
        }
        // submit() returns once the job is queued, so after the joins all 100 wait behind the gate.
        for (auto& t : submitters) t.join();
    }  // opens the gate
    counter.wait();

    EXPECT_EQ(ran.load(), queued);
    EXPECT_EQ(counter.committed(), queued);
    EXPECT_EQ(events, std::string(queued, 'J') + std::string(queued, 'D'));
    auto stats = s.store->stats();
    EXPECT_EQ(stats.jobs, 1u + queued);
    // The gate's own batch, then one batch for all 100: the writer takes the whole queue (up to
    // group_commit_max_batch = 512) when it wakes, and nothing was submitted after the gate opened.
    // So exactly 2 — no slack is needed, the gate removes the timing.
    EXPECT_EQ(stats.commits, 2u);
    EXPECT_TRUE(s.store->read("Patient", "p3-24"));
}

TEST(StoreGroupCommit, ABatchTakesAtMostMaxBatchJobs) {
    test::ScratchStore s(/*max_batch=*/10);
    constexpr int queued = 50;
    DoneCounter counter(queued);
    {
        WriterGate gate(*s.store);
        for (int i = 0; i < queued; ++i) s.store->submit([](Tx&) { return true; }, counter.done());
    }
    counter.wait();
    EXPECT_EQ(counter.committed(), queued);
    // The gate's batch, then 50 queued jobs in batches of 10.
    EXPECT_EQ(s.store->stats().commits, 1u + queued / 10);
}

// An acknowledgement never waits behind a round of processing results: a request queued after 40
// background jobs runs in the next batch, with at most a few of them.
TEST(StoreGroupCommit, ARequestGoesAheadOfQueuedBackgroundWork) {
    test::ScratchStore s;
    std::vector<std::string> order;  // written on the writer thread only
    DoneCounter counter(41);
    {
        WriterGate gate(*s.store);
        for (int i = 0; i < 40; ++i)
            s.store->submit([&order, i](Tx&) { order.push_back("b" + std::to_string(i)); return true; }, counter.done(), 0,
                            store::Store::Priority::background);
        s.store->submit([&order](Tx&) { order.push_back("request"); return true; }, counter.done());
    }
    counter.wait();
    EXPECT_EQ(counter.committed(), 41);
    ASSERT_EQ(order.size(), 41u);
    EXPECT_EQ(order.front(), "request");
    EXPECT_EQ(order[1], "b0");     // background work keeps its own order
    EXPECT_EQ(order.back(), "b39");
    // The gate's batch; the request with 8 background jobs; the other 32 together.
    EXPECT_EQ(s.store->stats().commits, 3u);
}

// However many requests wait, each batch keeps room for background work: under a flood of
// requests, processing and delivery records still move.
TEST(StoreGroupCommit, AFloodOfRequestsDoesNotStarveBackgroundWork) {
    test::ScratchStore s(/*max_batch=*/10);
    std::vector<std::string> order;
    DoneCounter counter(23);
    {
        WriterGate gate(*s.store);
        for (int i = 0; i < 20; ++i)
            s.store->submit([&order](Tx&) { order.push_back("request"); return true; }, counter.done());
        for (int i = 0; i < 3; ++i)
            s.store->submit([&order](Tx&) { order.push_back("background"); return true; }, counter.done(), 0,
                            store::Store::Priority::background);
    }
    counter.wait();
    ASSERT_EQ(order.size(), 23u);
    // The first batch after the gate: 7 requests and the 3 background jobs.
    EXPECT_EQ(std::count(order.begin(), order.begin() + 10, "background"), 3);
}

// ---------------------------------------------------------------------------------------------
// One job's failure rolls back that job only

// Three jobs in one batch; the middle one fails in the way `fail` says, after writing.
void check_middle_job_rolled_back(const std::function<bool()>& fail) {
    test::ScratchStore s;
    DoneCounter counter(3);
    {
        WriterGate gate(*s.store);
        for (std::string id : {"a", "b", "c"}) {
            s.store->submit(
                [id, &fail](Tx& tx) {
                    auto message = test::record(tx, "{\"id\":\"" + id + "\"}");
                    tx.put_version(patient(tx, id, 1), message, {{"urn:test", id}});
                    if (id == "b") return fail();
                    return true;
                },
                counter.done());
        }
    }
    counter.wait();

    // Only the batch's commit decides `committed`; a job that rolled itself back still ran.
    EXPECT_EQ(counter.committed(), 3);
    // The gate's batch plus one for a, b and c: they really shared a transaction.
    EXPECT_EQ(s.store->stats().commits, 2u);
    EXPECT_TRUE(s.store->read("Patient", "a"));
    EXPECT_FALSE(s.store->read("Patient", "b"));
    EXPECT_FALSE(s.store->read_version("Patient", "b", 1));
    EXPECT_TRUE(s.store->ids_by_identifier("Patient", "urn:test", "b").empty());
    EXPECT_TRUE(s.store->read("Patient", "c"));
    // b's received message went with it; a's and c's stay.
    EXPECT_EQ(count_rows(s.store->database_path(), "SELECT count(*) FROM message"), 2);
    EXPECT_EQ(count_rows(s.store->database_path(), "SELECT count(*) FROM message WHERE body LIKE '%\"b\"%'"), 0);
}

TEST(StoreJobs, AJobReturningFalseIsRolledBackAndItsBatchCommits) {
    check_middle_job_rolled_back([] { return false; });
}

TEST(StoreJobs, AJobThatThrowsIsRolledBackAndItsBatchCommits) {
    check_middle_job_rolled_back([]() -> bool { throw std::runtime_error("the job failed"); });
}

TEST(StoreJobs, TxNowIsOneInstantForTheWholeJob) {
    test::ScratchStore s;
    std::string first, second;
    ASSERT_TRUE(test::run_job(*s.store, [&](Tx& tx) {
        first = tx.now();
        tx.put_version(patient(tx, "x", 1), test::record(tx), {});
        second = tx.now();
        return true;
    }));
    EXPECT_EQ(first, second);
    auto v = s.store->read("Patient", "x");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->last_updated, first);
}

// ---------------------------------------------------------------------------------------------
// Versions and the identifier index

TEST(StoreVersions, ReadGivesTheCurrentVersionAndReadVersionAnyOlderOne) {
    test::ScratchStore s;
    const std::string v1 = R"({"resourceType":"Patient","id":"p","active":true})";
    const std::string v2 = R"({"resourceType":"Patient","id":"p","active":false})";
    ASSERT_TRUE(test::run_job(*s.store, [&](Tx& tx) {
        tx.put_version(patient(tx, "p", 1, v1), test::record(tx), {});
        return true;
    }));
    ASSERT_TRUE(test::run_job(*s.store, [&](Tx& tx) {
        auto current = tx.current("Patient", "p");
        EXPECT_TRUE(current && current->version == 1);
        tx.put_version(patient(tx, "p", 2, v2), test::record(tx), {});
        return true;
    }));

    auto current = s.store->read("Patient", "p");
    ASSERT_TRUE(current);
    EXPECT_EQ(current->version, 2);
    EXPECT_EQ(current->json, v2);
    EXPECT_EQ(current->type, "Patient");
    EXPECT_EQ(current->id, "p");
    EXPECT_FALSE(current->deleted);
    auto old = s.store->read_version("Patient", "p", 1);
    ASSERT_TRUE(old);
    EXPECT_EQ(old->json, v1);
    EXPECT_EQ(old->version, 1);
    EXPECT_FALSE(s.store->read_version("Patient", "p", 3));
    // Type and id both select: the same id under another type is another resource.
    EXPECT_FALSE(s.store->read("Observation", "p"));
    EXPECT_FALSE(s.store->read("Patient", "q"));
}

TEST(StoreVersions, IdentifierIndexFollowsTheCurrentVersion) {
    test::ScratchStore s;
    ASSERT_TRUE(test::run_job(*s.store, [&](Tx& tx) {
        tx.put_version(patient(tx, "p", 1), test::record(tx), {{"urn:oid:2.16.578.1.12.4.1.4.1", "12345678901"}});
        return true;
    }));
    EXPECT_EQ(s.store->ids_by_identifier("Patient", "urn:oid:2.16.578.1.12.4.1.4.1", "12345678901"),
              std::vector<std::string>{"p"});
    // The lookup is exact on type, system and value.
    EXPECT_TRUE(s.store->ids_by_identifier("Observation", "urn:oid:2.16.578.1.12.4.1.4.1", "12345678901").empty());
    EXPECT_TRUE(s.store->ids_by_identifier("Patient", "urn:other", "12345678901").empty());
    EXPECT_TRUE(s.store->ids_by_identifier("Patient", "urn:oid:2.16.578.1.12.4.1.4.1", "1234567890").empty());

    // Version 2 drops that identifier and carries another one.
    ASSERT_TRUE(test::run_job(*s.store, [&](Tx& tx) {
        tx.put_version(patient(tx, "p", 2), test::record(tx), {{"urn:test", "new"}});
        // The writer's own view agrees inside the job.
        EXPECT_TRUE(tx.ids_by_identifier("Patient", "urn:oid:2.16.578.1.12.4.1.4.1", "12345678901").empty());
        return true;
    }));
    EXPECT_TRUE(s.store->ids_by_identifier("Patient", "urn:oid:2.16.578.1.12.4.1.4.1", "12345678901").empty());
    EXPECT_EQ(s.store->ids_by_identifier("Patient", "urn:test", "new"), std::vector<std::string>{"p"});
}

TEST(StoreVersions, SeveralResourcesWithOneIdentifierAreAllFound) {
    test::ScratchStore s;
    ASSERT_TRUE(test::run_job(*s.store, [&](Tx& tx) {
        auto m = test::record(tx);
        tx.put_version(patient(tx, "b", 1), m, {{"urn:test", "same"}});
        tx.put_version(patient(tx, "a", 1), m, {{"urn:test", "same"}});
        return true;
    }));
    EXPECT_EQ(s.store->ids_by_identifier("Patient", "urn:test", "same"), (std::vector<std::string>{"a", "b"}));
}

// ---------------------------------------------------------------------------------------------
// Stored replies

// Saves `reply` for client-a under key k1 in one job, then reads it back in a later one.
std::optional<store::StoredReply> save_and_find(const store::StoredReply& reply) {
    test::ScratchStore s;
    EXPECT_TRUE(test::run_job(*s.store, [&](Tx& tx) {
        auto m = test::record(tx);
        EXPECT_FALSE(tx.find_reply("client-a", "urn:uuid:k1"));
        tx.save_reply("client-a", "urn:uuid:k1", m, reply);
        return true;
    }));
    std::optional<store::StoredReply> found;
    EXPECT_TRUE(test::run_job(*s.store, [&](Tx& tx) {
        found = tx.find_reply("client-a", "urn:uuid:k1");
        // Replies are kept per sender and key: another client's identical key is another request.
        EXPECT_FALSE(tx.find_reply("client-b", "urn:uuid:k1"));
        EXPECT_FALSE(tx.find_reply("client-a", "urn:uuid:k2"));
        return true;
    }));
    return found;
}

TEST(StoreReplies, ASavedReplyKeepsItsStatusAndBodyBytes) {
    store::StoredReply reply;
    reply.status = 201;
    // A NUL byte and a byte that is not UTF-8: the body is bytes, not a C string or text.
    reply.body = std::string("{\"resourceType\":\"Bundle\"}\0after-nul\xff", 36);
    ASSERT_EQ(reply.body.size(), 36u);
    auto found = save_and_find(reply);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->status, 201);
    EXPECT_EQ(found->body, reply.body);
    EXPECT_TRUE(found->headers.empty());
}

TEST(StoreReplies, ASavedReplyKeepsItsHeadersInOrder) {
    // Guards against binding a temporary without copying (it once lost the first header here):
    // a replayed idempotent reply must keep its Location and ETag.
    store::StoredReply reply;
    reply.status = 200;
    reply.headers = {{"Location", "http://localhost:8080/fhir/Patient/1/_history/1"},
                     {"ETag", "W/\"1\""},
                     {"X-Note", "a value: with a colon-space: twice"},  // only the first ": " separates
                     {"X-Empty", ""}};
    reply.body = "{}";
    auto found = save_and_find(reply);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->headers, reply.headers);
}

// ---------------------------------------------------------------------------------------------
// Durability and close

TEST(StoreDurability, CommittedDataSurvivesCloseAndReopen) {
    test::TempDir dir;
    store::StoreOptions o;
    o.data_dir = dir.str();
    const std::string json = R"({"resourceType":"Patient","id":"keep","active":true})";
    {
        store::Store first(o);
        ASSERT_TRUE(test::run_job(first, [&](Tx& tx) {
            auto m = test::record(tx);
            tx.put_version(patient(tx, "keep", 1, json), m, {{"urn:test", "k"}});
            tx.save_reply("c", "key", m, store::StoredReply{"hash", 200, {}, "body"});
            return true;
        }));
    }  // destroyed: closed and checkpointed
    store::Store second(o);
    auto v = second.read("Patient", "keep");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->json, json);
    EXPECT_EQ(second.ids_by_identifier("Patient", "urn:test", "k"), std::vector<std::string>{"keep"});
    std::optional<store::StoredReply> reply;
    ASSERT_TRUE(test::run_job(second, [&](Tx& tx) {
        reply = tx.find_reply("c", "key");
        return true;
    }));
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->body, "body");
    EXPECT_EQ(second.database_path(), (dir.path() / "helsebro.db").string());
}

TEST(StoreClose, CloseRunsTheJobsAlreadyQueued) {
    test::ScratchStore s;
    constexpr int queued = 50;
    DoneCounter counter(queued);
    for (int i = 0; i < queued; ++i) {
        s.store->submit(
            [i](Tx& tx) {
                tx.put_version(patient(tx, "q" + std::to_string(i), 1), test::record(tx), {});
                return true;
            },
            counter.done());
    }
    const auto path = s.store->database_path();
    s.store->close();
    // No waiting here: close() returns only after every queued job ran and got its Done.
    EXPECT_EQ(counter.finished(), queued);
    EXPECT_EQ(counter.committed(), queued);
    EXPECT_EQ(count_rows(path, "SELECT count(*) FROM resource_version"), queued);
}

TEST(StoreBackPressure, AFullQueueRefusesNewJobsUntilItDrains) {
    test::ScratchStore s(512, /*max_queued=*/3);
    DoneCounter counter(3);
    {
        WriterGate gate(*s.store);  // the writer is busy; everything else queues
        for (int i = 0; i < 3; ++i)
            EXPECT_TRUE(s.store->submit([](Tx&) { return true; }, counter.done())) << i;
        bool ran = false;
        EXPECT_FALSE(s.store->submit(
            [&](Tx&) {
                ran = true;
                return true;
            },
            [](bool) {}));
        EXPECT_FALSE(ran);
    }
    counter.wait();
    EXPECT_TRUE(s.store->submit([](Tx&) { return true; }, [](bool) {}));
}

TEST(StoreBackPressure, QueuedRequestDataIsBoundedButOneRequestAlwaysFits) {
    test::TempDir dir;
    store::StoreOptions o;
    o.data_dir = dir.str();
    o.max_queued_bytes = 1000;
    store::Store st(o);
    DoneCounter big(1);
    {
        WriterGate gate(st);
        EXPECT_TRUE(st.submit([](Tx&) { return true; }, big.done(), 5000)) << "alone, even a large one is taken";
        EXPECT_FALSE(st.submit([](Tx&) { return true; }, [](bool) {}, 10));
    }
    big.wait();
    DoneCounter next(1);
    EXPECT_TRUE(st.submit([](Tx&) { return true; }, next.done(), 900));
    next.wait();
}

TEST(StoreClose, QueuedJobsCanBeEndedUnrun) {
    test::ScratchStore s;
    std::promise<bool> done;
    auto committed = done.get_future();
    std::atomic<bool> ran{false};
    WriterGate gate(*s.store);
    s.store->submit(
        [&](Tx&) {
            ran = true;
            return true;
        },
        [&](bool c) { done.set_value(c); });
    // close() ends the queued job at once, then waits for the writer, which the gate holds.
    std::thread closer([&] { s.store->close(/*run_queued=*/false); });
    ASSERT_EQ(committed.wait_for(deadline), std::future_status::ready);
    gate.open();
    closer.join();
    EXPECT_FALSE(committed.get());
    EXPECT_FALSE(ran.load());
}

TEST(StoreClose, ReadsAfterCloseFailInsteadOfWaitingForever) {
    test::ScratchStore s;
    s.store->close();
    EXPECT_THROW(s.store->read("Patient", "x"), std::runtime_error);
}

TEST(StoreClose, ASubmitAfterCloseGetsDoneFalseAndNeverRuns) {
    test::ScratchStore s;
    s.store->close();
    s.store->close();  // idempotent
    std::atomic<bool> ran{false};
    std::promise<bool> done;
    auto committed = done.get_future();
    s.store->submit(
        [&](Tx&) {
            ran = true;
            return true;
        },
        [&](bool c) { done.set_value(c); });
    ASSERT_EQ(committed.wait_for(deadline), std::future_status::ready);
    EXPECT_FALSE(committed.get());
    EXPECT_FALSE(ran.load());
}

}  // namespace
}  // namespace helsebro
