#include "adapter/store/store.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>

#include <pthread.h>
#include <sys/random.h>

#include <array>
#include <cerrno>
#include <system_error>

#include "adapter/store/outbox_sql.hpp"
#include "adapter/store/schema.hpp"
#include "adapter/store/search_sql.hpp"
#include "adapter/store/sqlite.hpp"

namespace helsebro::store {

namespace {

using sqlite::Connection;
using sqlite::Statement;
using sqlite::Use;

std::string encode_headers(const std::vector<std::pair<std::string, std::string>>& headers) {
    std::string out;
    for (const auto& [name, value] : headers) {
        out += name;
        out += ": ";
        out += value;
        out += '\n';
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> decode_headers(std::string_view text) {
    std::vector<std::pair<std::string, std::string>> out;
    while (!text.empty()) {
        auto eol = text.find('\n');
        auto line = text.substr(0, eol);
        auto colon = line.find(": ");
        if (colon != std::string_view::npos)
            out.emplace_back(std::string(line.substr(0, colon)), std::string(line.substr(colon + 2)));
        if (eol == std::string_view::npos) break;
        text.remove_prefix(eol + 1);
    }
    return out;
}

ResourceVersion version_from_row(Statement& s) {
    ResourceVersion v;
    v.type = s.text(0);
    v.id = s.text(1);
    v.version = s.int64(2);
    v.last_updated = s.text(3);
    v.deleted = s.int64(4) != 0;
    v.json = s.text(5);
    return v;
}

constexpr const char* select_current_sql =
    "SELECT type, id, version, last_updated, deleted, body FROM resource_version "
    "WHERE type = ?1 AND id = ?2 ORDER BY version DESC LIMIT 1";
constexpr const char* select_version_sql =
    "SELECT type, id, version, last_updated, deleted, body FROM resource_version "
    "WHERE type = ?1 AND id = ?2 AND version = ?3";
constexpr const char* select_by_identifier_sql =
    "SELECT id FROM resource_identifier WHERE type = ?1 AND system = ?2 AND value = ?3 ORDER BY id";

std::vector<std::string> collect_ids(Statement& s) {
    std::vector<std::string> ids;
    while (s.step()) ids.push_back(s.text(0));
    return ids;
}

// Reads map the database file instead of copying pages through read(2).
Connection tuned(const std::string& path, unsigned busy_ms) {
    Connection c(path, SQLITE_OPEN_READONLY, busy_ms);
    c.exec("PRAGMA mmap_size=268435456");
    c.exec("PRAGMA cache_size=-16384");
    return c;
}

// A read-only connection with its statements prepared once.
struct Reader {
    Connection db;
    SearchRunner search{db};  // declared after db, which it uses
    Statement current;
    Statement version;
    Statement by_identifier;
    Statement unprocessed;
    Statement written_by;
    Statement patient_records;
    Statement blocked;
    Statement unfinished;
    Statement outbox_size;
    OutboxReader outbox{db};

    Reader(const std::string& path, unsigned busy_ms)
        : db(tuned(path, busy_ms)),
          current(db, select_current_sql),
          version(db, select_version_sql),
          by_identifier(db, select_by_identifier_sql),
          unprocessed(db,
                      "SELECT m.id, m.sender, m.kind, m.content_type, m.received_at, m.body FROM message m "
                      "WHERE m.id > ?1 AND NOT EXISTS (SELECT 1 FROM processing p WHERE p.message_id = m.id) "
                      "ORDER BY m.id LIMIT ?2"),
          written_by(db,
                     "SELECT v.type, v.id, v.version, v.last_updated, v.deleted, v.body FROM resource_version v "
                     "WHERE v.message_id = ?1 ORDER BY v.rowid"),
          patient_records(db,
                          "SELECT v.type, v.id, v.version, v.last_updated, v.deleted, v.body FROM patient_resource p "
                          "JOIN resource_version v ON v.type = p.type AND v.id = p.id AND v.version = "
                          "(SELECT max(version) FROM resource_version w WHERE w.type = p.type AND w.id = p.id) "
                          "WHERE p.system = ?1 AND p.value = ?2 AND v.deleted = 0"),
          blocked(db, "SELECT patients FROM processing WHERE state <> 'done'"),
          unfinished(db,
                     "SELECT p.message_id, p.state, p.rule_set, p.error, p.updated_at, m.kind, m.sender, m.received_at "
                     "FROM processing p JOIN message m ON m.id = p.message_id WHERE p.state <> 'done' "
                     "ORDER BY p.message_id LIMIT ?1"),
          outbox_size(db, "SELECT count(*) FROM outbox") {}
};

// The writer's connection and the Tx the jobs see.
class Writer final : public Tx {
public:
    Writer(const std::string& path, unsigned busy_ms)
        : db_(open(path, busy_ms)),
          begin_(db_, "BEGIN IMMEDIATE"),
          commit_(db_, "COMMIT"),
          rollback_(db_, "ROLLBACK"),
          savepoint_(db_, "SAVEPOINT job"),
          rollback_to_(db_, "ROLLBACK TO job"),
          release_(db_, "RELEASE job"),
          insert_message_(db_,
                          "INSERT INTO message (received_at, sender, method, target, content_type, "
                          "kind, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
          current_(db_, select_current_sql),
          insert_version_(db_,
                          "INSERT INTO resource_version (type, id, version, last_updated, deleted, "
                          "body, message_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
          delete_identifiers_(db_, "DELETE FROM resource_identifier WHERE type = ?1 AND id = ?2"),
          insert_identifier_(db_,
                             "INSERT OR IGNORE INTO resource_identifier (type, system, value, id) "
                             "VALUES (?1, ?2, ?3, ?4)"),
          by_identifier_(db_, select_by_identifier_sql),
          find_reply_(db_,
                      "SELECT request_sha256, status, headers, body FROM reply WHERE sender = ?1 AND key = ?2"),
          insert_reply_(db_,
                        "INSERT INTO reply (sender, key, message_id, request_sha256, status, headers, body) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
          set_processing_(db_,
                          "INSERT OR REPLACE INTO processing (message_id, state, rule_set, error, patients, updated_at) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
          clear_failed_(db_, "DELETE FROM processing WHERE state <> 'done'"),
          link_patient_(db_, "INSERT OR IGNORE INTO patient_resource (system, value, type, id) VALUES (?1, ?2, ?3, ?4)") {}

    Connection& db() { return db_; }
    void begin() { Use(begin_)->run(); }
    void commit() {
        Use(commit_)->run();
        index_.batch_ended();
    }
    // Outside every job's SAVEPOINT, just before COMMIT: the batch's search rows, in one sorted go.
    void flush_index() { index_.flush(/*in_job=*/false); }
    void rollback() {
        index_.batch_ended();
        if (!sqlite3_get_autocommit(db_.handle())) Use(rollback_)->run();
    }
    void savepoint() { Use(savepoint_)->run(); }
    void rollback_to() {
        Use(rollback_to_)->run();
        index_.job_rolled_back();
    }
    void release() { Use(release_)->run(); }
    bool in_transaction() const { return !sqlite3_get_autocommit(db_.handle()); }
    void start_job() {
        now_ = now_instant();
        index_.job_started();
    }

    std::int64_t record_message(const ReceivedMessage& m) override {
        Use s(insert_message_);
        s->bind(1, now_).bind(2, m.sender).bind(3, m.method).bind(4, m.target);
        s->bind(5, m.content_type).bind(6, m.kind).bind_blob(7, m.body);
        s->run();
        return sqlite3_last_insert_rowid(db_.handle());
    }

    std::optional<ResourceVersion> current(std::string_view type, std::string_view id) override {
        Use s(current_);
        s->bind(1, type).bind(2, id);
        if (!s->step()) return std::nullopt;
        return version_from_row(current_);
    }

    void put_version(const ResourceVersion& v, std::int64_t message_id, const std::vector<Identifier>& identifiers,
                     const SearchIndex* index = nullptr) override {
        std::int64_t rowid = 0;
        {
            Use s(insert_version_);
            s->bind(1, v.type).bind(2, v.id).bind(3, v.version).bind(4, v.last_updated);
            s->bind(5, std::int64_t{v.deleted}).bind_blob(6, v.json).bind(7, message_id);
            s->run();
            rowid = sqlite3_last_insert_rowid(db_.handle());
        }
        // Made here only for callers that did not prepare it: that costs the writer a parse.
        index_.write(v, rowid, index ? *index : make_search_index(v.json, v.type));
        if (v.version > 1) {  // a first version has no identifiers indexed yet
            Use s(delete_identifiers_);
            s->bind(1, v.type).bind(2, v.id);
            s->run();
        }
        for (const auto& ident : identifiers) {
            Use s(insert_identifier_);
            s->bind(1, v.type).bind(2, ident.system).bind(3, ident.value).bind(4, v.id);
            s->run();
        }
    }

    std::vector<std::string> ids_by_identifier(std::string_view type, std::string_view system,
                                               std::string_view value) override {
        Use s(by_identifier_);
        s->bind(1, type).bind(2, system).bind(3, value);
        return collect_ids(by_identifier_);
    }

    std::optional<StoredReply> find_reply(std::string_view sender, std::string_view key) override {
        Use s(find_reply_);
        s->bind(1, sender).bind(2, key);
        if (!s->step()) return std::nullopt;
        StoredReply r;
        r.request_sha256 = find_reply_.text(0);
        r.status = static_cast<int>(find_reply_.int64(1));
        r.headers = decode_headers(find_reply_.text(2));
        r.body = find_reply_.text(3);
        return r;
    }

    void save_reply(std::string_view sender, std::string_view key, std::int64_t message_id,
                    const StoredReply& reply) override {
        std::string headers = encode_headers(reply.headers);
        Use s(insert_reply_);
        s->bind(1, sender).bind(2, key).bind(3, message_id).bind_blob(4, reply.request_sha256);
        s->bind(5, std::int64_t{reply.status}).bind(6, headers).bind_blob(7, reply.body);
        s->run();
    }

    SearchPage search(const SearchQuery& query) override {
        index_.flush(/*in_job=*/true);  // what this batch wrote so far, this job's included
        return search_.run(query);
    }

    const std::string& now() override { return now_; }

    void set_processing(std::int64_t message_id, std::string_view state, std::string_view rule_set,
                        std::string_view error, std::string_view patients) override {
        Use s(set_processing_);
        s->bind(1, message_id).bind(2, state).bind(3, rule_set).bind(4, error).bind(5, patients).bind(6, now_);
        s->run();
    }

    void clear_failed_processing() override { Use(clear_failed_)->run(); }

    void link_patient(const Identifier& patient, std::string_view type, std::string_view id) override {
        Use s(link_patient_);
        s->bind(1, patient.system).bind(2, patient.value).bind(3, type).bind(4, id);
        s->run();
    }

    void queue_outgoing(std::string_view id, std::int64_t message_id, std::string_view recipient,
                        std::string_view lane, std::string_view body) override {
        outbox_.queue(id, message_id, recipient, lane, body, now_);
    }
    bool record_attempt(std::string_view id, const Attempt& attempt) override { return outbox_.record(id, attempt, now_); }
    bool replay_outgoing(std::string_view id) override { return outbox_.replay(id, now_); }
    bool discard_outgoing(std::string_view id, std::string_view reason) override {
        return outbox_.discard(id, reason, now_);
    }
    void audit(std::string_view client, std::string_view action, std::string_view target,
               std::string_view detail) override {
        outbox_.audit(client, action, target, detail, now_);
    }

private:
    static Connection open(const std::string& path, unsigned busy_ms) {
        Connection c(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, busy_ms);
        check_ownership(c);
        // Durability rests on these two: checked, not assumed from the build's defaults.
        if (c.query_text("PRAGMA journal_mode=WAL") != "wal")
            throw sqlite::Error("the database cannot use write-ahead logging", SQLITE_ERROR);
        c.exec("PRAGMA synchronous=FULL");
        if (c.query_text("PRAGMA synchronous") != "2")
            throw sqlite::Error("the database refused synchronous=FULL", SQLITE_ERROR);
        c.exec("PRAGMA foreign_keys=ON");
        // Checkpoints run on their own thread (checkpoint_loop), never inside a commit.
        c.exec("PRAGMA wal_autocheckpoint=0");
        c.exec("PRAGMA cache_size=-65536");
        // Each request runs in a SAVEPOINT; its undo pages stay in memory instead of a temp file.
        c.exec("PRAGMA temp_store=MEMORY");
        // A WAL that grew under a burst is cut back when it starts over.
        c.exec("PRAGMA journal_size_limit=67108864");
        migrate(c);
        return c;
    }

    // Before anything is changed: a file of another schema version, or someone else's database, is
    // refused rather than misread or altered.
    static void check_ownership(Connection& c) {
        int version = std::stoi(c.query_text("PRAGMA user_version"));
        if (version == schema_version) return;
        if (version >= oldest_upgradable_version && version < schema_version) return;  // migrate() adds the new tables
        if (version != 0)
            throw sqlite::Error("the database has schema version " + std::to_string(version) +
                                    "; this build of Helsebro reads version " + std::to_string(schema_version),
                                SQLITE_ERROR);
        if (c.query_text("SELECT count(*) FROM sqlite_schema") != "0")
            throw sqlite::Error("the file holds tables that are not Helsebro's; give Helsebro a data directory of its own",
                                SQLITE_ERROR);
    }

    // A new file gets the schema; an older one the tables added since (all CREATE ... IF NOT EXISTS).
    static void migrate(Connection& c) {
        if (std::stoi(c.query_text("PRAGMA user_version")) == schema_version) return;
        c.exec("BEGIN IMMEDIATE");
        const int from = std::stoi(c.query_text("PRAGMA user_version"));
        bool fresh = from == 0;
        const bool outbox_v3 = from == 3 && c.query_text("SELECT count(*) FROM sqlite_schema WHERE name = 'outbox'") != "0";
        if (outbox_v3) c.exec(outbox_v3_rename_sql);
        c.exec(schema_sql);
        if (outbox_v3) c.exec(outbox_v3_copy_sql);
        if (!fresh && from < 3) backfill_search_index(c);  // what was stored before search existed
        c.exec(("PRAGMA user_version=" + std::to_string(schema_version)).c_str());
        c.exec("COMMIT");
    }

    Connection db_;
    Statement begin_, commit_, rollback_, savepoint_, rollback_to_, release_;
    Statement insert_message_, current_, insert_version_, delete_identifiers_,
        insert_identifier_, by_identifier_, find_reply_, insert_reply_;
    Statement set_processing_, clear_failed_, link_patient_;
    OutboxWriter outbox_{db_};
    std::string now_;
    IndexWriter index_{db_};
    SearchRunner search_{db_};
};

struct Pending {
    Job job;
    Done done;
    std::size_t bytes = 0;
};

// Patient data: a directory we create is the service user's alone; one we find open to others
// is reported, not changed behind the administrator's back.
void prepare_data_dir(const std::string& dir, spdlog::logger& log) {
    namespace fs = std::filesystem;
    if (fs::create_directories(dir)) {
        fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
        return;
    }
    auto perms = fs::status(dir).permissions();
    if ((perms & (fs::perms::group_all | fs::perms::others_all)) != fs::perms::none)
        log.warn("The data directory {} is accessible to other users; it holds patient data (chmod 700).", dir);
}

std::string describe(std::exception_ptr e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        return x.what();
    } catch (...) {
        return "an unknown error";
    }
}

}  // namespace

struct Store::Impl {
    StoreOptions options;
    std::string path;
    std::shared_ptr<spdlog::logger> log;

    std::unique_ptr<Writer> writer;
    std::thread thread;
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<Pending> queue;       // requests
    std::deque<Pending> background;  // processing and delivery results
    // Background jobs in a batch that also carries requests: enough to keep processing moving,
    // few enough that the batch stays short for the senders waiting on it.
    static constexpr std::size_t background_share = 8;
    bool closing = false;
    std::size_t queued_bytes = 0;
    bool last_commit_ok = true;
    Stats stats;

    // Copies the WAL into the database on a thread of its own, so commits never wait for it.
    std::thread checkpointer;
    bool checkpoint_wanted = false;
    std::condition_variable checkpoint_wake;
    static constexpr int checkpoint_pages = 4096;  // 16 MiB of WAL
    int wal_pages = 0;                              // after the last commit; writer thread only

    void checkpoint_loop();
    void checkpoint_until_closed();
    void catch_up_wal();
    static int on_wal(void* self, sqlite3*, const char*, int pages) {
        auto* impl = static_cast<Impl*>(self);
        impl->wal_pages = pages;
        if (pages >= checkpoint_pages) {
            std::lock_guard lock(impl->mutex);
            impl->checkpoint_wanted = true;
            impl->checkpoint_wake.notify_one();
        }
        return SQLITE_OK;
    }

    mutable std::mutex readers_mutex;
    mutable std::condition_variable reader_free;
    mutable std::vector<std::unique_ptr<Reader>> readers;
    bool readers_closed = false;

    void run();
    void run_batch(std::vector<Pending>& batch);
    std::function<void()> on_commit;  // set before the first job; writer thread only

    template <class F>
    auto with_reader(F&& f) const {
        std::unique_ptr<Reader> r;
        {
            std::unique_lock lock(readers_mutex);
            reader_free.wait(lock, [&] { return readers_closed || !readers.empty(); });
            if (readers_closed) throw std::runtime_error("the store is closed");
            r = std::move(readers.back());
            readers.pop_back();
        }
        struct Return {
            const Impl* impl;
            std::unique_ptr<Reader>& r;
            ~Return() {
                std::lock_guard lock(impl->readers_mutex);
                if (impl->readers_closed) return;  // dropped: the store closed meanwhile
                impl->readers.push_back(std::move(r));
                impl->reader_free.notify_one();
            }
        } give_back{this, r};
        return f(*r);
    }
};

Store::Store(const StoreOptions& options) : impl_(std::make_unique<Impl>()) {
    auto& d = *impl_;
    d.options = options;
    d.log = spdlog::get("store");
    if (!d.log) d.log = spdlog::default_logger()->clone("store");
    prepare_data_dir(options.data_dir, *d.log);
    d.path = (std::filesystem::path(options.data_dir) / "helsebro.db").string();
    d.writer = std::make_unique<Writer>(d.path, options.busy_timeout_ms);
    for (unsigned i = 0; i < std::max(1u, options.read_connections); ++i)
        d.readers.push_back(std::make_unique<Reader>(d.path, options.busy_timeout_ms));
    sqlite3_wal_hook(d.writer->db().handle(), &Impl::on_wal, &d);
    d.checkpointer = std::thread([&d] {
        pthread_setname_np(pthread_self(), "hb-checkpoint");
        d.checkpoint_loop();
    });
    d.thread = std::thread([&d] {
        pthread_setname_np(pthread_self(), "hb-store");
        d.run();
    });
}

void Store::Impl::checkpoint_loop() {
    try {
        checkpoint_until_closed();
    } catch (const std::exception& e) {
        // The writer still finishes checkpoints between batches (catch_up_wal): degraded, not down.
        log->error("The checkpoint thread stopped: {}. The writer now does all checkpoints.", e.what());
    }
}

void Store::Impl::checkpoint_until_closed() {
    Connection db(path, SQLITE_OPEN_READWRITE, options.busy_timeout_ms);
    // A connection learns that the file is in WAL mode only when it first reads it; until then
    // a checkpoint silently does nothing.
    db.exec("PRAGMA journal_mode=WAL");
    for (;;) {
        {
            std::unique_lock lock(mutex);
            checkpoint_wake.wait(lock, [&] { return closing || checkpoint_wanted; });
            if (closing) return;
            checkpoint_wanted = false;
        }
        // PASSIVE: copies the bulk on this thread while commits go on. Under sustained writes it
        // never quite catches up; the writer finishes the job between batches (catch_up_wal).
        int rc = sqlite3_wal_checkpoint_v2(db.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            log->warn("A checkpoint failed ({}); the WAL grows until the next one succeeds.", sqlite3_errstr(rc));
    }
}

Store::~Store() { close(); }

void Store::close(bool run_queued) {
    auto& d = *impl_;
    std::deque<Pending> abandoned;
    {
        std::lock_guard lock(d.mutex);
        if (d.closing && !d.thread.joinable()) return;
        d.closing = true;
        if (!run_queued) {
            // Background work is made again from what is stored (processing) or redone (delivery).
            abandoned.swap(d.queue);
            for (auto& p : d.background) abandoned.push_back(std::move(p));
            d.background.clear();
        }
    }
    // Their senders were cut off unanswered and will resend: running them now would only make
    // duplicates of what has no idempotency key.
    if (!abandoned.empty()) d.log->warn("Dropped {} queued writes whose senders were cut off; none was acknowledged.", abandoned.size());
    for (auto& p : abandoned)
        if (p.done) p.done(false);
    d.wake.notify_all();
    d.checkpoint_wake.notify_all();
    if (d.thread.joinable()) d.thread.join();
    if (d.checkpointer.joinable()) d.checkpointer.join();
    if (d.writer) {
        try {
            d.writer->db().exec("PRAGMA wal_checkpoint(TRUNCATE)");
        } catch (const std::exception& e) {
            d.log->warn("The final checkpoint failed ({}); the WAL is replayed at the next start.", e.what());
        }
    }
    {
        // Readers still out finish their query; those returned later are simply dropped.
        std::lock_guard lock(d.readers_mutex);
        d.readers_closed = true;
        d.readers.clear();
        d.reader_free.notify_all();
    }
    d.writer.reset();
}

bool Store::submit(Job job, Done done, std::size_t bytes, Priority priority) {
    auto& d = *impl_;
    {
        std::lock_guard lock(d.mutex);
        if (d.queue.size() + d.background.size() >= d.options.max_queued_jobs) return false;
        // One job is always taken, however large, or it could never be stored.
        if (!(d.queue.empty() && d.background.empty()) && d.queued_bytes + bytes > d.options.max_queued_bytes) return false;
        if (!d.closing) {
            d.queued_bytes += bytes;
            (priority == Priority::request ? d.queue : d.background).push_back({std::move(job), std::move(done), bytes});
            d.wake.notify_one();
            return true;
        }
    }
    done(false);
    return true;
}

bool Store::healthy() const {
    std::lock_guard lock(impl_->mutex);
    return !impl_->closing && impl_->last_commit_ok;
}

void Store::Impl::run() {
    std::vector<Pending> batch;
    for (;;) {
        {
            std::unique_lock lock(mutex);
            wake.wait(lock, [&] { return closing || !queue.empty() || !background.empty(); });
            if (queue.empty() && background.empty()) return;  // closing, and everything queued is done
            const std::size_t max = std::max(1u, options.group_commit_max_batch);
            // Room for the background share first, so a flood of requests cannot starve it.
            const std::size_t reserved = std::min({background.size(), background_share, max > 1 ? max - 1 : 0});
            const std::size_t requests = std::min(queue.size(), max - reserved);
            const std::size_t others = std::min(background.size(), requests > 0 ? reserved : max);
            batch.clear();
            auto take = [&](std::deque<Pending>& from, std::size_t n) {
                for (std::size_t i = 0; i < n; ++i) {
                    queued_bytes -= from.front().bytes;
                    batch.push_back(std::move(from.front()));
                    from.pop_front();
                }
            };
            take(queue, requests);
            take(background, others);
        }
        run_batch(batch);
        batch.clear();  // the completions hold the callers' resources: release them now, not next batch
        catch_up_wal();
    }
}

// With no write in progress, a checkpoint from the writer's own connection copies every frame
// the checkpointer has not, so the next commit starts the WAL from the beginning again. Without
// this the WAL would grow without bound under sustained writes.
void Store::Impl::catch_up_wal() {
    if (wal_pages < 2 * checkpoint_pages) return;
    int rc = sqlite3_wal_checkpoint_v2(writer->db().handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        log->warn("A checkpoint failed ({}); the WAL grows until the next one succeeds.", sqlite3_errstr(rc));
    wal_pages = 0;
}

// One transaction for the whole batch, a savepoint per job. If the transaction itself fails (disk
// full, I/O error), no job in it is acknowledged.
void Store::Impl::run_batch(std::vector<Pending>& batch) {
    using clock = std::chrono::steady_clock;
    bool committed = false;
    auto started = clock::now(), committing = started;
    try {
        writer->begin();
        for (std::size_t i = 0; i < batch.size(); ++i) {
            writer->start_job();
            writer->savepoint();
            bool ok = false;
            try {
                ok = batch[i].job(*writer);
            } catch (const std::exception& e) {
                if (!writer->in_transaction()) throw;
                log->error("A write failed and was rolled back: {}", e.what());
            } catch (...) {
                if (!writer->in_transaction()) throw;
                log->error("A write failed with an unknown error and was rolled back.");
            }
            if (!ok) writer->rollback_to();
            writer->release();
        }
        writer->flush_index();
        committing = clock::now();
        writer->commit();
        committed = true;
    } catch (...) {
        log->error("A commit of {} requests failed; none of them was acknowledged: {}", batch.size(),
                   describe(std::current_exception()));
        try {
            writer->rollback();
        } catch (const std::exception& e2) {
            log->error("Rollback failed: {}", e2.what());
        }
    }
    {
        std::lock_guard lock(mutex);
        stats.jobs += batch.size();
        stats.commits += committed ? 1 : 0;
        stats.failed_commits += committed ? 0 : 1;
        auto finished = clock::now();
        stats.run_seconds += std::chrono::duration<double>(committing - started).count();
        stats.commit_seconds += std::chrono::duration<double>(finished - committing).count();
        last_commit_ok = committed;
    }
    // A job that rolled itself back still gets committed=true: it ran, and its answer (an error)
    // is final. Only a failed commit leaves the outcome unknown to the caller.
    for (auto& p : batch)
        if (p.done) p.done(committed);
    if (committed && on_commit) on_commit();
}

std::optional<ResourceVersion> Store::read(std::string_view type, std::string_view id) const {
    return impl_->with_reader([&](Reader& r) -> std::optional<ResourceVersion> {
        Use s(r.current);
        s->bind(1, type).bind(2, id);
        if (!s->step()) return std::nullopt;
        return version_from_row(r.current);
    });
}

std::optional<ResourceVersion> Store::read_version(std::string_view type, std::string_view id,
                                                   std::int64_t version) const {
    return impl_->with_reader([&](Reader& r) -> std::optional<ResourceVersion> {
        Use s(r.version);
        s->bind(1, type).bind(2, id).bind(3, version);
        if (!s->step()) return std::nullopt;
        return version_from_row(r.version);
    });
}

SearchPage Store::search(const SearchQuery& query) const {
    return impl_->with_reader([&](Reader& r) { return r.search.run(query); });
}

std::vector<ResourceVersion> Store::search_all(SearchQuery query) const {
    query.count = 1000;
    std::vector<ResourceVersion> out;
    for (;;) {
        auto page = search(query);
        for (auto& v : page.resources) out.push_back(std::move(v));
        if (!page.next_after) return out;
        query.after = *page.next_after;
        query.snapshot = page.snapshot;
    }
}

std::vector<ResourceVersion> Store::history(std::string_view type, std::string_view id, std::int64_t before,
                                            std::size_t count) const {
    return impl_->with_reader([&](Reader& r) { return r.search.history(type, id, before, count); });
}

std::vector<std::string> Store::ids_by_identifier(std::string_view type, std::string_view system,
                                                  std::string_view value) const {
    return impl_->with_reader([&](Reader& r) {
        Use s(r.by_identifier);
        s->bind(1, type).bind(2, system).bind(3, value);
        return collect_ids(r.by_identifier);
    });
}

std::vector<InboxEntry> Store::unprocessed(std::int64_t after_id, std::size_t limit) const {
    return impl_->with_reader([&](Reader& r) {
        Use s(r.unprocessed);
        s->bind(1, after_id).bind(2, static_cast<std::int64_t>(limit));
        std::vector<InboxEntry> out;
        while (s->step())
            out.push_back(InboxEntry{r.unprocessed.int64(0), r.unprocessed.text(1), r.unprocessed.text(2),
                                     r.unprocessed.text(3), r.unprocessed.text(4), r.unprocessed.text(5)});
        return out;
    });
}

std::vector<ResourceVersion> Store::written_by(std::int64_t message_id) const {
    return impl_->with_reader([&](Reader& r) {
        Use s(r.written_by);
        s->bind(1, message_id);
        std::vector<ResourceVersion> out;
        while (s->step()) out.push_back(version_from_row(r.written_by));
        return out;
    });
}

std::vector<ResourceVersion> Store::patient_records(std::string_view system, std::string_view value) const {
    return impl_->with_reader([&](Reader& r) {
        Use s(r.patient_records);
        s->bind(1, system).bind(2, value);
        std::vector<ResourceVersion> out;
        while (s->step()) out.push_back(version_from_row(r.patient_records));
        return out;
    });
}

std::vector<Store::Unfinished> Store::unfinished(std::size_t limit) const {
    return impl_->with_reader([&](Reader& r) {
        Use s(r.unfinished);
        s->bind(1, static_cast<std::int64_t>(limit));
        std::vector<Unfinished> out;
        while (s->step())
            out.push_back(Unfinished{r.unfinished.int64(0), r.unfinished.text(1), r.unfinished.text(2), r.unfinished.text(3),
                                     r.unfinished.text(4), r.unfinished.text(5), r.unfinished.text(6), r.unfinished.text(7)});
        return out;
    });
}

std::vector<std::string> Store::blocked_patients() const {
    return impl_->with_reader([&](Reader& r) {
        Use s(r.blocked);
        std::vector<std::string> out;
        while (s->step()) {
            const std::string patients = r.blocked.text(0);
            std::size_t start = 0;
            while (start < patients.size()) {
                auto end = patients.find(' ', start);
                if (end == std::string::npos) end = patients.size();
                if (end > start) out.push_back(patients.substr(start, end - start));
                start = end + 1;
            }
        }
        return out;
    });
}

std::size_t Store::outbox_size() const {
    return impl_->with_reader([&](Reader& r) {
        Use s(r.outbox_size);
        return s->step() ? static_cast<std::size_t>(r.outbox_size.int64(0)) : std::size_t{0};
    });
}

std::vector<Queued> Store::queued(std::string_view recipient, std::int64_t after_seq, std::size_t limit) const {
    return impl_->with_reader([&](Reader& r) { return r.outbox.queued(recipient, after_seq, limit); });
}

std::optional<Queued> Store::next_in_lane(std::string_view recipient, std::string_view lane) const {
    return impl_->with_reader([&](Reader& r) { return r.outbox.next_in_lane(recipient, lane); });
}

std::optional<std::string> Store::outgoing_body(std::string_view id) const {
    return impl_->with_reader([&](Reader& r) { return r.outbox.body(id); });
}

std::optional<OutboxEntry> Store::outgoing(std::string_view id, bool with_body) const {
    return impl_->with_reader([&](Reader& r) { return r.outbox.entry(id, with_body); });
}

std::vector<QueueSummary> Store::queue_summary() const {
    return impl_->with_reader([&](Reader& r) { return r.outbox.summary(); });
}

std::vector<OutboxEntry> Store::dead_letters(const DeadLetterFilter& filter) const {
    return impl_->with_reader([&](Reader& r) { return r.outbox.dead_letters(filter); });
}

std::vector<AuditEntry> Store::audit_log(std::int64_t before, std::size_t limit) const {
    return impl_->with_reader([&](Reader& r) { return r.outbox.audit_log(before, limit); });
}

void Store::on_commit(std::function<void()> listener) {
    std::lock_guard lock(impl_->mutex);
    impl_->on_commit = std::move(listener);
}

Stats Store::stats() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->stats;
}

std::string Store::database_path() const { return impl_->path; }

namespace {
// From the kernel's CSPRNG, in blocks: ids must not be predictable from the ids a client has seen.
std::uint64_t random64() {
    thread_local std::array<std::uint64_t, 64> block;
    thread_local std::size_t left = 0;
    if (left == 0) {
        auto* p = reinterpret_cast<unsigned char*>(block.data());
        std::size_t need = sizeof block;
        while (need > 0) {
            ssize_t n = ::getrandom(p, need, 0);
            if (n < 0) {
                if (errno == EINTR) continue;
                throw std::system_error(errno, std::generic_category(), "getrandom");
            }
            p += n;
            need -= static_cast<std::size_t>(n);
        }
        left = block.size();
    }
    return block[--left];
}
}  // namespace

std::string new_id() {
    // RFC 9562 version 7: a millisecond timestamp first, so new ids land at the right edge of the
    // store's B-trees instead of on random pages (random v4 ids made every commit rewrite pages
    // all over the indexes), then 74 random bits.
    auto ms = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
    std::uint64_t hi = (ms << 16) | 0x7000 | (random64() & 0x0fff);
    std::uint64_t lo = (random64() & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
    char buf[40];
    std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                  static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
                  static_cast<unsigned>(lo >> 48),
                  static_cast<unsigned long long>(lo & 0xffffffffffffULL));
    return buf;
}

std::string now_instant() { return to_instant(std::chrono::system_clock::now()); }

std::string to_instant(std::chrono::system_clock::time_point t) {
    using namespace std::chrono;
    auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
    std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
    return buf;
}

std::optional<std::chrono::system_clock::time_point> from_instant(const std::string& instant) {
    std::tm tm{};
    if (instant.empty() || !::strptime(instant.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return std::nullopt;
    return std::chrono::system_clock::from_time_t(::timegm(&tm));
}

}  // namespace helsebro::store
