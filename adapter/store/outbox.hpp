// The outbox as the store keeps it: outgoing messages and their delivery state (the invariants
// are in adapter/delivery/OUTBOX.md). Part of the store's public interface (store.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace helsebro::store {

// A queued message's bookkeeping, without its body: what the delivery engine schedules by.
struct Queued {
    std::int64_t seq = 0;  // order of queuing
    std::string id;        // MessageHeader.id = Bundle.id: the delivery id
    std::string recipient;
    std::string lane;      // hash of the patient key; "" for no patient (no order to keep)
    std::int64_t message_id = 0;
    std::string created_at;
    std::int64_t attempts = 0;
    std::int64_t next_attempt_ms = 0;  // Unix ms
    std::string age_from;  // when it (last) entered the queue: created_at, or its latest replay
};

// One row in full, for the admin API (body only when asked for).
struct OutboxEntry {
    Queued queued;
    std::string state;  // queued, delivered, dead, discarded
    std::string last_attempt_at;
    int last_status = 0;
    std::string last_error;
    std::string last_response;  // what the recipient answered last (capped)
    std::string finished_at;
    std::string reason;
    std::string body;
};

// What one delivery attempt ended in; written in one go.
struct Attempt {
    enum class Result { delivered, retry, dead };
    Result result = Result::retry;
    int status = 0;
    std::string error;     // for the operator: what went wrong, no personal data
    std::string response;  // the recipient's answer (capped by the caller)
    std::int64_t next_attempt_ms = 0;  // for retry
};

struct QueueSummary {
    std::string recipient;
    std::int64_t queued = 0;
    std::string oldest_created_at;  // of the queued rows; "" when none
    std::int64_t dead = 0;
};

struct DeadLetterFilter {
    std::string recipient;   // "" any
    std::string since;       // created_at >= since (an instant prefix such as 2026-11-25); "" any
    std::string until;       // created_at < until; "" any
    int status = 0;          // last_status; 0 any
    std::int64_t message_id = 0;  // the input that caused it; 0 any
    std::int64_t after_seq = 0;   // paging
    std::size_t limit = 100;
};

struct AuditEntry {
    std::int64_t id = 0;
    std::string at, client, action, target, detail;
};

}  // namespace helsebro::store
