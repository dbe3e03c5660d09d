// The delivery engine's decisions, as pure functions: what to send for a queued message in each
// delivery style, what a recipient's answer means, how long to wait before trying again, and when
// to stop hammering a recipient that is down.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapter/config/config.hpp"
#include "adapter/delivery/http_client.hpp"
#include "adapter/store/outbox.hpp"

namespace helsebro::delivery {

using Clock = std::chrono::system_clock;
using std::chrono::milliseconds;

// One HTTP request of a delivery; a message may need several (style create: one per resource).
struct Request {
    std::string method;  // POST or PUT
    std::string path;    // below the recipient's base, e.g. "/$process-message", "/CarePlan/abc"
    std::string body;
    std::string idempotency_key;  // the delivery id, suffixed per request when there are several
};

// The requests that hand the message Bundle `message` (id = delivery id) over in `style`:
// process_message posts it as is; transaction turns its resources into one transaction of PUTs;
// create PUTs each resource on its own. PUT with ids fixed by the message makes a resend after a
// crash overwrite instead of duplicate. Resources without an id get the one their urn:uuid
// fullUrl carries, and references to that fullUrl are rewritten for the create style. Throws
// std::invalid_argument when `message` is not a message Bundle. `known_id`: the message's id when
// the caller stored it (the outbox does), so that process_message needs no parse.
std::vector<Request> requests_for(config::Recipient::Style style, std::string_view message,
                                  std::string_view known_id = {});

struct Verdict {
    enum class Kind { delivered, retry, dead };
    Kind kind = Kind::retry;
    std::string reason;  // for the operator and the dead letter; no personal data
    std::optional<milliseconds> retry_after;  // what the recipient asked for
    // The recipient is not well (unreachable, 5xx, 408, 429): counts towards opening its circuit.
    bool recipient_fault = false;
};

// 2xx is delivered unless the body says otherwise: a batch/transaction-response with a failed
// entry, a message response whose MessageHeader.response.code is not ok, an OperationOutcome
// with an error. 408, 429, 5xx but 501 and no answer at all are retried; any other status is dead.
Verdict judge(const Result& result, Clock::time_point now);

// Retry-After as delay-seconds or an HTTP-date; nullopt when absent or unreadable. Capped at a day.
std::optional<milliseconds> parse_retry_after(std::string_view value, Clock::time_point now);

// What to record of an attempt that ended in `verdict`: delivered, dead, or retry at a time
// from backoff() (not sooner than the recipient's Retry-After) — or dead after all when the
// message has waited longer than retry.max_age_hours since it was queued or last replayed.
// Keeps at most `max_response` bytes of the answer.
store::Attempt decide(const Verdict& verdict, const Result& result, const store::Queued& row,
                      const config::Recipient::Retry& retry, Clock::time_point now, std::uint64_t random,
                      std::size_t max_response);

// Exponential backoff with full jitter: uniform in [0, min(max, initial * 2^(attempt-1))], where
// attempt counts from 1 and `random` is any 64-bit random number.
milliseconds backoff(std::uint64_t attempt, milliseconds initial, milliseconds max, std::uint64_t random);

// A recipient's circuit: closed (send freely); after `threshold` recipient faults in a row, open
// (send nothing) for a wait that doubles with each failed probe, up to `max_wait`; then half-open:
// one probe goes, and its result closes or reopens the circuit.
class Circuit {
public:
    enum class State { closed, open, half_open };
    Circuit(unsigned threshold, milliseconds initial_wait, milliseconds max_wait);

    // Whether one more request may go now. In half-open, true once (the probe) until it ends.
    bool allow(Clock::time_point now);
    void success();
    void fault(Clock::time_point now);
    // The probe sent nothing after all (its message had been discarded): the next request probes.
    void abandon_probe() { probing_ = false; }

    State state() const { return state_; }
    Clock::time_point reopen_at() const { return reopen_at_; }  // when open: the next probe
    unsigned consecutive_faults() const { return faults_; }
    bool probing() const { return probing_; }  // half-open with the probe under way

private:
    unsigned threshold_;
    milliseconds initial_, max_, wait_;
    State state_ = State::closed;
    unsigned faults_ = 0;
    bool probing_ = false;
    Clock::time_point reopen_at_{};
};

std::string_view to_string(Circuit::State s);

}  // namespace helsebro::delivery
