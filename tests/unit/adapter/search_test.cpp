// Search in the store (adapter/store/search.hpp): indexing in put_version, queries, stable paging,
// history, the upgrade of a database made before search; and the query parsing of the REST layer.
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <algorithm>
#include <future>
#include <string>
#include <vector>

#include "adapter/ingress/search.hpp"
#include "adapter/store/store.hpp"
#include "fhir/json.hpp"
#include "tests/unit/adapter/adapter_test_support.hpp"

namespace helsebro {
namespace {

using store::ResourceVersion;
using store::SearchQuery;
using store::Tx;

constexpr const char* fnr_system = "urn:oid:2.16.578.1.12.4.1.4.1";

std::string care_plan(const std::string& id, const std::string& status, const std::string& subject) {
    return R"({"resourceType":"CarePlan","id":")" + id + R"(","status":")" + status +
           R"(","intent":"plan","subject":)" + subject + "}";
}

std::string by_reference(const std::string& patient) { return R"({"reference":"Patient/)" + patient + R"("})"; }
std::string by_fnr(const std::string& fnr) {
    return R"({"identifier":{"system":"urn:oid:2.16.578.1.12.4.1.4.1","value":")" + fnr + R"("}})";
}

// Stores a version the way a caller without a prepared index does: the writer indexes it.
void put(store::Store& s, const std::string& type, const std::string& id, std::int64_t version, const std::string& json,
         bool deleted = false) {
    ASSERT_TRUE(test::run_job(s, [&](Tx& tx) {
        tx.put_version(ResourceVersion{type, id, version, tx.now(), deleted, json}, test::record(tx), {});
        return true;
    }));
}

std::vector<std::string> ids(const std::vector<ResourceVersion>& versions) {
    std::vector<std::string> out;
    for (const auto& v : versions) out.push_back(v.id);
    return out;
}

std::vector<std::string> ids(const store::SearchPage& page) { return ids(page.resources); }

SearchQuery query(std::string type, std::vector<store::Clause> clauses, std::size_t count = 20) {
    SearchQuery q;
    q.type = std::move(type);
    q.clauses = std::move(clauses);
    q.count = count;
    return q;
}

