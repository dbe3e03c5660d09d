#include "tests/support/store_inspector.hpp"

#include <sqlite3.h>

#include <memory>
#include <stdexcept>
#include <utility>

namespace helsebro::testing {
namespace {

using Statement = std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)>;

Statement prepare(sqlite3* db, const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr) != SQLITE_OK)
        throw std::runtime_error("SQLite: " + std::string(sqlite3_errmsg(db)) + " in: " + sql);
    if (!stmt) throw std::runtime_error("SQLite: empty statement: " + sql);
    return {stmt, &sqlite3_finalize};
}

// Returns true when a row is available, false when done; throws otherwise.
bool step(sqlite3* db, sqlite3_stmt* stmt, const std::string& sql) {
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error("SQLite: " + std::string(sqlite3_errmsg(db)) + " in: " + sql);
}

}  // namespace

StoreInspector::StoreInspector(const std::filesystem::path& data_dir)
    : StoreInspector(FileTag{}, data_dir / "helsebro.db") {}

StoreInspector StoreInspector::open_file(const std::filesystem::path& db_file) {
    return StoreInspector(FileTag{}, db_file);
}

StoreInspector::StoreInspector(FileTag, const std::filesystem::path& db_file) : path_(db_file) {
    int rc = sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
        sqlite3_close(db_);
        db_ = nullptr;
        throw std::runtime_error("SQLite: cannot open " + path_.string() + " read-only: " + msg);
    }
    // WAL readers can still see SQLITE_BUSY briefly (WAL recovery or a
    // checkpoint restarting the log); wait instead of failing the test.
    sqlite3_busy_timeout(db_, 5000);
}

StoreInspector::~StoreInspector() {
    if (db_) sqlite3_close(db_);
}

StoreInspector::StoreInspector(StoreInspector&& o) noexcept
    : path_(std::move(o.path_)), db_(std::exchange(o.db_, nullptr)) {}

StoreInspector& StoreInspector::operator=(StoreInspector&& o) noexcept {
    if (this != &o) {
        if (db_) sqlite3_close(db_);
        path_ = std::move(o.path_);
        db_ = std::exchange(o.db_, nullptr);
    }
    return *this;
}

std::int64_t StoreInspector::scalar(const std::string& sql) {
    if (!db_) throw std::logic_error("StoreInspector: moved-from");
    auto stmt = prepare(db_, sql);
    if (!step(db_, stmt.get(), sql)) throw std::runtime_error("SQLite: no row from: " + sql);
    return sqlite3_column_int64(stmt.get(), 0);
}

std::vector<std::vector<std::string>> StoreInspector::rows(const std::string& sql) {
    if (!db_) throw std::logic_error("StoreInspector: moved-from");
    auto stmt = prepare(db_, sql);
    std::vector<std::vector<std::string>> out;
    const int columns = sqlite3_column_count(stmt.get());
    while (step(db_, stmt.get(), sql)) {
        auto& row = out.emplace_back();
        row.reserve(static_cast<std::size_t>(columns));
        for (int c = 0; c < columns; ++c) {
            const auto* text = sqlite3_column_text(stmt.get(), c);
            const int len = sqlite3_column_bytes(stmt.get(), c);
            row.emplace_back(text ? std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(len))
                                  : std::string{});
        }
    }
    return out;
}

}  // namespace helsebro::testing
