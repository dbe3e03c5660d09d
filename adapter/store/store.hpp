// The durable store: resources with full version history, every accepted message as received, and
// the replies given to idempotent requests — all in SQLite (WAL, synchronous=FULL).
//
// Writes are jobs run one after another on a single writer thread; the jobs that queue up while a
// commit is being flushed share the next commit (group commit), each inside its own SAVEPOINT so one
// job's failure rolls back only that job. A job's completion runs only after its commit is durable:
// that is the only point where a caller may acknowledge anything. Reads use a pool of separate
// connections and never wait for the writer.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapter/store/outbox.hpp"
#include "adapter/store/search.hpp"

namespace helsebro::store {

struct StoreOptions {
    std::string data_dir;
    unsigned group_commit_max_batch = 512;
    unsigned busy_timeout_ms = 5000;
    unsigned read_connections = 4;
    std::size_t max_queued_jobs = 10000;  // beyond this, submit() refuses: back-pressure, not memory growth
    std::size_t max_queued_bytes = 256u << 20;  // and beyond this much request data waiting
};

struct ResourceVersion {
    std::string type;
    std::string id;
    std::int64_t version = 0;
    std::string last_updated;  // FHIR instant, UTC, millisecond precision
    bool deleted = false;
    std::string json;          // the resource as stored, meta included
};

struct ReceivedMessage {
    std::string sender;  // client id
    std::string method;
    std::string target;
    std::string content_type;
    std::string kind;    // transaction, batch, message, collection, document, create, update
    std::string_view body;  // the bytes as received
};

// A reply kept for an idempotency key, replayed byte for byte when the same request comes again.
struct StoredReply {
    std::string request_sha256;  // of the request body that got this reply
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

struct Identifier {
    std::string system;
    std::string value;
};

// A page of search results (SearchQuery in adapter/store/search.hpp).
struct SearchPage {
    std::vector<ResourceVersion> resources;
    std::int64_t snapshot = 0;
    std::optional<std::int64_t> next_after;  // set when another page may follow
};

// A stored request the processing stage has not finished.
struct InboxEntry {
    std::int64_t message_id = 0;
    std::string sender, kind, content_type, received_at;
    std::string body;
};

// What a write job may do. Valid only inside the job; all of it commits or rolls back together.
class Tx {
public:
    virtual ~Tx() = default;
    virtual std::int64_t record_message(const ReceivedMessage& m) = 0;
    virtual std::optional<ResourceVersion> current(std::string_view type, std::string_view id) = 0;
    // Stores a new version and makes it current; the caller picked version = current + 1.
    // Indexes it for search: with `index` when the caller made it (make_search_index, off this
    // thread), else from v.json here. A deleted version leaves the resource unfindable.
    virtual void put_version(const ResourceVersion& v, std::int64_t message_id,
                             const std::vector<Identifier>& identifiers, const SearchIndex* index = nullptr) = 0;
    virtual std::vector<std::string> ids_by_identifier(std::string_view type, std::string_view system,
                                                       std::string_view value) = 0;
    // Sees what this transaction wrote so far.
    virtual SearchPage search(const SearchQuery& query) = 0;
    virtual std::optional<StoredReply> find_reply(std::string_view sender, std::string_view key) = 0;
    virtual void save_reply(std::string_view sender, std::string_view key, std::int64_t message_id,
                            const StoredReply& reply) = 0;
    // The commit's timestamp: one instant for everything written by this job.
    virtual const std::string& now() = 0;