TEST(StoreSearch, FindsCurrentVersionsByTokenAndReference) {
    test::ScratchStore s;
    put(*s.store, "CarePlan", "a", 1, care_plan("a", "active", by_reference("p1")));
    put(*s.store, "CarePlan", "b", 1, care_plan("b", "completed", by_reference("p1")));
    put(*s.store, "CarePlan", "c", 1, care_plan("c", "active", by_reference("p2")));
    EXPECT_EQ(ids(s.store->search(query("CarePlan", {store::token("status", "", "active")}))),
              (std::vector<std::string>{"a", "c"}));
    EXPECT_EQ(ids(s.store->search(query("CarePlan", {store::reference("patient", "Patient", "p1")}))),
              (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(ids(s.store->search(query("CarePlan", {store::reference("patient", "Patient", "p1"),
                                                     store::token("status", "", "active")}))),
              (std::vector<std::string>{"a"}));
    EXPECT_EQ(ids(s.store->search(query("CarePlan", {}))).size(), 3u);
    EXPECT_TRUE(ids(s.store->search(query("Goal", {}))).empty());
}

TEST(StoreSearch, FindsWhatNamesThePatientByNationalIdentifier) {
    test::ScratchStore s;
    put(*s.store, "CarePlan", "a", 1, care_plan("a", "active", by_fnr("13116900216")));
    put(*s.store, "CarePlan", "b", 1, care_plan("b", "active", by_fnr("01018012345")));
    put(*s.store, "Flag", "f", 1,
        R"({"resourceType":"Flag","status":"active","code":{"text":"x"},"subject":)" + by_fnr("13116900216") + "}");
    auto q = query("CarePlan", {store::reference_identifier("patient", fnr_system, "13116900216")});
    EXPECT_EQ(ids(s.store->search_all(q)), (std::vector<std::string>{"a"}));
    q.type = "Flag";
    EXPECT_EQ(ids(s.store->search_all(q)), (std::vector<std::string>{"f"}));
}

TEST(StoreSearch, OnlyTheCurrentVersionIsFound) {
    test::ScratchStore s;
    put(*s.store, "CarePlan", "a", 1, care_plan("a", "active", by_reference("p1")));
    put(*s.store, "CarePlan", "a", 2, care_plan("a", "completed", by_reference("p1")));
    EXPECT_TRUE(ids(s.store->search(query("CarePlan", {store::token("status", "", "active")}))).empty());
    auto found = s.store->search(query("CarePlan", {store::token("status", "", "completed")}));
    ASSERT_EQ(found.resources.size(), 1u);
    EXPECT_EQ(found.resources[0].version, 2);
    put(*s.store, "CarePlan", "a", 3, "{}", /*deleted=*/true);
    EXPECT_TRUE(ids(s.store->search(query("CarePlan", {}))).empty()) << "a deleted resource is not found";
}

TEST(StoreSearch, PagesNeitherSkipNorRepeatWhileOthersWrite) {
    test::ScratchStore s;
    for (int i = 0; i < 25; ++i) put(*s.store, "Goal", "g" + std::to_string(100 + i), 1, R"({"resourceType":"Goal"})");
    SearchQuery q = query("Goal", {}, 10);
    std::vector<std::string> seen;
    for (int pages = 0; pages < 10; ++pages) {
        auto page = s.store->search(q);
        for (auto& id : ids(page)) seen.push_back(id);
        // Between pages: a new resource, and an update of one already seen.
        put(*s.store, "Goal", "new" + std::to_string(pages), 1, R"({"resourceType":"Goal"})");
        put(*s.store, "Goal", "g100", pages + 2, R"({"resourceType":"Goal","id":"g100"})");
        if (!page.next_after) break;
        q.after = *page.next_after;
        q.snapshot = page.snapshot;
    }
    ASSERT_EQ(seen.size(), 25u);
    for (int i = 0; i < 25; ++i) EXPECT_EQ(seen[static_cast<std::size_t>(i)], "g" + std::to_string(100 + i));
}

TEST(StoreSearch, AJobSeesItsOwnWrites) {
    test::ScratchStore s;
    std::vector<std::string> found;
    ASSERT_TRUE(test::run_job(*s.store, [&](Tx& tx) {
        tx.put_version(ResourceVersion{"CarePlan", "x", 1, tx.now(), false, care_plan("x", "active", by_fnr("13116900216"))},
                       test::record(tx), {});
        found = ids(tx.search(query("CarePlan", {store::reference_identifier("patient", fnr_system, "13116900216")})));
        return true;
    }));
    EXPECT_EQ(found, (std::vector<std::string>{"x"}));
}

// Jobs submitted while the writer is held, so that they share one batch (one commit).
class OneBatch {
public:
    explicit OneBatch(store::Store& store) : store_(store) {
        std::promise<void> started;
        store_.submit([this, &started](Tx&) {
            started.set_value();
            return gate_.wait_for(test::deadline) == std::future_status::ready;
        }, [](bool) {});
        started.get_future().wait();
    }
    void submit(store::Job job) {
        auto p = std::make_shared<std::promise<void>>();
        done_.push_back(p->get_future());
        store_.submit(std::move(job), [p](bool) { p->set_value(); });
    }
    // Lets the batch run and waits for every job in it.
    void run() {
        release_.set_value();
        for (auto& f : done_) ASSERT_EQ(f.wait_for(test::deadline), std::future_status::ready);
    }

private:
    store::Store& store_;
    std::promise<void> release_;
    std::shared_future<void> gate_ = release_.get_future().share();
    std::vector<std::future<void>> done_;
};

// Index rows wait for the end of the batch; a job that rolls back must take exactly its own along.
TEST(StoreSearch, AJobRolledBackInABatchLeavesTheOthersIndexed) {
    test::ScratchStore s;
    OneBatch batch(*s.store);
    auto put_in = [](Tx& tx, const std::string& id, std::int64_t version, const std::string& status) {
        tx.put_version(ResourceVersion{"CarePlan", id, version, tx.now(), false, care_plan(id, status, by_reference("p"))},
                       test::record(tx), {});
    };
    auto submit = [&](store::Job job) { batch.submit(std::move(job)); };
    std::size_t seen_in_job = 0;
    submit([&](Tx& tx) { put_in(tx, "x", 1, "active"); return true; });
    submit([&](Tx& tx) {
        put_in(tx, "x", 2, "revoked");
        seen_in_job = tx.search(query("CarePlan", {store::token("status", "", "revoked")})).resources.size();
        return false;
    });
    submit([&](Tx& tx) { put_in(tx, "y", 1, "active"); return true; });
    batch.run();
    EXPECT_EQ(seen_in_job, 1u) << "a job sees its own rows";
    EXPECT_EQ(ids(s.store->search(query("CarePlan", {store::token("status", "", "active")}))),
              (std::vector<std::string>{"x", "y"}));
    EXPECT_TRUE(ids(s.store->search(query("CarePlan", {store::token("status", "", "revoked")}))).empty());
}

// Versions of one resource in one batch, one of them rolled back: only what changed between the
// versions is rewritten, and the rows of the version that rolled back go with it.
TEST(StoreSearch, VersionsInOneBatchLeaveExactlyTheLastOnesRows) {
    test::ScratchStore s;
    OneBatch batch(*s.store);
    auto put_in = [](Tx& tx, std::int64_t version, const std::string& status, const std::string& patient) {
        tx.put_version(ResourceVersion{"CarePlan", "x", version, tx.now(), false, care_plan("x", status, by_reference(patient))},
                       test::record(tx), {});
    };
    auto submit = [&](store::Job job) { batch.submit(std::move(job)); };
    submit([&](Tx& tx) { put_in(tx, 1, "active", "p1"); return true; });
    submit([&](Tx& tx) { put_in(tx, 2, "revoked", "p2"); return false; });
    submit([&](Tx& tx) { put_in(tx, 2, "completed", "p1"); return true; });
    submit([&](Tx& tx) { put_in(tx, 3, "completed", "p3"); return true; });
    batch.run();
    auto found = [&](std::vector<store::Clause> clauses) { return ids(s.store->search(query("CarePlan", std::move(clauses)))); };
    const std::vector<std::string> x{"x"};
    EXPECT_EQ(found({store::token("status", "", "completed")}), x);
    EXPECT_TRUE(found({store::token("status", "", "active")}).empty());
    EXPECT_TRUE(found({store::token("status", "", "revoked")}).empty());
    EXPECT_EQ(found({store::reference("patient", "Patient", "p3")}), x);
    EXPECT_TRUE(found({store::reference("patient", "Patient", "p1")}).empty());
    EXPECT_TRUE(found({store::reference("patient", "Patient", "p2")}).empty());
    put(*s.store, "CarePlan", "x", 4, care_plan("x", "completed", by_reference("p3")));  // unchanged rows stay
    EXPECT_EQ(found({store::reference("patient", "Patient", "p3")}), x);
    EXPECT_EQ(found({store::token("status", "", "completed")}), x);
}

TEST(StoreSearch, APreparedIndexIsWhatGetsWritten) {
    test::ScratchStore s;
    auto tree = fhir::json::parse(care_plan("y", "active", by_reference("p1")));
    auto index = store::make_search_index(*tree.value, "CarePlan");
    index.rows.push_back({"status", std::string("prepared-elsewhere"), ""});
    ASSERT_TRUE(test::run_job(*s.store, [&](Tx& tx) {
        tx.put_version(ResourceVersion{"CarePlan", "y", 1, tx.now(), false, care_plan("y", "active", by_reference("p1"))},
                       test::record(tx), {}, &index);
        return true;
    }));
    EXPECT_EQ(ids(s.store->search(query("CarePlan", {store::token("status", "", "prepared-elsewhere")}))),
              (std::vector<std::string>{"y"}));
}

TEST(StoreSearch, DatesAndLastUpdatedCompareAsRanges) {
    test::ScratchStore s;
    put(*s.store, "CarePlan", "may", 1,
        R"({"resourceType":"CarePlan","status":"active","intent":"plan","period":{"start":"2024-05-01","end":"2024-05-31"}})");
    using store::Test;
    auto clause = [](std::vector<Test> tests, std::string param = "date") {
        return store::Clause{std::move(param), {store::Alternative{std::move(tests), false}}, std::nullopt};
    };
    auto found = [&](store::Clause c) { return ids(s.store->search(query("CarePlan", {std::move(c)}))).size(); };
    // le 2024-05-10: the period starts before the end of that day.
    EXPECT_EQ(found(clause({{Test::On::a, Test::Op::le, std::string("2024-05-10T23:59:59.999Z")}})), 1u);
    EXPECT_EQ(found(clause({{Test::On::a, Test::Op::le, std::string("2024-04-30T23:59:59.999Z")}})), 0u);
    EXPECT_EQ(found(clause({{Test::On::b, Test::Op::gt, std::string("2024-05-31T23:59:59.999Z")}})), 0u);
    auto now = store::now_instant();
    EXPECT_EQ(found(clause({{Test::On::a, Test::Op::le, now}}, "_lastUpdated")), 1u);
    EXPECT_EQ(found(clause({{Test::On::a, Test::Op::gt, now}}, "_lastUpdated")), 0u);
    EXPECT_EQ(found(clause({{Test::On::a, Test::Op::eq, std::string("may")}}, "_id")), 1u);
}

TEST(StoreSearch, HistoryIsNewestFirstAndPages) {
    test::ScratchStore s;
    for (int v = 1; v <= 4; ++v) put(*s.store, "Task", "t", v, R"({"resourceType":"Task","id":"t","status":"ready"})");
    auto first = s.store->history("Task", "t", 0, 3);
    ASSERT_EQ(first.size(), 3u);
    EXPECT_EQ(first[0].version, 4);
    EXPECT_EQ(first[2].version, 2);
    auto rest = s.store->history("Task", "t", first.back().version, 3);
    ASSERT_EQ(rest.size(), 1u);
    EXPECT_EQ(rest[0].version, 1);
    EXPECT_TRUE(s.store->history("Task", "nope", 0, 3).empty());
}

// The schema of version 2, before search: a database of that version is upgraded in place and what
// it holds becomes searchable.
constexpr const char* schema_v2 = R"SQL(
CREATE TABLE message (id INTEGER PRIMARY KEY, received_at TEXT NOT NULL, sender TEXT NOT NULL, method TEXT NOT NULL,
    target TEXT NOT NULL, content_type TEXT NOT NULL, kind TEXT NOT NULL, body BLOB NOT NULL);
CREATE TABLE resource_version (type TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
    last_updated TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, body BLOB NOT NULL,
    message_id INTEGER NOT NULL REFERENCES message(id), PRIMARY KEY (type, id, version));
CREATE TABLE resource_identifier (type TEXT NOT NULL, system TEXT NOT NULL, value TEXT NOT NULL, id TEXT NOT NULL,
    PRIMARY KEY (type, system, value, id)) WITHOUT ROWID;
CREATE INDEX resource_identifier_by_id ON resource_identifier (type, id);
CREATE TABLE reply (sender TEXT NOT NULL, key TEXT NOT NULL, message_id INTEGER NOT NULL REFERENCES message(id),
    request_sha256 BLOB NOT NULL, status INTEGER NOT NULL, headers TEXT NOT NULL, body BLOB NOT NULL,
    PRIMARY KEY (sender, key));
INSERT INTO message VALUES (1, '2026-01-01T00:00:00.000Z', 'c', 'PUT', '/fhir/CarePlan/old', 'application/fhir+json', 'update', '{}');
INSERT INTO resource_version VALUES ('CarePlan', 'old', 1, '2026-01-01T00:00:00.000Z', 0,
    '{"resourceType":"CarePlan","id":"old","status":"draft","intent":"plan"}', 1);
INSERT INTO resource_version VALUES ('CarePlan', 'old', 2, '2026-01-02T00:00:00.000Z', 0,
    '{"resourceType":"CarePlan","id":"old","status":"active","intent":"plan","subject":{"reference":"Patient/p"}}', 1);
PRAGMA user_version = 2;
)SQL";

void make_database(const std::string& dir, const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir + "/helsebro.db").c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
}

