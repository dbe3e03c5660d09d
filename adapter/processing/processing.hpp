// The processing stage: every stored request, in the order accepted, through the mapping rules;
// its record changes, their Provenance, its outgoing messages and "this message is processed" are
// committed in one store transaction, so a crash at any point leaves either all of it or none, and
// the message is simply processed again.
//
// A message whose rules fail is marked failed with the reason and waits; later messages about the
// same patient wait behind it (per-patient order), while other patients' messages go on. A new rule
// set (reload) sends every failed and waiting message through again, in order.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "adapter/mapping/mapping.hpp"
#include "adapter/store/store.hpp"

namespace helsebro::processing {

// The rule set in force; called once per message, so a reload takes effect between messages and
// a message in flight finishes with the rules it began with.
using RuleSource = std::function<std::shared_ptr<const mapping::RuleSet>()>;

struct Stats {
    std::uint64_t processed = 0;  // done, rules applied (or none matched)
    std::uint64_t failed = 0;     // rules failed; waiting for a fix
    std::uint64_t waiting = 0;    // behind a failed message of the same patient
    std::uint64_t changes = 0;    // record versions written
    std::uint64_t messages = 0;   // outgoing messages queued
};

class Processor {
public:
    Processor(store::Store& store, RuleSource rules);
    ~Processor();  // stops
    Processor(const Processor&) = delete;
    Processor& operator=(const Processor&) = delete;

    void start();
    // Something new was committed: look again (cheap; coalesces).
    void notify();
    // The rules changed: failed and waiting messages are tried again, in order.
    void retry_failed();
    // Finishes the message in hand and stops.
    void stop();
    // Blocks until every message committed before the call has been looked at (for tests, drain).
    void wait_idle();
    Stats stats() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace helsebro::processing
