#include <algorithm>
#include <cstring>
#include <tuple>
#include <limits>
#include <stdexcept>

#include "adapter/store/search_sql.hpp"
#include "fhir/search_params.hpp"

namespace helsebro::store {

namespace {

using sqlite::Statement;
using sqlite::Use;

IndexRow row_of(fhir::search::Entry& e) {
    using fhir::search::Kind;
    switch (e.kind) {
        case Kind::number: return {std::move(e.param), e.number, {}};
        case Kind::quantity: return {std::move(e.param), e.number, e.b + "|" + e.a};  // system|code
        default: return {std::move(e.param), std::move(e.a), std::move(e.b)};
    }
}

void bind_column(Statement& s, int i, const Column& c) {
    if (const auto* text = std::get_if<std::string>(&c))
        s.bind(i, std::string_view(*text));
    else
        s.bind(i, std::get<double>(c));
}

// A version's rows as earlier builds kept them in search_resource.rows: per row the parameter, a
// tag (t: text, n: number), a and b, each text length-prefixed; a number as its 8 bytes.
// Written by an earlier build's encode_rows (on this machine); a truncated or foreign blob ends
// the list where it stops making sense, leaving stale rows at worst.
std::vector<IndexRow> decode_rows(std::string_view in) {
    std::vector<IndexRow> out;
    auto take = [&](std::size_t n) {
        if (in.size() < n) throw std::out_of_range("short");
        auto part = in.substr(0, n);
        in.remove_prefix(n);
        return part;
    };
    auto text = [&] {
        std::uint32_t n = 0;
        std::memcpy(&n, take(sizeof n).data(), sizeof n);
        return std::string(take(n));
    };
    try {
        while (!in.empty()) {
            IndexRow r;
            r.param = text();
            if (take(1)[0] == 't') {
                r.a = text();
            } else {
                double d = 0;
                std::memcpy(&d, take(sizeof d).data(), sizeof d);
                r.a = d;
            }
            r.b = text();
            out.push_back(std::move(r));
        }
    } catch (const std::out_of_range&) {
    }
    return out;
}

ResourceVersion version_at(Statement& s, int first) {
    ResourceVersion v;
    v.type = s.text(first);
    v.id = s.text(first + 1);
    v.version = s.int64(first + 2);
    v.last_updated = s.text(first + 3);
    v.deleted = s.int64(first + 4) != 0;
    v.json = s.text(first + 5);
    return v;
}

// Builds the WHERE terms of a query with numbered parameters, keeping what they bind.
class QueryBuilder {
public:
    explicit QueryBuilder(std::vector<const Column*>& binds) : binds_(binds) {}

    std::string clause(const Clause& c) {
        bool pseudo = c.param == "_id" || c.param == "_lastUpdated";
        if (c.missing) {
            if (pseudo) throw std::invalid_argument(c.param + " is never missing");
            drives |= !*c.missing;
            return std::string(*c.missing ? "r.key NOT IN (" : "r.key IN (") +
                   "SELECT i.key FROM search_index i WHERE i.type = ?1 AND i.param = " + text(c.param) + key_range + ")";
        }
        if (c.any.empty()) throw std::invalid_argument("a clause on " + c.param + " has no value");
        std::string positive, out;
        for (const auto& alt : c.any) {
            std::string tests = all_of(c.param, alt.tests, pseudo);
            if (pseudo) {
                if (alt.negated) tests = "NOT " + tests;
                append_or(out, tests);
            } else if (alt.negated) {
                append_or(out, "r.key NOT IN (" + rows_where(c.param, tests) + ")");
            } else {
                append_or(positive, tests);
            }
        }
        if (!positive.empty()) {
            drives |= out.empty();  // only an IN that nothing is OR'ed with narrows the keys
            append_or(out, "r.key IN (" + rows_where(c.param, positive) + ")");
        }
        return "(" + out + ")";
    }

private:
    // SQLite then reads the matching keys in order from the subquery's list and looks each up,
    // rather than scanning every resource of the type and testing it against the list: the key
    // range must be in the subqueries and, when one of them drives, not on the outer table.
    static constexpr const char* key_range = " AND i.key > ?2 AND i.key <= ?3";

    static void append_or(std::string& out, const std::string& term) {
        if (!out.empty()) out += " OR ";
        out += term;
    }

    std::string rows_where(const std::string& param, const std::string& tests) {
        return "SELECT i.key FROM search_index i WHERE i.type = ?1 AND i.param = " + text(param) + " AND (" + tests + ")" +
               key_range;
    }

