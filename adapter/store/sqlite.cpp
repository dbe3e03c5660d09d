#include "adapter/store/sqlite.hpp"

namespace helsebro::store::sqlite {

namespace {
[[noreturn]] void fail(sqlite3* db, int rc, std::string_view what) {
    std::string msg(what);
    msg += ": ";
    msg += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    throw Error(msg, rc);
}
}  // namespace

Connection::Connection(const std::string& path, int flags, unsigned busy_timeout_ms) {
    int rc = sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = "cannot open database " + path + ": " +
                          (db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
        sqlite3_close(db_);
        db_ = nullptr;
        throw Error(msg, rc);
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, static_cast<int>(busy_timeout_ms));
}

Connection::~Connection() { sqlite3_close_v2(db_); }

void Connection::exec(const char* sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string msg = std::string("SQL failed: ") + (err ? err : sqlite3_errstr(rc));
        sqlite3_free(err);
        throw Error(msg, rc);
    }
}

std::string Connection::query_text(const char* sql) {
    Statement s(*this, sql);
    std::string value = s.step() ? s.text(0) : std::string();
    s.reset();
    return value;
}

Statement::Statement(Connection& c, const char* sql) : db_(c.handle()) {
    int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
    if (rc != SQLITE_OK) fail(db_, rc, "cannot prepare statement");
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::bind(int i, std::string_view text) {
    int rc = sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
    if (rc != SQLITE_OK) fail(db_, rc, "cannot bind");
    return *this;
}

Statement& Statement::bind_blob(int i, std::string_view bytes) {
    int rc = sqlite3_bind_blob64(stmt_, i, bytes.data(), bytes.size(), SQLITE_STATIC);
    if (rc != SQLITE_OK) fail(db_, rc, "cannot bind");
    return *this;
}

Statement& Statement::bind(int i, std::int64_t v) {
    int rc = sqlite3_bind_int64(stmt_, i, v);
    if (rc != SQLITE_OK) fail(db_, rc, "cannot bind");
    return *this;
}

Statement& Statement::bind(int i, double v) {
    int rc = sqlite3_bind_double(stmt_, i, v);
    if (rc != SQLITE_OK) fail(db_, rc, "cannot bind");
    return *this;
}

bool Statement::step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(db_, rc, "statement failed");
}

void Statement::run() {
    while (step()) {
    }
}

void Statement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

std::int64_t Statement::int64(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string Statement::text(int col) const {
    const void* p = sqlite3_column_blob(stmt_, col);
    int n = sqlite3_column_bytes(stmt_, col);
    return p ? std::string(static_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
}

double Statement::real(int col) const { return sqlite3_column_double(stmt_, col); }

bool Statement::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

}  // namespace helsebro::store::sqlite
