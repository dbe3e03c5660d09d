#pragma once
// Read-only view of the daemon's SQLite store, for asserting on persisted
// state. Opening read-only is safe while the daemon runs: the store is in WAL
// mode, where readers never block the writer.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

struct sqlite3;

namespace helsebro::testing {

class StoreInspector {
public:
    // Opens <data_dir>/helsebro.db with SQLITE_OPEN_READONLY. Throws
    // std::runtime_error (with SQLite's message) if it does not exist yet.
    explicit StoreInspector(const std::filesystem::path& data_dir);
    // Opens an arbitrary database file read-only.
    static StoreInspector open_file(const std::filesystem::path& db_file);
    ~StoreInspector();
    StoreInspector(StoreInspector&&) noexcept;
    StoreInspector& operator=(StoreInspector&&) noexcept;
    StoreInspector(const StoreInspector&) = delete;
    StoreInspector& operator=(const StoreInspector&) = delete;

    // First column of the first row as an integer (NULL reads as 0).
    // Throws if the statement fails or returns no row.
    std::int64_t scalar(const std::string& sql);
    // All rows, every column as text; NULL becomes "".
    std::vector<std::vector<std::string>> rows(const std::string& sql);

    const std::filesystem::path& path() const { return path_; }

private:
    struct FileTag {};
    StoreInspector(FileTag, const std::filesystem::path& db_file);

    std::filesystem::path path_;
    sqlite3* db_ = nullptr;
};

}  // namespace helsebro::testing