TEST(StoreSearch, ADatabaseFromBeforeSearchIsIndexedWhenOpened) {
    test::TempDir dir;
    make_database(dir.str(), schema_v2);
    store::StoreOptions o;
    o.data_dir = dir.str();
    store::Store s(o);
    auto found = s.search(query("CarePlan", {store::reference("patient", "Patient", "p")}));
    ASSERT_EQ(found.resources.size(), 1u);
    EXPECT_EQ(found.resources[0].version, 2);
    EXPECT_TRUE(ids(s.search(query("CarePlan", {store::token("status", "", "draft")}))).empty());
    put(s, "CarePlan", "new", 1, care_plan("new", "active", by_reference("p")));
    EXPECT_EQ(ids(s.search(query("CarePlan", {store::reference("patient", "Patient", "p")}))),
              (std::vector<std::string>{"old", "new"}));
}

// A version 3 outbox (before delivery) becomes the version 4 one: its rows queued, in their order,
// nothing else changed; new rows queue behind them.
TEST(StoreSchema, AVersion3OutboxIsQueuedInItsOrderWhenOpened) {
    test::TempDir dir;
    make_database(dir.str(), R"SQL(
CREATE TABLE message (id INTEGER PRIMARY KEY, received_at TEXT NOT NULL, sender TEXT NOT NULL, method TEXT NOT NULL,
    target TEXT NOT NULL, content_type TEXT NOT NULL, kind TEXT NOT NULL, body BLOB NOT NULL);
CREATE TABLE outbox (id TEXT PRIMARY KEY, message_id INTEGER NOT NULL REFERENCES message(id),
    recipient TEXT NOT NULL, created_at TEXT NOT NULL, body BLOB NOT NULL);
INSERT INTO message VALUES (1, '2026-01-01T00:00:00.000Z', 'c', 'POST', '/fhir', 'application/fhir+json', 'message', '{}');
INSERT INTO outbox VALUES ('b', 1, 'hospital', '2026-01-01T00:00:01.000Z', '{"resourceType":"Bundle","id":"b"}');
INSERT INTO outbox VALUES ('a', 1, 'hospital', '2026-01-01T00:00:02.000Z', '{"resourceType":"Bundle","id":"a"}');
PRAGMA user_version = 3;
)SQL");
    store::StoreOptions o;
    o.data_dir = dir.str();
    store::Store s(o);
    auto queued = s.queued("hospital", 0, 10);
    ASSERT_EQ(queued.size(), 2u);
    EXPECT_EQ(queued[0].id, "b");  // the order they were queued in, not the ids'
    EXPECT_EQ(queued[1].id, "a");
    EXPECT_EQ(queued[0].lane, "");
    EXPECT_EQ(queued[0].created_at, "2026-01-01T00:00:01.000Z");
    EXPECT_EQ(s.outgoing_body("a").value_or(""), R"({"resourceType":"Bundle","id":"a"})");
    ASSERT_TRUE(test::run_job(s, [&](Tx& tx) {
        tx.queue_outgoing("c", 1, "hospital", "lane", "{}");
        return true;
    }));
    queued = s.queued("hospital", 0, 10);
    ASSERT_EQ(queued.size(), 3u);
    EXPECT_EQ(queued[2].id, "c");
}

