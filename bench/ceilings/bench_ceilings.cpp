// Ceilings under Helsebro's intake, on this machine: how fast RapidJSON alone parses the discharge
// transaction, and how many durable SQLite commits the disk allows, one row or 64 rows per commit,
// with the latency of one durable commit (p50/p99/p99.9): no acknowledgement can come sooner.
// No FHIR, no HTTP: what a transaction cannot beat, whatever Helsebro does around it.
// Usage: bench_ceilings TEMPLATE RUN_DIR [SECONDS]   (SECONDS per figure, default 3)
//   TEMPLATE  bench/data/discharge-transaction.json
//   RUN_DIR   a directory on the project's disk (not tmpfs): a fresh database is made there
// Prints `name value` lines; details (sizes, checkpoint time) go to stderr.
#include <rapidjson/document.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
    for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
}

struct ParseRate {
    double per_s;
    double mb_per_s;
};

ParseRate rapidjson_parse(const std::string& body, double budget_s) {
    std::size_t count = 0, members = 0;
    const auto t0 = Clock::now();
    double elapsed = 0;
    while (elapsed < budget_s) {
        for (int i = 0; i < 64; ++i) {
            // A fresh Document each time, as each request gets: a reused one keeps its pool growing.
            rapidjson::Document d;
            d.Parse<rapidjson::kParseDefaultFlags>(body.data(), body.size());
            if (d.HasParseError() || !d.IsObject()) throw std::runtime_error("RapidJSON refused the body");
            members += d.MemberCount();  // keeps the parse from being optimised away
        }
        count += 64;
        elapsed = seconds_since(t0);
    }
    if (members != count * 4) std::fprintf(stderr, "unexpected member count %zu\n", members);
    return {count / elapsed, count * body.size() / elapsed / 1e6};
}

class Db {
public:
    explicit Db(const std::string& path) {
        if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK)
            throw std::runtime_error("cannot open " + path);
    }
    ~Db() {
        for (auto* s : statements_) sqlite3_finalize(s);
        sqlite3_close(db_);
    }
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;

    sqlite3* handle() const { return db_; }

    void exec(const char* sql) {
        char* error = nullptr;
        if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
            std::string message = error ? error : "?";
            sqlite3_free(error);
            throw std::runtime_error(std::string(sql) + ": " + message);
        }
    }
    std::string text(const char* sql) {
        sqlite3_stmt* s = prepare(sql);
        std::string out = sqlite3_step(s) == SQLITE_ROW ? reinterpret_cast<const char*>(sqlite3_column_text(s, 0)) : "";
        sqlite3_reset(s);
        return out;
    }
    sqlite3_stmt* prepare(const char* sql) {
        sqlite3_stmt* s = nullptr;
        if (sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK)
            throw std::runtime_error(std::string(sql) + ": " + sqlite3_errmsg(db_));
        statements_.push_back(s);
        return s;
    }
    void run(sqlite3_stmt* s) {
        if (sqlite3_step(s) != SQLITE_DONE) throw std::runtime_error(sqlite3_errmsg(db_));
        sqlite3_reset(s);
    }

private:
    sqlite3* db_ = nullptr;
    std::vector<sqlite3_stmt*> statements_;
};

// Helsebro's store leaves checkpoints to another thread once the WAL holds 4096 pages (16 MiB),
// never inside a commit; here they are run at the same threshold with the clock stopped, so the
// figure stays an upper bound for the commit path and the WAL is reused in place, as there.
constexpr int checkpoint_pages = 4096;

int on_wal_commit(void* wal_pages, sqlite3*, const char*, int pages) {
    *static_cast<int*>(wal_pages) = pages;
    return SQLITE_OK;
}

struct CommitRate {
    double commits_per_s;
    double rows_per_s;
    double p50_ms, p99_ms, p999_ms;  // one commit, BEGIN to COMMIT returning: a floor under any durable answer
};

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    auto at = v.begin() + static_cast<std::ptrdiff_t>(p * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), at, v.end());
    return *at;
}

