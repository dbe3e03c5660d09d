// The delivery engine: every queued outgoing message to its recipient (adapter/delivery/OUTBOX.md).
//
// Per recipient, messages of one patient (a lane) go one at a time in the order they were queued;
// lanes go side by side up to the recipient's max_in_flight, so a stuck patient or a recipient
// that is down never holds up another. Each attempt's result is committed before the lane moves
// on, so a crash at any point resends at most the message in flight, with the same id.
//
// Memory is bounded by the number of lanes held per recipient (the heads of the queue), not by the
// queue's length: a million queued messages are read from the store a window at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "adapter/config/config.hpp"
#include "adapter/store/store.hpp"

namespace helsebro::delivery {

struct EngineOptions {
    unsigned circuit_threshold = 5;        // recipient faults in a row that open its circuit
    std::size_t max_lanes = 10000;         // lanes held in memory per recipient
    std::size_t max_kept_response = 64 * 1024;  // of a recipient's answer, kept with the row
};

struct RecipientStatus {
    std::string id;
    std::string circuit;                // closed, open, half-open
    unsigned consecutive_faults = 0;
    std::string next_probe_at;          // when open: an instant
    std::string paused_until;           // after a Retry-After: an instant, else ""
    std::size_t lanes = 0, in_flight = 0;
    std::uint64_t delivered = 0, retried = 0, dead = 0;  // since start
    std::string last_attempt_at, last_error;
    int last_status = 0;
};

class Engine {
public:
    // Makes one HTTP client per recipient: throws std::runtime_error naming the file when a TLS
    // file cannot be used (bad config is fatal at start-up).
    Engine(store::Store& store, const std::vector<config::Recipient>& recipients, EngineOptions options = {});
    ~Engine();  // stop()
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    void start();
    // Something was committed: there may be new messages (cheap; coalesces).
    void notify();
    // Rows went back to the queue (a replay) or left it (a discard): read the queue again. A
    // discarded row waiting for its retry time lets its lane move on at once.
    void rescan(std::vector<std::string> discarded = {});
    // Abandons attempts under way (their rows stay queued: sent again after a restart) and joins.
    void stop();
    std::vector<RecipientStatus> status() const;
    // Recipients whose circuit is open: what readiness reports.
    std::vector<std::string> open_circuits() const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace helsebro::delivery