// Before version 4 a version's search rows were kept encoded in search_resource.rows; a database
// from then removes the right rows when its resources get new versions.
TEST(StoreSearch, RowsKeptByAnEarlierVersionAreRemovedByTheNextVersion) {
    test::TempDir dir;
    // status=active, encoded as earlier builds did: length-prefixed param, 't', a, b.
    make_database(dir.str(), R"SQL(
CREATE TABLE message (id INTEGER PRIMARY KEY, received_at TEXT NOT NULL, sender TEXT NOT NULL, method TEXT NOT NULL,
    target TEXT NOT NULL, content_type TEXT NOT NULL, kind TEXT NOT NULL, body BLOB NOT NULL);
CREATE TABLE resource_version (type TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL, last_updated TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0, body BLOB NOT NULL, message_id INTEGER NOT NULL REFERENCES message(id),
    PRIMARY KEY (type, id, version));
CREATE TABLE search_resource (type TEXT NOT NULL, key INTEGER NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
    last_updated TEXT NOT NULL, deleted INTEGER NOT NULL, rows BLOB NOT NULL, PRIMARY KEY (type, key)) WITHOUT ROWID;
CREATE TABLE search_index (type TEXT NOT NULL, param TEXT NOT NULL, a NOT NULL, b TEXT NOT NULL, key INTEGER NOT NULL,
    PRIMARY KEY (type, param, a, b, key)) WITHOUT ROWID;
INSERT INTO message VALUES (1, '2026-01-01T00:00:00.000Z', 'c', 'PUT', '/fhir/CarePlan/old', 'application/fhir+json', 'update', '{}');
INSERT INTO resource_version (rowid, type, id, version, last_updated, deleted, body, message_id) VALUES (1, 'CarePlan', 'old', 1,
    '2026-01-01T00:00:00.000Z', 0, '{"resourceType":"CarePlan","id":"old","status":"draft","intent":"plan"}', 1);
INSERT INTO search_resource VALUES ('CarePlan', 1, 'old', 1, '2026-01-01T00:00:00.000Z', 0,
    X'06000000737461747573' || X'74' || X'06000000616374697665' || X'00000000');
INSERT INTO search_index VALUES ('CarePlan', 'status', 'active', '', 1);
PRAGMA user_version = 3;
)SQL");
    store::StoreOptions o;
    o.data_dir = dir.str();
    store::Store s(o);
    // The body says draft, the kept rows say active: the rows decide what is removed.
    EXPECT_EQ(ids(s.search(query("CarePlan", {store::token("status", "", "active")}))), (std::vector<std::string>{"old"}));
    put(s, "CarePlan", "old", 2, care_plan("old", "completed", by_reference("p")));
    EXPECT_TRUE(ids(s.search(query("CarePlan", {store::token("status", "", "active")}))).empty());
    EXPECT_EQ(ids(s.search(query("CarePlan", {store::token("status", "", "completed")}))), (std::vector<std::string>{"old"}));
    put(s, "CarePlan", "old", 3, care_plan("old", "revoked", by_reference("p")));  // from the body from now on
    EXPECT_TRUE(ids(s.search(query("CarePlan", {store::token("status", "", "completed")}))).empty());
    EXPECT_EQ(ids(s.search(query("CarePlan", {store::reference("patient", "Patient", "p")}))), (std::vector<std::string>{"old"}));
}