CommitRate sqlite_commits(const std::filesystem::path& dir, const std::string& name, const std::string& blob,
                          int rows_per_commit, double budget_s) {
    const auto path = dir / (name + ".db");
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
    Db db(path.string());
    // The pragmas Helsebro's store opens its database with, durability first.
    if (db.text("PRAGMA journal_mode=WAL") != "wal") throw std::runtime_error("no WAL");
    db.exec("PRAGMA synchronous=FULL");
    if (db.text("PRAGMA synchronous") != "2") throw std::runtime_error("synchronous=FULL refused");
    db.exec("PRAGMA wal_autocheckpoint=0");
    db.exec("PRAGMA cache_size=-65536");
    db.exec("PRAGMA journal_size_limit=67108864");
    db.exec("CREATE TABLE row (id INTEGER PRIMARY KEY, body BLOB NOT NULL)");
    int wal_pages = 0;
    sqlite3_wal_hook(db.handle(), on_wal_commit, &wal_pages);

    auto* begin = db.prepare("BEGIN IMMEDIATE");
    auto* insert = db.prepare("INSERT INTO row (body) VALUES (?1)");
    auto* commit = db.prepare("COMMIT");
    std::size_t commits = 0;
    double timed = 0, checkpointing = 0;
    std::vector<double> latencies_ms;
    while (timed < budget_s) {
        const auto t0 = Clock::now();
        db.run(begin);
        for (int i = 0; i < rows_per_commit; ++i) {
            sqlite3_bind_blob(insert, 1, blob.data(), static_cast<int>(blob.size()), SQLITE_STATIC);
            db.run(insert);
        }
        db.run(commit);
        const double took = seconds_since(t0);
        timed += took;
        latencies_ms.push_back(1000 * took);
        ++commits;
        if (wal_pages >= checkpoint_pages) {
            const auto c0 = Clock::now();
            if (sqlite3_wal_checkpoint_v2(db.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr) != SQLITE_OK)
                throw std::runtime_error(std::string("checkpoint: ") + sqlite3_errmsg(db.handle()));
            checkpointing += seconds_since(c0);
            wal_pages = 0;
        }
    }
    std::fprintf(stderr, "sqlite %s: %zu commits of %d x %zu-byte rows in %.2f s (+ %.2f s of checkpoints, not counted)\n",
                 name.c_str(), commits, rows_per_commit, blob.size(), timed, checkpointing);
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    return {commits / timed, commits * rows_per_commit / timed, percentile(latencies_ms, 0.5),
            percentile(latencies_ms, 0.99), percentile(latencies_ms, 0.999)};
}

}  // namespace

int main(int argc, char** argv) try {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s TEMPLATE RUN_DIR [SECONDS]\n", argv[0]);
        return 2;
    }
    const double budget = argc > 3 ? std::stod(argv[3]) : 3.0;
    const std::filesystem::path dir = argv[2];
    std::filesystem::create_directories(dir);

    // One patient's body, placeholders filled as wrk fills them, so the length is what is posted.
    std::string body = read_file(argv[1]);
    replace_all(body, "{{FNR}}", "01814400126");
    replace_all(body, "{{N}}", "0001");

    // About one transaction's worth of stored resources; random, so nothing below it compresses.
    std::string blob(15 * 1024, '\0');
    std::mt19937 random(42);
    for (auto& c : blob) c = static_cast<char>(random());

    std::fprintf(stderr, "body %zu bytes; %.1f s per figure; database in %s\n", body.size(), budget, dir.c_str());
    const auto parse = rapidjson_parse(body, budget);
    std::printf("rapidjson_parse_per_s %.0f\n", parse.per_s);
    std::printf("rapidjson_parse_mb_per_s %.1f\n", parse.mb_per_s);
    std::fflush(stdout);
    const auto single = sqlite_commits(dir, "single", blob, 1, budget);
    std::printf("sqlite_commits_per_s_single %.0f\n", single.commits_per_s);
    std::printf("sqlite_commit_single_p50_ms %.2f\n", single.p50_ms);
    std::printf("sqlite_commit_single_p99_ms %.2f\n", single.p99_ms);
    std::printf("sqlite_commit_single_p999_ms %.2f\n", single.p999_ms);
    std::fflush(stdout);
    const auto group = sqlite_commits(dir, "group", blob, 64, budget);
    std::printf("sqlite_commits_per_s_group %.0f\n", group.commits_per_s);
    std::printf("sqlite_rows_per_s_group %.0f\n", group.rows_per_s);
    for (const char* name : {"single", "group"})
        for (const char* suffix : {".db", ".db-wal", ".db-shm"}) std::filesystem::remove(dir / (std::string(name) + suffix));
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "bench_ceilings: %s\n", e.what());
    return 1;
}