    std::string all_of(const std::string& param, const std::vector<Test>& tests, bool pseudo) {
        if (tests.empty()) return "1";
        std::string out = "(";
        for (std::size_t k = 0; k < tests.size(); ++k) {
            if (k) out += " AND ";
            out += test(column(param, tests[k].column, pseudo), tests[k]);
        }
        return out + ")";
    }

    static std::string column(const std::string& param, Test::On on, bool pseudo) {
        if (!pseudo) return on == Test::On::a ? "i.a" : "i.b";
        if (param == "_lastUpdated") return "r.last_updated";
        if (on == Test::On::b) throw std::invalid_argument("_id has no second column");
        return "r.id";
    }

    std::string test(const std::string& col, const Test& t) {
        std::string v = bind(t.value);
        switch (t.op) {
            case Test::Op::eq: return col + " = " + v;
            case Test::Op::lt: return col + " < " + v;
            case Test::Op::le: return col + " <= " + v;
            case Test::Op::gt: return col + " > " + v;
            case Test::Op::ge: return col + " >= " + v;
            // A range, so that the index serves it; U+10FFFF sorts after any text with this prefix.
            case Test::Op::starts_with: return "(" + col + " >= " + v + " AND " + col + " < " + v + " || char(1114111))";
            case Test::Op::contains: return "instr(" + col + ", " + v + ") > 0";
            case Test::Op::ends_with: return "substr(" + col + ", -length(" + v + ")) = " + v;
        }
        return "0";
    }

    std::string text(const std::string& s) {
        owned_.push_back(std::make_unique<Column>(s));
        return bind(*owned_.back());
    }