TEST(StoreSearch, ADatabaseOfAFutureVersionIsRefused) {
    test::TempDir dir;
    make_database(dir.str(), "CREATE TABLE message (id INTEGER PRIMARY KEY); PRAGMA user_version = 99;");
    store::StoreOptions o;
    o.data_dir = dir.str();
    try {
        store::Store s(o);
        FAIL() << "opened a database of schema version 99";
    } catch (const std::exception& e) {
        EXPECT_NE(std::string(e.what()).find("schema version 99"), std::string::npos) << e.what();
    }
}

// --- The REST layer's reading of a query -------------------------------------------------------

ingress::ParsedSearch parse(std::string type, ingress::Query q, bool lenient = false) {
    return ingress::parse_search(type, q, lenient, {}, "http://h/fhir");
}

TEST(SearchQuery, UnknownParametersAreRefusedByName) {
    auto p = parse("CarePlan", {{"status", "active"}, {"colour", "blue"}});
    EXPECT_NE(p.error.find("'colour'"), std::string::npos) << p.error;
    auto lenient = parse("CarePlan", {{"status", "active"}, {"colour", "blue"}}, true);
    EXPECT_TRUE(lenient.error.empty());
    EXPECT_EQ(lenient.ignored, (std::vector<std::string>{"colour"}));
    EXPECT_EQ(lenient.query.clauses.size(), 1u);
    EXPECT_NE(parse("Observation", {{"code-value-quantity", "x"}}).error.find("not supported"), std::string::npos);
    EXPECT_NE(parse("CarePlan", {{"subject.name", "x"}}).error.find("subject.name"), std::string::npos);
}

