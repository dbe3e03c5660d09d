// A thin RAII layer over the SQLite C API, private to the store.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace helsebro::store::sqlite {

class Error : public std::runtime_error {
public:
    Error(const std::string& what, int code) : std::runtime_error(what), code_(code) {}
    int code() const { return code_; }

private:
    int code_;
};

class Connection {
public:
    Connection(const std::string& path, int flags, unsigned busy_timeout_ms);
    ~Connection();
    Connection(Connection&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    void exec(const char* sql);
    // The first column of the first row of a query, e.g. a PRAGMA's value.
    std::string query_text(const char* sql);
    sqlite3* handle() const { return db_; }

private:
    sqlite3* db_ = nullptr;
};

// A prepared statement, reset after each use so it can be kept for the connection's life.
class Statement {
public:
    Statement(Connection& c, const char* sql);
    ~Statement();
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    // Binding does not copy: the bytes must stay valid until reset() (Use takes care of that).
    Statement& bind(int i, std::string_view text);
    Statement& bind_blob(int i, std::string_view bytes);
    // A temporary would be gone before step() reads it.
    Statement& bind(int i, std::string&& text) = delete;
    Statement& bind_blob(int i, std::string&& bytes) = delete;
    Statement& bind(int i, std::int64_t v);
    Statement& bind(int i, double v);
    bool step();  // true: a row is ready
    void run();   // step to the end
    void reset();

    std::int64_t int64(int col) const;
    std::string text(int col) const;
    double real(int col) const;
    bool is_null(int col) const;

private:
    sqlite3_stmt* stmt_ = nullptr;
    sqlite3* db_ = nullptr;
};

// Resets the statement when the scope ends, whatever happened in it.
class Use {
public:
    explicit Use(Statement& s) : s_(s) {}
    ~Use() { s_.reset(); }
    Statement* operator->() { return &s_; }

private:
    Statement& s_;
};

}  // namespace helsebro::store::sqlite