    std::string bind(const Column& c) {
        binds_.push_back(&c);
        return "?" + std::to_string(binds_.size() + first_bind);
    }

public:
    static constexpr int first_bind = 4;  // ?1 type, ?2 after, ?3 snapshot, ?4 limit
    bool drives = false;  // a clause's IN list alone bounds the result: the outer table needs no scan

private:
    std::vector<const Column*>& binds_;
    std::vector<std::unique_ptr<Column>> owned_;
};

}  // namespace

SearchIndex make_search_index(const fhir::json::Value& resource, std::string_view type) {
    SearchIndex index;
    auto entries = fhir::search::extract(resource, type);
    index.rows.reserve(entries.size());
    for (auto& e : entries) index.rows.push_back(row_of(e));
    return index;
}

SearchIndex make_search_index(std::string_view json, std::string_view type) {
    auto parsed = fhir::json::parse(json, fhir::json::ParseLimits{256});
    return parsed.value ? make_search_index(*parsed.value, type) : SearchIndex{};
}

Clause reference_identifier(std::string_view param, std::string_view system, std::string_view value) {
    return token(std::string(param) + ":identifier", system, value);
}

Clause token(std::string_view param, std::string_view system, std::string_view code) {
    Alternative alt{{{Test::On::a, Test::Op::eq, std::string(code)}}, false};
    if (!system.empty()) alt.tests.push_back({Test::On::b, Test::Op::eq, std::string(system)});
    return Clause{std::string(param), {std::move(alt)}, std::nullopt};
}

Clause reference(std::string_view param, std::string_view type, std::string_view id) {
    Alternative alt{{{Test::On::a, Test::Op::eq, std::string(id)}, {Test::On::b, Test::Op::eq, std::string(type)}}, false};
    return Clause{std::string(param), {std::move(alt)}, std::nullopt};
}

IndexWriter::IndexWriter(sqlite::Connection& db)
    : first_version_(db, "SELECT rowid FROM resource_version WHERE type = ?1 AND id = ?2 ORDER BY version LIMIT 1"),
      current_rows_(db, "SELECT rows, deleted FROM search_resource WHERE type = ?1 AND key = ?2"),
      previous_body_(db, "SELECT body FROM resource_version WHERE type = ?1 AND id = ?2 AND version = ?3"),
      upsert_resource_(db,
                       "INSERT INTO search_resource (type, key, id, version, last_updated, deleted, rows) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (type, key) DO UPDATE SET "
                       "version = excluded.version, last_updated = excluded.last_updated, "
                       "deleted = excluded.deleted, rows = excluded.rows"),
      delete_row_(db, "DELETE FROM search_index WHERE type = ?1 AND param = ?2 AND a = ?3 AND b = ?4 AND key = ?5"),
      insert_row_(db, "INSERT OR IGNORE INTO search_index (type, param, a, b, key) VALUES (?1, ?2, ?3, ?4, ?5)") {}

std::int64_t IndexWriter::key_of(const ResourceVersion& v, std::int64_t rowid) {
    if (v.version == 1) return rowid;  // versions start at 1: this row is the first
    Use s(first_version_);
    s->bind(1, v.type).bind(2, v.id);
    return s->step() ? first_version_.int64(0) : rowid;
}

std::vector<IndexRow> IndexWriter::current_rows(const ResourceVersion& v, std::int64_t key) {
    // The previous version's rows, made again from its body (the same function made them, so
    // they are what was inserted). Databases written before kept them in search_resource.rows:
    // those are used while they last.
    {
        Use s(current_rows_);
        s->bind(1, v.type).bind(2, key);
        if (!s->step() || current_rows_.int64(1) != 0) return {};  // not indexed yet, or deleted
        if (!current_rows_.is_null(0) && !current_rows_.text(0).empty()) return decode_rows(current_rows_.text(0));
    }
    Use s(previous_body_);
    s->bind(1, v.type).bind(2, v.id).bind(3, v.version - 1);
    if (!s->step()) return {};
    return make_search_index(previous_body_.text(0), v.type).rows;
}

bool IndexWriter::drop_pending(const std::string& type, std::int64_t key, const IndexRow& row) {
    auto it = pending_by_key_.find({type, key});
    if (it == pending_by_key_.end()) return false;
    for (std::size_t i : it->second) {
        Pending& p = pending_[i];
        if (!p.dropped && p.row.param == row.param && p.row.a == row.a && p.row.b == row.b) {
            p.dropped = true;
            dropped_in_job_.push_back(i);
            return true;
        }
    }
    return false;
}

void IndexWriter::index_pending() {
    pending_by_key_.clear();
    for (std::size_t i = flushed_; i < pending_.size(); ++i) pending_by_key_[{pending_[i].type, pending_[i].key}].push_back(i);
}

void IndexWriter::write(const ResourceVersion& v, std::int64_t rowid, const SearchIndex& index) {
    static const SearchIndex none;
    const SearchIndex& rows = v.deleted ? none : index;
    std::int64_t key = key_of(v, rowid);
    // Only what changed between the versions: a care plan that gains an activity keeps the rest of
    // its rows, which were most of the writer's deletes and inserts.
    auto before = v.version > 1 ? current_rows(v, key) : std::vector<IndexRow>{};
    auto after = rows.rows;
    const auto less = [](const IndexRow& x, const IndexRow& y) { return std::tie(x.param, x.a, x.b) < std::tie(y.param, y.a, y.b); };
    const auto same = [&](const IndexRow& x, const IndexRow& y) { return !less(x, y) && !less(y, x); };
    std::sort(before.begin(), before.end(), less);
    before.erase(std::unique(before.begin(), before.end(), same), before.end());
    std::sort(after.begin(), after.end(), less);
    after.erase(std::unique(after.begin(), after.end(), same), after.end());
    std::vector<IndexRow> gone, added;
    std::set_difference(before.begin(), before.end(), after.begin(), after.end(), std::back_inserter(gone), less);
    std::set_difference(after.begin(), after.end(), before.begin(), before.end(), std::back_inserter(added), less);
    for (const auto& row : gone) {
        if (drop_pending(v.type, key, row)) continue;
        Use s(delete_row_);
        s->bind(1, v.type).bind(2, row.param);
        bind_column(delete_row_, 3, row.a);
        s->bind(4, row.b).bind(5, key);
        s->run();
    }
    {
        // rows: kept empty; the next version makes them again from this one's body (storing them
        // was a fifth of the bytes written per message).
        Use s(upsert_resource_);
        s->bind(1, v.type).bind(2, key).bind(3, v.id).bind(4, v.version).bind(5, v.last_updated);
        s->bind(6, std::int64_t{v.deleted}).bind_blob(7, std::string_view("", 0));  // not NULL: a zero-length blob
        s->run();
    }
    auto& places = pending_by_key_[{v.type, key}];
    for (auto& row : added) {
        places.push_back(pending_.size());
        pending_.push_back({v.type, std::move(row), key});
    }
}

void IndexWriter::insert(const Pending& p) {
    Use s(insert_row_);
    s->bind(1, p.type).bind(2, p.row.param);
    bind_column(insert_row_, 3, p.row.a);
    s->bind(4, p.row.b).bind(5, p.key);
    s->run();
}

void IndexWriter::flush(bool in_job) {
    auto first = pending_.begin() + static_cast<std::ptrdiff_t>(flushed_);
    // The table's order: neighbours share pages, so the batch touches each page once. Not inside
    // a job: job_rolled_back() finds the job's own rows by their place at the end.
    if (!in_job) {
        std::sort(first, pending_.end(), [](const Pending& x, const Pending& y) {
            return std::tie(x.type, x.row.param, x.row.a, x.row.b, x.key) <
                   std::tie(y.type, y.row.param, y.row.a, y.row.b, y.key);
        });
    }
    for (auto it = first; it != pending_.end(); ++it)
        if (!it->dropped) insert(*it);
    flushed_ = pending_.size();
    pending_by_key_.clear();
}

void IndexWriter::job_started() {
    job_pending_ = pending_.size();
    job_flushed_ = flushed_;
    dropped_in_job_.clear();
}

void IndexWriter::batch_ended() {
    pending_.clear();
    pending_by_key_.clear();
    dropped_in_job_.clear();
    flushed_ = job_pending_ = job_flushed_ = 0;
}

void IndexWriter::job_rolled_back() {
    // ROLLBACK TO undid whatever this job inserted, earlier jobs' rows flushed meanwhile included.
    for (std::size_t i : dropped_in_job_)
        if (i < job_pending_) pending_[i].dropped = false;
    dropped_in_job_.clear();
    pending_.resize(job_pending_);
    flushed_ = job_flushed_;
    index_pending();
}

std::size_t backfill_search_index(sqlite::Connection& db) {
    IndexWriter writer(db);
    Statement all(db, "SELECT rowid, type, id, version, last_updated, deleted, body FROM resource_version "
                      "ORDER BY type, id, version");
    std::size_t resources = 0;
    std::optional<ResourceVersion> current;  // the highest version seen of the resource at hand
    std::int64_t current_rowid = 0;
    auto flush = [&] {
        if (!current) return;
        writer.write(*current, current_rowid, make_search_index(current->json, current->type));
        ++resources;
    };
    Use s(all);
    while (s->step()) {
        auto v = version_at(all, 1);
        if (current && (current->type != v.type || current->id != v.id)) flush();
        current = std::move(v);
        current_rowid = all.int64(0);
    }
    flush();
    writer.flush(/*in_job=*/false);
    return resources;
}

SearchRunner::SearchRunner(sqlite::Connection& db)
    : db_(db),
      snapshot_(db, "SELECT coalesce(max(rowid), 0) FROM resource_version"),
      history_(db,
               "SELECT type, id, version, last_updated, deleted, body FROM resource_version "
               "WHERE type = ?1 AND id = ?2 AND version < ?3 ORDER BY version DESC LIMIT ?4") {}

Statement& SearchRunner::prepared(const std::string& sql) {
    if (auto it = cache_.find(sql); it != cache_.end()) return *it->second;
    if (cache_.size() >= 64) cache_.clear();  // hostile variety: start over rather than grow
    return *cache_.emplace(sql, std::make_unique<Statement>(db_, sql.c_str())).first->second;
}

SearchPage SearchRunner::run(const SearchQuery& q) {
    SearchPage page;
    page.snapshot = q.snapshot;
    if (page.snapshot == 0) {
        Use s(snapshot_);
        page.snapshot = s->step() ? snapshot_.int64(0) : 0;
    }
    std::vector<const Column*> binds;
    QueryBuilder builder(binds);
    std::string sql =
        "SELECT r.key, v.type, v.id, v.version, v.last_updated, v.deleted, v.body FROM search_resource r "
        "JOIN resource_version v ON v.type = r.type AND v.id = r.id AND v.version = r.version "
        "WHERE r.type = ?1 AND r.deleted = 0";
    for (const auto& c : q.clauses) sql += " AND " + builder.clause(c);
    if (!builder.drives) sql += " AND r.key > ?2 AND r.key <= ?3";
    sql += " ORDER BY r.key LIMIT ?4";

    Statement& st = prepared(sql);
    Use s(st);
    auto count = static_cast<std::int64_t>(std::max<std::size_t>(q.count, 1));
    s->bind(1, q.type).bind(2, q.after).bind(3, page.snapshot).bind(4, count + 1);
    for (std::size_t i = 0; i < binds.size(); ++i)
        bind_column(st, static_cast<int>(i) + QueryBuilder::first_bind + 1, *binds[i]);
    std::int64_t last_key = 0;
    while (s->step()) {
        if (static_cast<std::int64_t>(page.resources.size()) == count) {
            page.next_after = last_key;
            break;
        }
        last_key = st.int64(0);
        page.resources.push_back(version_at(st, 1));
    }
    return page;
}

std::vector<ResourceVersion> SearchRunner::history(std::string_view type, std::string_view id, std::int64_t before,
                                                   std::size_t count) {
    Use s(history_);
    s->bind(1, type).bind(2, id);
    s->bind(3, before > 0 ? before : std::numeric_limits<std::int64_t>::max());
    s->bind(4, static_cast<std::int64_t>(count));
    std::vector<ResourceVersion> out;
    while (s->step()) out.push_back(version_at(history_, 0));
    return out;
}

}  // namespace helsebro::store
