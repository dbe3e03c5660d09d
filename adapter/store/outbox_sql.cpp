#include "adapter/store/outbox_sql.hpp"

#include <algorithm>

namespace helsebro::store {

using sqlite::Statement;
using sqlite::Use;

namespace {

#define HELSEBRO_QUEUED_COLUMNS \
    "rowid, id, recipient, lane, message_id, created_at, attempts, next_attempt_ms, " \
    "CASE WHEN replayed_at <> '' THEN replayed_at ELSE created_at END"
constexpr const char* queued_columns = HELSEBRO_QUEUED_COLUMNS;
constexpr const char* entry_columns =
    HELSEBRO_QUEUED_COLUMNS ", state, last_attempt_at, last_status, last_error, last_response, finished_at, reason";
#undef HELSEBRO_QUEUED_COLUMNS

std::string sql(const char* head, const char* columns, const char* tail) {
    return std::string(head) + columns + tail;
}

Queued queued_from(Statement& s) {
    return Queued{s.int64(0), s.text(1), s.text(2), s.text(3), s.int64(4), s.text(5), s.int64(6), s.int64(7), s.text(8)};
}

OutboxEntry entry_from(Statement& s) {
    OutboxEntry e;
    e.queued = queued_from(s);
    e.state = s.text(9);
    e.last_attempt_at = s.text(10);
    e.last_status = static_cast<int>(s.int64(11));
    e.last_error = s.text(12);
    e.last_response = s.text(13);
    e.finished_at = s.text(14);
    e.reason = s.text(15);
    return e;
}

bool changed(sqlite::Connection& db) { return sqlite3_changes(db.handle()) > 0; }

}  // namespace

OutboxWriter::OutboxWriter(sqlite::Connection& db)
    : db_(db),
      queue_(db,
             "INSERT OR IGNORE INTO outbox (id, message_id, recipient, created_at, body, lane) "
             "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
      // A delivery is the truth whatever an administrator decided while it was under way.
      record_(db,
              "UPDATE outbox SET attempts = attempts + 1, last_attempt_at = ?2, last_status = ?3, last_error = ?4, "
              "last_response = ?5, next_attempt_ms = ?6, state = ?7, "
              "finished_at = CASE WHEN ?7 = 'queued' THEN '' ELSE ?2 END, "
              "reason = CASE WHEN ?7 = 'dead' THEN ?4 ELSE reason END "
              "WHERE id = ?1 AND (state = 'queued' OR (?7 = 'delivered' AND state = 'discarded'))"),
      replay_(db,
              "UPDATE outbox SET state = 'queued', attempts = 0, next_attempt_ms = 0, finished_at = '', reason = '', "
              "replayed_at = ?2 WHERE id = ?1 AND state IN ('dead', 'discarded')"),
      discard_(db,
               "UPDATE outbox SET state = 'discarded', finished_at = ?3, reason = ?2 "
               "WHERE id = ?1 AND state IN ('queued', 'dead')"),
      audit_(db, "INSERT INTO audit (at, client, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5)") {}

void OutboxWriter::queue(std::string_view id, std::int64_t message_id, std::string_view recipient,
                         std::string_view lane, std::string_view body, const std::string& now) {
    Use s(queue_);
    s->bind(1, id).bind(2, message_id).bind(3, recipient).bind(4, now).bind_blob(5, body).bind(6, lane);
    s->run();
}

bool OutboxWriter::record(std::string_view id, const Attempt& a, const std::string& now) {
    const char* state = a.result == Attempt::Result::delivered ? "delivered"
                        : a.result == Attempt::Result::dead    ? "dead"
                                                               : "queued";
    Use s(record_);
    s->bind(1, id).bind(2, now).bind(3, std::int64_t{a.status}).bind(4, a.error).bind_blob(5, a.response);
    s->bind(6, a.next_attempt_ms).bind(7, std::string_view(state));
    s->run();
    return changed(db_);
}

bool OutboxWriter::replay(std::string_view id, const std::string& now) {
    Use s(replay_);
    s->bind(1, id).bind(2, now);
    s->run();
    return changed(db_);
}

bool OutboxWriter::discard(std::string_view id, std::string_view reason, const std::string& now) {
    Use s(discard_);
    s->bind(1, id).bind(2, reason).bind(3, now);
    s->run();
    return changed(db_);
}

void OutboxWriter::audit(std::string_view client, std::string_view action, std::string_view target,
                         std::string_view detail, const std::string& now) {
    Use s(audit_);
    s->bind(1, now).bind(2, client).bind(3, action).bind(4, target).bind(5, detail);
    s->run();
}

OutboxReader::OutboxReader(sqlite::Connection& db)
    : queued_(db, sql("SELECT ", queued_columns,
                      " FROM outbox INDEXED BY outbox_queued WHERE recipient = ?1 AND state = 'queued' AND rowid > ?2 "
                      "ORDER BY rowid LIMIT ?3")
                      .c_str()),
      next_(db, sql("SELECT ", queued_columns,
                    " FROM outbox INDEXED BY outbox_lane WHERE recipient = ?1 AND lane = ?2 AND state = 'queued' "
                    "ORDER BY rowid LIMIT 1")
                    .c_str()),
      body_(db, "SELECT body FROM outbox WHERE id = ?1 AND state = 'queued'"),
      entry_(db, sql("SELECT ", entry_columns, ", CASE WHEN ?2 THEN body ELSE '' END FROM outbox WHERE id = ?1").c_str()),
      queued_summary_(db,
                      "SELECT q.recipient, q.n, (SELECT created_at FROM outbox WHERE rowid = q.first) FROM "
                      "(SELECT recipient, count(*) AS n, min(rowid) AS first FROM outbox INDEXED BY outbox_queued "
                      "WHERE state = 'queued' GROUP BY recipient) q"),
      dead_summary_(db,
                    "SELECT recipient, count(*) FROM outbox INDEXED BY outbox_dead WHERE state = 'dead' "
                    "GROUP BY recipient"),
      dead_(db, sql("SELECT ", entry_columns,
                    " FROM outbox WHERE state = 'dead' AND (?1 = '' OR recipient = ?1) AND (?2 = '' OR created_at >= ?2) "
                    "AND (?3 = '' OR created_at < ?3) AND (?4 = 0 OR last_status = ?4) AND (?5 = 0 OR message_id = ?5) "
                    "AND rowid > ?6 ORDER BY rowid LIMIT ?7")
                    .c_str()),
      audit_(db,
             "SELECT id, at, client, action, target, detail FROM audit WHERE (?1 = 0 OR id < ?1) "
             "ORDER BY id DESC LIMIT ?2") {}

std::vector<Queued> OutboxReader::queued(std::string_view recipient, std::int64_t after_seq, std::size_t limit) {
    Use s(queued_);
    s->bind(1, recipient).bind(2, after_seq).bind(3, static_cast<std::int64_t>(limit));
    std::vector<Queued> out;
    while (s->step()) out.push_back(queued_from(queued_));
    return out;
}

std::optional<Queued> OutboxReader::next_in_lane(std::string_view recipient, std::string_view lane) {
    Use s(next_);
    s->bind(1, recipient).bind(2, lane);
    if (!s->step()) return std::nullopt;
    return queued_from(next_);
}

std::optional<std::string> OutboxReader::body(std::string_view id) {
    Use s(body_);
    s->bind(1, id);
    if (!s->step()) return std::nullopt;
    return body_.text(0);
}

std::optional<OutboxEntry> OutboxReader::entry(std::string_view id, bool with_body) {
    Use s(entry_);
    s->bind(1, id).bind(2, std::int64_t{with_body});
    if (!s->step()) return std::nullopt;
    OutboxEntry e = entry_from(entry_);
    e.body = entry_.text(16);
    return e;
}

std::vector<QueueSummary> OutboxReader::summary() {
    std::vector<QueueSummary> out;
    {
        Use s(queued_summary_);
        while (s->step()) out.push_back(QueueSummary{queued_summary_.text(0), queued_summary_.int64(1), queued_summary_.text(2), 0});
    }
    Use s(dead_summary_);
    while (s->step()) {
        const std::string recipient = dead_summary_.text(0);
        auto it = std::find_if(out.begin(), out.end(), [&](const QueueSummary& q) { return q.recipient == recipient; });
        if (it == out.end()) it = out.insert(out.end(), QueueSummary{recipient, 0, "", 0});
        it->dead = dead_summary_.int64(1);
    }
    std::sort(out.begin(), out.end(), [](const QueueSummary& a, const QueueSummary& b) { return a.recipient < b.recipient; });
    return out;
}

std::vector<OutboxEntry> OutboxReader::dead_letters(const DeadLetterFilter& f) {
    Use s(dead_);
    s->bind(1, f.recipient).bind(2, f.since).bind(3, f.until).bind(4, std::int64_t{f.status}).bind(5, f.message_id);
    s->bind(6, f.after_seq).bind(7, static_cast<std::int64_t>(f.limit));
    std::vector<OutboxEntry> out;
    while (s->step()) out.push_back(entry_from(dead_));
    return out;
}

std::vector<AuditEntry> OutboxReader::audit_log(std::int64_t before, std::size_t limit) {
    Use s(audit_);
    s->bind(1, before).bind(2, static_cast<std::int64_t>(limit));
    std::vector<AuditEntry> out;
    while (s->step())
        out.push_back(AuditEntry{audit_.int64(0), audit_.text(1), audit_.text(2), audit_.text(3), audit_.text(4), audit_.text(5)});
    return out;
}

}  // namespace helsebro::store
