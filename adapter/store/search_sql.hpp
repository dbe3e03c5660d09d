// The search index in SQL, private to the store: writing a version's rows (on the writer's
// connection) and answering queries (on any connection).
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "adapter/store/search.hpp"
#include "adapter/store/sqlite.hpp"
#include "adapter/store/store.hpp"

namespace helsebro::store {

class IndexWriter {
public:
    explicit IndexWriter(sqlite::Connection& db);
    // Makes `index` what `v` is found by. `rowid`: of v's row in resource_version, just inserted.
    void write(const ResourceVersion& v, std::int64_t rowid, const SearchIndex& index);

private:
    std::int64_t key_of(const ResourceVersion& v, std::int64_t rowid);

    void remove_rows(const ResourceVersion& v, std::int64_t key);

    sqlite::Statement first_version_, current_rows_, upsert_resource_, delete_row_, insert_row_;
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