TEST(SearchQuery, ValuesAndModifiersBecomeClauses) {
    auto p = parse("CarePlan", {{"patient:identifier", std::string(fnr_system) + "|13116900216"},
                                {"category", "http://snomed.info/sct|734163000,local"},
                                {"date", "ge2024-01-01"},
                                {"_lastUpdated", "lt2030"}});
    ASSERT_TRUE(p.error.empty()) << p.error;
    ASSERT_EQ(p.query.clauses.size(), 4u);
    EXPECT_EQ(p.query.clauses[0].param, "patient:identifier");
    EXPECT_EQ(p.query.clauses[1].any.size(), 2u) << "a comma is OR";
    EXPECT_EQ(std::get<std::string>(p.query.clauses[2].any[0].tests[0].value), "2024-01-01T00:00:00.000Z");
    EXPECT_NE(parse("CarePlan", {{"date", "ge2024-13-01"}}).error.find("'date'"), std::string::npos);
    EXPECT_NE(parse("CarePlan", {{"status:below", "x"}}).error.find("modifier"), std::string::npos);
}

TEST(SearchQuery, CountIsClampedAndCursorsChecked) {
    EXPECT_EQ(parse("Goal", {}).query.count, 20u);
    EXPECT_EQ(parse("Goal", {{"_count", "5000"}}).query.count, 1000u);
    EXPECT_FALSE(parse("Goal", {{"_count", "ten"}}).error.empty());
    auto c = parse("Goal", {{"_cursor", "1f-2a"}});
    EXPECT_EQ(c.query.after, 0x1f);
    EXPECT_EQ(c.query.snapshot, 0x2a);
    EXPECT_FALSE(parse("Goal", {{"_cursor", "10"}}).error.empty());
}

}  // namespace
}  // namespace helsebro