    // The processing stage's bookkeeping (see adapter/processing).
    virtual void set_processing(std::int64_t message_id, std::string_view state, std::string_view rule_set,
                                std::string_view error, std::string_view patients) = 0;
    virtual void clear_failed_processing() = 0;  // failed and waiting messages become unprocessed
    virtual void link_patient(const Identifier& patient, std::string_view type, std::string_view id) = 0;
    // Ignored when a message with this id is queued already (a replay).
    virtual void queue_outgoing(std::string_view id, std::int64_t message_id, std::string_view recipient,
                                std::string_view lane, std::string_view body) = 0;
    // The delivery engine's record of one attempt on a queued row; false when the row is no longer
    // queued (an administrator discarded it meanwhile), except that a delivery is always recorded.
    virtual bool record_attempt(std::string_view id, const Attempt& attempt) = 0;
    // A dead or discarded row queued again, to be sent at once; false for any other state.
    virtual bool replay_outgoing(std::string_view id) = 0;
    // A queued or dead row given up on; false for any other state.
    virtual bool discard_outgoing(std::string_view id, std::string_view reason) = 0;
    virtual void audit(std::string_view client, std::string_view action, std::string_view target,
                       std::string_view detail) = 0;
};

// Returns false to roll back everything the job did (the others in the batch are unaffected).
using Job = std::function<bool(Tx&)>;
// Runs on the writer thread after the commit (committed=true) or its failure (false).
using Done = std::function<void(bool committed)>;

struct Stats {
    std::uint64_t jobs = 0;
    std::uint64_t commits = 0;
    std::uint64_t failed_commits = 0;
    double run_seconds = 0;     // running jobs, inside transactions
    double commit_seconds = 0;  // COMMIT, the fsync included
};

class Store {
public:
    // Opens (creating if needed) <data_dir>/helsebro.db, the directory private to this user;
    // throws std::runtime_error at start-up only. Reads after close() throw.
    explicit Store(const StoreOptions& options);
    ~Store();  // finishes queued jobs, checkpoints and closes
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    // Requests are what a sender waits for; background jobs (processing, delivery records) are
    // Helsebro's own work after an acknowledgement. A batch takes every queued request but at most
    // a few background jobs while requests wait, so an acknowledgement never waits behind a round
    // of mapping results; with no request waiting, background jobs fill whole batches.
    enum class Priority { request, background };
    // False when the queue is full: the caller should answer "busy, retry later". When the store
    // is closing, the job is not run and done(false) is called at once.
    // `bytes` is what the job holds (its request body, roughly), counted against max_queued_bytes.
    bool submit(Job job, Done done, std::size_t bytes = 0, Priority priority = Priority::request);
    // The last commit succeeded and the store is open: what readiness reports.
    bool healthy() const;
    // Stops taking jobs, runs those already queued (or, when !run_queued, ends them with
    // done(false) unrun), checkpoints, closes. Idempotent.
    void close(bool run_queued = true);

    std::optional<ResourceVersion> read(std::string_view type, std::string_view id) const;
    std::optional<ResourceVersion> read_version(std::string_view type, std::string_view id,
                                                std::int64_t version) const;
    std::vector<std::string> ids_by_identifier(std::string_view type, std::string_view system,
                                               std::string_view value) const;
    // Throws std::invalid_argument for a clause the index cannot answer (a test on a column the
    // pseudo-parameters lack).
    SearchPage search(const SearchQuery& query) const;
    // Every page of it, for callers that need the whole set (a mapping's patient record).
    std::vector<ResourceVersion> search_all(SearchQuery query) const;
    // Versions of one resource, newest first, those below `before` (0: from the newest).
    std::vector<ResourceVersion> history(std::string_view type, std::string_view id, std::int64_t before,
                                         std::size_t count) const;
    // Called on the writer thread after each successful commit (keep it short: a wake-up). Set it
    // before submitting work.
    void on_commit(std::function<void()> listener);
    // Stored requests with no processing row, after `after_id`, in the order accepted.
    std::vector<InboxEntry> unprocessed(std::int64_t after_id, std::size_t limit) const;
    // The resource versions a request wrote.
    std::vector<ResourceVersion> written_by(std::int64_t message_id) const;
    // The current versions of every resource linked to the patient.
    std::vector<ResourceVersion> patient_records(std::string_view system, std::string_view value) const;
    // "system|value" of the patients of failed and waiting messages.
    std::vector<std::string> blocked_patients() const;
    // Messages the rules failed on or that wait behind one, oldest first: why, under which rules.
    struct Unfinished {
        std::int64_t message_id = 0;
        std::string state, rule_set, error, updated_at, kind, sender, received_at;
    };
    std::vector<Unfinished> unfinished(std::size_t limit) const;
    std::size_t outbox_size() const;

    // The outbox (adapter/store/outbox.hpp). Queued rows of a recipient after `after_seq`, in order.
    std::vector<Queued> queued(std::string_view recipient, std::int64_t after_seq, std::size_t limit) const;
    // The first queued row of a lane.
    std::optional<Queued> next_in_lane(std::string_view recipient, std::string_view lane) const;
    // The body of a queued row; nullopt once it is delivered, dead or discarded.
    std::optional<std::string> outgoing_body(std::string_view id) const;
    std::optional<OutboxEntry> outgoing(std::string_view id, bool with_body) const;
    // Per recipient with anything queued or dead.
    std::vector<QueueSummary> queue_summary() const;
    std::vector<OutboxEntry> dead_letters(const DeadLetterFilter& filter) const;
    // Newest first, those with id below `before` (0: from the newest).
    std::vector<AuditEntry> audit_log(std::int64_t before, std::size_t limit) const;

    Stats stats() const;
    std::string database_path() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// A new server-assigned resource id: a time-ordered UUID (version 7).
std::string new_id();
// Current time as a FHIR instant, e.g. 2026-11-25T08:30:12.123Z.
std::string now_instant();
std::string to_instant(std::chrono::system_clock::time_point t);
// An instant this store wrote, to the second; nullopt when it is not one.
std::optional<std::chrono::system_clock::time_point> from_instant(const std::string& instant);

}  // namespace helsebro::store
