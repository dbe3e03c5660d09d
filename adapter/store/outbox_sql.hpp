// The outbox in SQL, private to the store: its writes on the writer's connection, its reads on
// any connection.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "adapter/store/outbox.hpp"
#include "adapter/store/sqlite.hpp"

namespace helsebro::store {

class OutboxWriter {
public:
    explicit OutboxWriter(sqlite::Connection& db);
    void queue(std::string_view id, std::int64_t message_id, std::string_view recipient, std::string_view lane,
               std::string_view body, const std::string& now);
    bool record(std::string_view id, const Attempt& a, const std::string& now);
    bool replay(std::string_view id, const std::string& now);
    bool discard(std::string_view id, std::string_view reason, const std::string& now);
    void audit(std::string_view client, std::string_view action, std::string_view target, std::string_view detail,
               const std::string& now);

private:
    sqlite::Connection& db_;
    sqlite::Statement queue_, record_, replay_, discard_, audit_;
};

class OutboxReader {
public:
    explicit OutboxReader(sqlite::Connection& db);
    std::vector<Queued> queued(std::string_view recipient, std::int64_t after_seq, std::size_t limit);
    std::optional<Queued> next_in_lane(std::string_view recipient, std::string_view lane);
    std::optional<std::string> body(std::string_view id);
    std::optional<OutboxEntry> entry(std::string_view id, bool with_body);
    std::vector<QueueSummary> summary();
    std::vector<OutboxEntry> dead_letters(const DeadLetterFilter& f);
    std::vector<AuditEntry> audit_log(std::int64_t before, std::size_t limit);

private:
    sqlite::Statement queued_, next_, body_, entry_, queued_summary_, dead_summary_, dead_, audit_;
};

}  // namespace helsebro::store
