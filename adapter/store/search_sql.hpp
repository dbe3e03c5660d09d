// The search index in SQL, private to the store: writing a version's rows (on the writer's
// connection) and answering queries (on any connection).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <map>
#include <unordered_map>
#include <vector>

#include "adapter/store/search.hpp"
#include "adapter/store/sqlite.hpp"
#include "adapter/store/store.hpp"

namespace helsebro::store {

// Writes index rows on the writer's connection. A version's search_resource row is written at
// once; its search_index rows wait until the batch is about to commit (flush()), then go in sorted
// by the index's key. Inserted one job at a time, inside each job's SAVEPOINT, the rows landed on
// a different page each and every page was copied to the savepoint's journal: that was most of
// the writer's time. Still one transaction: the rows commit with their versions or not at all.
class IndexWriter {
public:
    explicit IndexWriter(sqlite::Connection& db);
    // Makes `index` what `v` is found by. `rowid`: of v's row in resource_version, just inserted.
    void write(const ResourceVersion& v, std::int64_t rowid, const SearchIndex& index);
    // Inserts the rows still waiting: before COMMIT, and before anything reads search_index
    // (`in_job`: from inside a job, which may yet roll back).
    void flush(bool in_job);
    // Around each job: what a job that rolls back leaves waiting is what waited before it.
    void job_started();
    void job_rolled_back();
    // After COMMIT or ROLLBACK of the batch: nothing waits any more.
    void batch_ended();

private:
    struct Pending {
        std::string type;
        IndexRow row;
        std::int64_t key;
        bool dropped = false;  // a later version of the batch no longer has it: never inserted
    };

    std::int64_t key_of(const ResourceVersion& v, std::int64_t rowid);
    std::vector<IndexRow> current_rows(const ResourceVersion& v, std::int64_t key);
    // Takes a row out of pending_ when it waits there; false when it is in the table.
    bool drop_pending(const std::string& type, std::int64_t key, const IndexRow& row);
    void index_pending();
    void insert(const Pending& p);

    sqlite::Statement first_version_, current_rows_, previous_body_, upsert_resource_, delete_row_, insert_row_;
    std::vector<Pending> pending_;
    // The places in pending_ (past flushed_) of each resource's rows, so that a later version in
    // the same batch drops them there instead of flushing the batch to delete them.
    std::map<std::pair<std::string, std::int64_t>, std::vector<std::size_t>> pending_by_key_;
    std::vector<std::size_t> dropped_in_job_;  // revived when the job rolls back
    std::size_t flushed_ = 0;  // pending_[0, flushed_) are in the table (inside this transaction)
    std::size_t job_pending_ = 0, job_flushed_ = 0;  // both at the start of the current job
};

// Indexes every resource of a database made before search existed: its current versions only.
// Returns how many resources.
std::size_t backfill_search_index(sqlite::Connection& db);

class SearchRunner {
public:
    explicit SearchRunner(sqlite::Connection& db);
    SearchPage run(const SearchQuery& query);
    std::vector<ResourceVersion> history(std::string_view type, std::string_view id, std::int64_t before,
                                         std::size_t count);

private:
    // Queries of one shape share a prepared statement; a few dozen shapes cover what clients send.
    sqlite::Statement& prepared(const std::string& sql);

    sqlite::Connection& db_;
    sqlite::Statement snapshot_, history_;
    std::unordered_map<std::string, std::unique_ptr<sqlite::Statement>> cache_;
};

}  // namespace helsebro::store
