// Delivery benchmark: the real daemon (tests/support Daemon) with the shipped mapping rules
// (mappings/), its address book = the rules' test_recipients (mappings/00-common.yaml) with every
// endpoint pointed at a Recipient server of this program on 127.0.0.1 (one per recipient id).
// A discharge report (tests/mappings/discharge/input.json, made distinct per message as
// bench/mapping/bench_mapping.cpp does: synthetic fødselsnummer, urn:uuid fullUrls, Bundle id,
// MessageHeader id) becomes two outgoing messages: to the fastlege (byasen-legesenter) and to the
// municipal service (trondheim-hjemmetjeneste). Measured, in one run:
//
//   backlog   With the recipients stopped, post N messages and wait until /admin/processing has
//             processed them all (2N deliveries queued); then start the recipients and time until
//             every queued delivery has arrived (distinct Bundle.id) and until /admin/queue says
//             queued 0. Deliveries/s from the start and from the first to the last arrival. Once per
//             max_in_flight in --inflight (a fresh daemon each; 0 = not set, the default 4).
//   latency   On the first daemon of `backlog`, recipients running: an open-loop sender posts RATE
//             messages/s for SECONDS (message i due at t0 + i/RATE, several connections so a slow
//             answer does not hold up the schedule), noting when each POST was acknowledged; every
//             arrival is matched to its message by the patient's fødselsnummer. Ack latency (from
//             the scheduled instant) and arrival - ack, p50/p99/max; /admin/queue and
//             /admin/processing sampled every 250 ms for the backlog in between.
//   ceiling   The Recipient alone, with the same handler: requests/s it answers to a keep-alive
//             client posting a forwarded message body (the same size), 1 and 4 connections; best
//             of 3 interleaved rounds of 1 s.
//
// Prints `name value` lines on stdout (run.sh turns them into a table); progress on stderr.
// Every wait is bounded; all traffic is to 127.0.0.1.
//
// Usage: bench_delivery REPO_ROOT RUN_DIR [--messages N] [--seconds S] [--rate R] [--senders K]
//                       [--inflight 0,1] [--ceiling-seconds S]
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tests/support/daemon.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/json_helpers.hpp"
#include "bench/text.hpp"
#include "tests/support/norwegian.hpp"
#include "tests/support/recipient.hpp"
#include "tests/support/store_inspector.hpp"

using namespace helsebro::testing;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

void out(const std::string& name, double v, int decimals = 0) { std::printf("%s %.*f\n", name.c_str(), decimals, v); }
void out(const std::string& name, const std::string& v) { std::printf("%s %s\n", name.c_str(), v.c_str()); }
template <class... A>
void say(const char* fmt, A... a) {
    std::fprintf(stderr, fmt, a...);
    std::fputc('\n', stderr);
}

double secs(Clock::duration d) { return std::chrono::duration<double>(d).count(); }
double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::string read_text(const fs::path& path) { return helsebro::bench::read_text(path.string()); }

using helsebro::bench::replace_all;

struct Stats {
    std::size_t n = 0;
    double p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0, mean = 0;
};
Stats stats_of(std::vector<double> v) {
    Stats s;
    s.n = v.size();
    if (v.empty()) return s;
    std::sort(v.begin(), v.end());
    auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<std::size_t>(std::ceil(q * v.size())) - 1)]; };
    s.p50 = at(0.50);
    s.p90 = at(0.90);
    s.p99 = at(0.99);
    s.p999 = at(0.999);
    s.max = v.back();
    double sum = 0;
    for (double x : v) sum += x;
    s.mean = sum / static_cast<double>(v.size());
    return s;
}
void out_stats(const std::string& name, const Stats& s) {
    out(name + "_p50_ms", s.p50, 1);
    out(name + "_p90_ms", s.p90, 1);
    out(name + "_p99_ms", s.p99, 1);
    out(name + "_p999_ms", s.p999, 1);
    out(name + "_max_ms", s.max, 1);
    out(name + "_mean_ms", s.mean, 1);
}

// ---------------------------------------------------------------------------------------------
// Messages: distinct discharge reports
// ---------------------------------------------------------------------------------------------

constexpr const char* template_fnr = "12834410034";
constexpr const char* template_uuid_prefix = "urn:uuid:0b7d5c1e-";
constexpr const char* template_header_id = "5e2f9a0c-8d4b-4f61-a3c7-1b0e6d2f7a01";
constexpr const char* template_bundle_id = "utskrivningsrapport-kari-1";

struct Message {
    std::string fnr, body;
};

// `count` messages numbered from `first` (distinct ids across calls with disjoint ranges).
std::vector<Message> make_messages(const std::string& input, FnrSequence& fnrs, long first, long count) {
    for (const char* needle : {template_fnr, template_uuid_prefix, template_header_id, template_bundle_id})
        if (input.find(needle) == std::string::npos)
            throw std::runtime_error(std::string("the discharge template no longer contains ") + needle);
    std::vector<Message> out;
    out.reserve(static_cast<std::size_t>(count));
    for (long i = first; i < first + count; ++i) {
        Message m;
        m.fnr = fnrs.next();
        char uuid[32], id[64];
        std::snprintf(uuid, sizeof uuid, "urn:uuid:%08lx-", static_cast<unsigned long>(i));
        std::snprintf(id, sizeof id, "5e2f9a0c-8d4b-4f61-a3c7-%012lx", static_cast<unsigned long>(i));
        std::string text = replace_all(input, template_fnr, m.fnr);
        text = replace_all(text, template_uuid_prefix, uuid);
        text = replace_all(text, template_header_id, id);
        m.body = replace_all(text, template_bundle_id, "utskrivningsrapport-" + std::to_string(i));
        out.push_back(std::move(m));
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// The recipients' side: every arrival, with its delivery id and patient
// ---------------------------------------------------------------------------------------------

// The Bundle.id of a forwarded message (its delivery id): the first "id" of the body, which the
// daemon writes right after resourceType.
std::string delivery_id(const std::string& body) {
    const std::string key = "\"id\":\"";
    const auto at = body.find(key);
    if (at == std::string::npos || at > 64) return {};
    const auto end = body.find('"', at + key.size());
    return end == std::string::npos ? std::string() : body.substr(at + key.size(), end - at - key.size());
}

// The patient's fødselsnummer in a forwarded message.
std::string patient_fnr(const std::string& body) {
    const std::string key = std::string("\"") + fnr_system + "\",\"value\":\"";
    const auto at = body.find(key);
    if (at == std::string::npos || at + key.size() + 11 > body.size()) return {};
    return body.substr(at + key.size(), 11);
}

struct Arrival {
    std::string recipient, id, fnr;
    Clock::time_point at;
};

class Sink {
public:
    Recipient::Handler handler(std::string recipient) {
        return [this, recipient](const ReceivedRequest& q) {
            Arrival a{recipient, delivery_id(q.body), patient_fnr(q.body), q.at};
            {
                std::lock_guard lock(mutex_);
                if (ids_.insert(a.id).second) distinct_.fetch_add(1);
                if (sample_.empty()) sample_ = q.body;
                arrivals_.push_back(std::move(a));
            }
            total_.fetch_add(1);
            RecipientReply r;
            r.body = R"({"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"informational"}]})";
            r.headers = {{"Content-Type", "application/fhir+json"}};
            return r;
        };
    }
    std::size_t distinct() const { return distinct_.load(); }
    std::size_t total() const { return total_.load(); }
    std::vector<Arrival> arrivals() const {
        std::lock_guard lock(mutex_);
        return arrivals_;
    }
    std::string sample() const {
        std::lock_guard lock(mutex_);
        return sample_;
    }
    void clear() {
        std::lock_guard lock(mutex_);
        arrivals_.clear();
        ids_.clear();
        distinct_ = 0;
        total_ = 0;
    }

private:
    mutable std::mutex mutex_;
    std::vector<Arrival> arrivals_;
    std::unordered_set<std::string> ids_;
    std::string sample_;
    std::atomic<std::size_t> distinct_{0}, total_{0};
};

struct AddressEntry {
    std::string id;
    std::vector<std::string> her_ids, organization_numbers, hpr_numbers;
};

std::vector<AddressEntry> test_recipients(const fs::path& root) {
    std::vector<AddressEntry> out;
    for (const auto& n : YAML::LoadFile((root / "mappings/00-common.yaml").string())["test_recipients"]) {
        AddressEntry e;
        e.id = n["id"].as<std::string>();
        auto strings = [&](const char* key, std::vector<std::string>& v) {
            if (n[key])
                for (const auto& x : n[key]) v.push_back(x.as<std::string>());
        };
        strings("her_ids", e.her_ids);
        strings("organization_numbers", e.organization_numbers);
        strings("hpr_numbers", e.hpr_numbers);
        out.push_back(std::move(e));
    }
    if (out.empty()) throw std::runtime_error("no test_recipients in mappings/00-common.yaml");
    return out;
}

struct Recipients {
    Sink sink;
    std::vector<AddressEntry> book;
    std::map<std::string, std::unique_ptr<Recipient>> servers;  // by recipient id

    explicit Recipients(std::vector<AddressEntry> b) : book(std::move(b)) {
        for (const auto& e : book) servers[e.id] = std::make_unique<Recipient>(sink.handler(e.id));
    }
    void stop() {
        for (auto& [id, s] : servers) s->stop();
    }
    void start() {
        for (auto& [id, s] : servers) s->start();
    }
    void clear() {
        for (auto& [id, s] : servers) s->clear();
        sink.clear();
    }
};

std::string config_yaml(const fs::path& root, const Recipients& recipients, unsigned max_in_flight) {
    std::string y =
        "http:\n  listen: 127.0.0.1:0\nstore:\n  data_dir: ${DATA_DIR}\nauth:\n  demo_client: true\n"
        "admin:\n  clients: [demo]\nmappings:\n  dir: " +
        (root / "mappings").string() + "\nlog:\n  level: info\nrecipients:\n";
    auto list = [](const char* key, const std::vector<std::string>& v) {
        if (v.empty()) return std::string();
        std::string s = std::string("    ") + key + ": [";
        for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", \"" : "\"") + v[i] + "\"";
        return s + "]\n";
    };
    for (const auto& e : recipients.book) {
        y += "  - id: " + e.id + "\n    endpoint: " + recipients.servers.at(e.id)->base_url() + "\n";
        y += list("her_ids", e.her_ids) + list("organization_numbers", e.organization_numbers) + list("hpr_numbers", e.hpr_numbers);
        if (max_in_flight) y += "    max_in_flight: " + std::to_string(max_in_flight) + "\n";
        // Retry fast (as tests/integration/delivery_fixture.hpp): after the outage the circuit's
        // probe comes within 2 s, so the backlog figure is the delivery rate, not a backoff wait.
        y += "    retry:\n      initial_delay_seconds: 1\n      max_delay_seconds: 2\n";
    }
    return y;
}

// ---------------------------------------------------------------------------------------------
// The daemon's side
// ---------------------------------------------------------------------------------------------

struct Admin {
    HttpClient client;
    explicit Admin(const Daemon& d) : client(d.port()) { client.set_token(d.token()); }

    struct Processing {
        std::int64_t processed = 0, failed = 0, waiting = 0, messages_queued = 0;
    };
    Processing processing() {
        auto r = client.get("/admin/processing");
        if (r.status != 200) throw std::runtime_error("/admin/processing answered " + std::to_string(r.status) + ": " + r.body);
        auto doc = parse_json(r.body);
        return {json_int(doc, "processed"), json_int(doc, "failed"), json_int(doc, "waiting"), json_int(doc, "messages_queued")};
    }

    struct Queue {
        std::int64_t queued = 0, dead = 0, delivered = 0, retries = 0, in_flight = 0;
        std::string circuits;  // "id=state" of recipients with something queued or an open circuit
    };
    Queue queue() {
        auto r = client.get("/admin/queue");
        if (r.status != 200) throw std::runtime_error("/admin/queue answered " + std::to_string(r.status) + ": " + r.body);
        auto doc = parse_json(r.body);
        Queue q;
        for (std::size_t i = 0; i < json_size(doc, "recipients"); ++i) {
            const std::string at = "recipients[" + std::to_string(i) + "]";
            auto num = [&](const std::string& f) {
                const auto* v = json_find(doc, at + "." + f);
                return v && v->IsInt64() ? v->GetInt64() : 0;
            };
            q.queued += num("queued");
            q.dead += num("dead");
            q.delivered += num("delivered_since_start");
            q.retries += num("retries_since_start");
            q.in_flight += num("in_flight");
            const std::string circuit = json_optional_string(doc, at + ".circuit").value_or("?");
            if (num("queued") || circuit != "closed")
                q.circuits += (q.circuits.empty() ? "" : ",") + json_string(doc, at + ".recipient") + "=" + circuit;
        }
        return q;
    }
};

// Posts every message once over `threads` keep-alive connections, as fast as the daemon answers.
struct PostResult {
    std::size_t ok = 0, failed = 0;
    double seconds = 0;
};
PostResult post_all(const Daemon& d, const std::vector<Message>& messages, int threads) {
    std::atomic<std::size_t> next{0}, ok{0}, failed{0};
    const auto t0 = Clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&] {
            HttpClient c(d.port(), "127.0.0.1", 30s);
            c.set_token(d.token());
            for (std::size_t i; (i = next.fetch_add(1)) < messages.size();) {
                try {
                    auto r = c.post("/fhir/$process-message", messages[i].body);
                    if (r.status == 200) {
                        ok.fetch_add(1);
                    } else if (failed.fetch_add(1) < 3) {
                        say("POST answered %d: %.200s", r.status, r.body.c_str());
                    }
                } catch (const std::exception& e) {
                    if (failed.fetch_add(1) < 3) say("POST failed: %s", e.what());
                    c.close();
                }
            }
        });
    for (auto& t : pool) t.join();
    return {ok.load(), failed.load(), secs(Clock::now() - t0)};
}

// Until the processing stage has looked at `expected` messages; false after `timeout`.
bool wait_processed(Admin& admin, std::int64_t expected, std::chrono::seconds timeout, Admin::Processing& last) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
        last = admin.processing();
        if (last.processed + last.failed + last.waiting >= expected) return true;
        std::this_thread::sleep_for(100ms);
    }
    return false;
}

std::string stored_summary(const std::string& log) {
    const auto at = log.rfind("Stored ");
    if (at == std::string::npos) return "n/a";
    const auto end = log.find('\n', at);
    return log.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

std::size_t count_lines(const std::string& log, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = log.find(needle); at != std::string::npos; at = log.find(needle, at + needle.size())) ++n;
    return n;
}

struct Options {
    fs::path root, run_dir;
    long messages = 2000;
    double seconds = 10, rate = 100;
    int senders = 16;
    std::vector<unsigned> inflight{0, 1};
    double ceiling_seconds = 1;
    int ceiling_rounds = 3;
};

// ---------------------------------------------------------------------------------------------
// 1. Backlog: recipients down, N messages processed, recipients up; time to deliver them all.
// ---------------------------------------------------------------------------------------------

void backlog(Recipients& rs, Daemon& daemon, const std::string& label, const std::vector<Message>& messages) {
    const std::string p = "backlog_" + label + "_";
    Admin admin(daemon);
    rs.clear();
    rs.stop();
    say("[%s] posting %zu messages with the recipients stopped ...", label.c_str(), messages.size());
    const auto t0 = Clock::now();
    const PostResult posted = post_all(daemon, messages, 4);
    Admin::Processing proc;
    const bool processed = wait_processed(admin, static_cast<std::int64_t>(posted.ok), 600s, proc);
    const double processed_s = secs(Clock::now() - t0);
    // The processing commit queues the outgoing messages; let /admin/queue catch up with it (bounded).
    Admin::Queue before;
    for (int i = 0; i < 100; ++i) {
        before = admin.queue();
        if (before.queued >= proc.messages_queued) break;
        std::this_thread::sleep_for(50ms);
    }
    out(p + "posted", static_cast<double>(posted.ok));
    out(p + "post_failed", static_cast<double>(posted.failed));
    out(p + "ack_per_s", static_cast<double>(posted.ok) / posted.seconds);
    out(p + "processed", static_cast<double>(proc.processed));
    out(p + "processing_failed", static_cast<double>(proc.failed + proc.waiting));
    out(p + "processed_per_s", static_cast<double>(proc.processed) / processed_s);
    out(p + "queued_before_start", static_cast<double>(before.queued));
    out(p + "retries_while_down", static_cast<double>(before.retries));
    out(p + "circuits_before_start", before.circuits.empty() ? "-" : before.circuits);
    if (!processed) say("[%s] processing did not finish in 600 s (%lld processed)", label.c_str(), (long long)proc.processed);

    const std::size_t expected = static_cast<std::size_t>(before.queued);
    say("[%s] %zu deliveries queued; starting the recipients ...", label.c_str(), expected);
    const auto t_start = Clock::now();
    rs.start();
    const auto deadline = t_start + 300s;
    while (rs.sink.distinct() < expected && Clock::now() < deadline) std::this_thread::sleep_for(5ms);
    const auto t_arrived = Clock::now();
    // Until the queue is empty: the "delivered" marks committed (bounded).
    Admin::Queue after;
    Clock::time_point t_empty{};
    while (Clock::now() < deadline) {
        after = admin.queue();
        if (after.queued == 0) {
            t_empty = Clock::now();
            break;
        }
        std::this_thread::sleep_for(20ms);
    }
    const auto arrivals = rs.sink.arrivals();
    Clock::time_point first = Clock::time_point::max(), last = Clock::time_point::min();
    std::map<std::string, std::size_t> per_recipient;
    for (const auto& a : arrivals) {
        first = std::min(first, a.at);
        last = std::max(last, a.at);
        ++per_recipient[a.recipient];
    }
    const std::size_t distinct = rs.sink.distinct();
    out(p + "deliveries_expected", static_cast<double>(expected));
    out(p + "deliveries_arrived", static_cast<double>(distinct));
    out(p + "duplicates", static_cast<double>(arrivals.size() - distinct));
    std::string split;
    for (const auto& [id, n] : per_recipient) split += (split.empty() ? "" : ",") + id + "=" + std::to_string(n);
    out(p + "per_recipient", split.empty() ? "-" : split);
    if (!arrivals.empty()) {
        out(p + "first_arrival_s", secs(first - t_start), 2);
        out(p + "last_arrival_s", secs(last - t_start), 2);
        out(p + "deliveries_per_s", static_cast<double>(distinct) / secs(last - t_start));
        if (distinct > 1) out(p + "steady_deliveries_per_s", static_cast<double>(distinct - 1) / secs(last - first));
        // The middle 80 % of arrivals: the rate without the probe wait at the start and the tail.
        if (arrivals.size() >= 20) {
            std::vector<Clock::time_point> at;
            for (const auto& a : arrivals) at.push_back(a.at);
            std::sort(at.begin(), at.end());
            const std::size_t lo = at.size() / 10, hi = at.size() - 1 - at.size() / 10;
            out(p + "middle80_deliveries_per_s", static_cast<double>(hi - lo) / secs(at[hi] - at[lo]));
        }
    }
    out(p + "queue_empty_s", t_empty == Clock::time_point{} ? -1 : secs(t_empty - t_start), 2);
    out(p + "dead", static_cast<double>(after.dead));
    if (distinct < expected) say("[%s] only %zu of %zu deliveries arrived in time", label.c_str(), distinct, expected);
    (void)t_arrived;
}

// ---------------------------------------------------------------------------------------------
// 2. Latency at a fixed rate, open loop
// ---------------------------------------------------------------------------------------------

void latency(const Options& o, Recipients& rs, Daemon& daemon, const std::vector<Message>& messages) {
    const std::string p = "latency_";
    Admin admin(daemon);
    rs.clear();
    const std::size_t n = messages.size();
    std::unordered_map<std::string, std::size_t> by_fnr;
    for (std::size_t i = 0; i < n; ++i) by_fnr[messages[i].fnr] = i;
    const Admin::Processing proc0 = admin.processing();
    const std::int64_t first_id = StoreInspector(daemon.data_dir()).scalar("SELECT coalesce(max(id), 0) FROM message") + 1;

    std::vector<Clock::time_point> due(n), sent(n), acked(n);
    std::vector<int> status(n, 0);
    const auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / o.rate));
    const auto t0 = Clock::now() + 200ms;
    for (std::size_t i = 0; i < n; ++i) due[i] = t0 + interval * static_cast<long>(i);

    // Sampling the daemon's backlog while it runs.
    std::atomic<bool> sending{true};
    std::atomic<std::size_t> acked_count{0};
    std::int64_t max_queued = 0, max_unprocessed = 0, max_in_flight = 0;
    std::string circuits_seen;
    std::thread monitor([&] {
        Admin m(daemon);
        for (int i = 0; sending.load() && i < 4 * 600; ++i) {
            try {
                auto q = m.queue();
                auto pr = m.processing();
                max_queued = std::max(max_queued, q.queued);
                max_in_flight = std::max(max_in_flight, q.in_flight);
                max_unprocessed = std::max(max_unprocessed, static_cast<std::int64_t>(acked_count.load()) - (pr.processed - proc0.processed));
                for (const char* s : {"open", "half-open"})
                    if (q.circuits.find(s) != std::string::npos && circuits_seen.find(q.circuits) == std::string::npos)
                        circuits_seen += q.circuits + ";";
            } catch (const std::exception& e) {
                say("monitor: %s", e.what());
            }
            std::this_thread::sleep_for(250ms);
        }
    });

    say("latency: %zu messages at %.0f/s over %d connections ...", n, o.rate, o.senders);
    std::atomic<std::size_t> next{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < o.senders; ++t)
        pool.emplace_back([&] {
            HttpClient c(daemon.port(), "127.0.0.1", 30s);
            c.set_token(daemon.token());
            for (std::size_t i; (i = next.fetch_add(1)) < n;) {
                std::this_thread::sleep_until(due[i]);
                sent[i] = Clock::now();
                try {
                    status[i] = c.post("/fhir/$process-message", messages[i].body).status;
                } catch (const std::exception& e) {
                    status[i] = -1;
                    c.close();
                }
                acked[i] = Clock::now();
                if (status[i] == 200) acked_count.fetch_add(1);
            }
        });
    for (auto& t : pool) t.join();
    const auto t_sent = Clock::now();

    std::size_t ok = 0;
    std::vector<double> ack_ms, late_ms;
    for (std::size_t i = 0; i < n; ++i) {
        late_ms.push_back(ms(sent[i] - due[i]));
        if (status[i] != 200) continue;
        ++ok;
        ack_ms.push_back(ms(acked[i] - due[i]));
    }
    // Every acknowledged message gives two deliveries (checked against the backlog phase's ratio).
    const std::size_t expected = 2 * ok;
    const auto deadline = Clock::now() + 120s;
    while (rs.sink.distinct() < expected && Clock::now() < deadline) std::this_thread::sleep_for(10ms);
    const double drain_s = secs(Clock::now() - t_sent);
    sending = false;
    monitor.join();

    const auto arrivals = rs.sink.arrivals();
    std::vector<double> delivery_ms;
    std::map<std::string, std::vector<double>> per_recipient;
    std::vector<Clock::time_point> last_of(n, Clock::time_point::min());
    std::vector<int> got(n, 0);
    std::unordered_set<std::string> seen;
    std::size_t unmatched = 0, duplicates = 0;
    for (const auto& a : arrivals) {
        if (!seen.insert(a.id).second) {
            ++duplicates;
            continue;
        }
        auto it = by_fnr.find(a.fnr);
        if (it == by_fnr.end() || status[it->second] != 200) {
            if (++unmatched <= 3) say("unmatched arrival at %s: id %s fnr '%s'", a.recipient.c_str(), a.id.c_str(), a.fnr.c_str());
            continue;
        }
        const double d = ms(a.at - acked[it->second]);
        delivery_ms.push_back(d);
        per_recipient[a.recipient].push_back(d);
        last_of[it->second] = std::max(last_of[it->second], a.at);
        ++got[it->second];
    }
    std::vector<double> both_ms;
    for (std::size_t i = 0; i < n; ++i)
        if (got[i] >= 2) both_ms.push_back(ms(last_of[i] - acked[i]));

    out(p + "rate", o.rate);
    out(p + "seconds", o.seconds, 1);
    out(p + "senders", o.senders);
    out(p + "sent", static_cast<double>(n));
    out(p + "acked", static_cast<double>(ok));
    if (n > 1) out(p + "achieved_rate", static_cast<double>(n - 1) / secs(sent[n - 1] - sent[0]), 1);
    out_stats(p + "send_late", stats_of(late_ms));
    out_stats(p + "ack", stats_of(ack_ms));
    out(p + "deliveries_expected", static_cast<double>(expected));
    out(p + "deliveries_arrived", static_cast<double>(delivery_ms.size()));
    out(p + "messages_fully_delivered", static_cast<double>(both_ms.size()));
    out(p + "duplicates", static_cast<double>(duplicates));
    out(p + "unmatched", static_cast<double>(unmatched));
    out(p + "drain_after_last_send_s", drain_s, 2);
    out_stats(p + "delivery", stats_of(delivery_ms));
    out_stats(p + "both", stats_of(both_ms));
    for (const auto& [id, v] : per_recipient) {
        const Stats s = stats_of(v);
        out(p + "recipient_" + id, std::to_string(s.n) + "/" + std::to_string(static_cast<int>(std::lround(s.p50))) + "/" +
                                       std::to_string(static_cast<int>(std::lround(s.p99))) + "/" +
                                       std::to_string(static_cast<int>(std::lround(s.max))));
    }
    // Where the time goes, from the store's own instants: each is when the single writer started
    // that stage's job (just before its commit). intake job -> processing job: the intake commit,
    // the processing stage picking the message up, mapping it, its job waiting for the writer;
    // processing job -> delivery-record job: the processing commit, the engine reading and sending
    // the message, the recipient's answer, the record job waiting for the writer.
    try {
        StoreInspector store(daemon.data_dir());
        auto column = [&](const std::string& sql) {
            std::vector<double> v;
            for (const auto& row : store.rows(sql))
                if (!row.empty() && !row[0].empty()) v.push_back(std::atof(row[0].c_str()));
            return v;
        };
        const std::string from = std::to_string(first_id);
        out_stats(p + "store_intake_to_processing",
                  stats_of(column("SELECT (julianday(p.updated_at) - julianday(m.received_at)) * 86400000 FROM message m "
                                  "JOIN processing p ON p.message_id = m.id WHERE m.id >= " + from)));
        out_stats(p + "store_processing_to_delivered",
                  stats_of(column("SELECT (julianday(finished_at) - julianday(created_at)) * 86400000 FROM outbox "
                                  "WHERE state = 'delivered' AND message_id >= " + from)));
        out(p + "store_attempts_over_1",
            static_cast<double>(store.scalar("SELECT count(*) FROM outbox WHERE attempts > 1 AND message_id >= " + from)));
    } catch (const std::exception& e) {
        say("store breakdown: %s", e.what());
    }
    out(p + "max_queued", static_cast<double>(max_queued));
    out(p + "max_unprocessed", static_cast<double>(max_unprocessed));
    out(p + "max_in_flight", static_cast<double>(max_in_flight));
    out(p + "circuits_not_closed", circuits_seen.empty() ? "-" : circuits_seen);
}

// ---------------------------------------------------------------------------------------------
// 3. The recipient alone
// ---------------------------------------------------------------------------------------------

// Best of `ceiling_rounds` interleaved rounds (the machine is shared; the best round is the one
// least disturbed), every round's figure kept in the raw output.
void ceiling(const Options& o, const std::string& body) {
    Sink sink;
    Recipient server(sink.handler("ceiling"));
    const std::string target = "/fhir/$process-message";
    std::map<int, std::vector<double>> rates;
    std::map<int, std::size_t> failures;
    for (int round = 0; round < o.ceiling_rounds; ++round)
        for (int connections : {1, 4}) {
            std::atomic<bool> stop{false};
            std::atomic<std::size_t> done{0}, failed{0};
            std::vector<std::thread> pool;
            const auto t0 = Clock::now();
            for (int t = 0; t < connections; ++t)
                pool.emplace_back([&, t] {
                    HttpClient c(server.port(), "127.0.0.1", 10s);
                    // Bounded in count too (the server keeps every request's body: cleared as we go).
                    for (int i = 0; !stop.load(std::memory_order_relaxed) && i < 2'000'000; ++i) {
                        try {
                            auto r = c.request("POST", target, body,
                                               {{"Content-Type", "application/fhir+json"}, {"Accept", "application/fhir+json"}});
                            if (r.status == 200) done.fetch_add(1);
                            else failed.fetch_add(1);
                        } catch (const std::exception&) {
                            failed.fetch_add(1);
                            c.close();
                        }
                        if (t == 0 && i % 500 == 499) {
                            server.clear();
                            sink.clear();
                        }
                    }
                });
            std::this_thread::sleep_for(std::chrono::duration<double>(o.ceiling_seconds));
            stop = true;
            for (auto& t : pool) t.join();
            rates[connections].push_back(static_cast<double>(done.load()) / secs(Clock::now() - t0));
            failures[connections] += failed.load();
            server.clear();
            sink.clear();
        }
    for (const auto& [connections, v] : rates) {
        const std::string p = "ceiling_" + std::to_string(connections) + "conn_";
        std::string all;
        for (double r : v) {
            if (!all.empty()) all += ',';
            all += std::to_string(std::lround(r));
        }
        out(p + "per_s", *std::max_element(v.begin(), v.end()));
        out(p + "rounds", all);
        out(p + "failed", static_cast<double>(failures[connections]));
    }
    out("ceiling_body_bytes", static_cast<double>(body.size()));
}

std::vector<unsigned> parse_list(const std::string& s) {
    std::vector<unsigned> v;
    std::stringstream in(s);
    for (std::string item; std::getline(in, item, ',');)
        if (!item.empty()) v.push_back(static_cast<unsigned>(std::stoul(item)));
    return v;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr,
                     "usage: bench_delivery REPO_ROOT RUN_DIR [--messages N] [--seconds S] [--rate R] [--senders K]\n"
                     "                      [--inflight 0,1] [--ceiling-seconds S] [--ceiling-rounds R]\n");
        return 2;
    }
    Options o;
    o.root = fs::absolute(argv[1]);
    o.run_dir = fs::absolute(argv[2]);
    for (int i = 3; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--messages") o.messages = std::clamp(std::atol(v.c_str()), 10L, 100000L);
        else if (k == "--seconds") o.seconds = std::clamp(std::atof(v.c_str()), 1.0, 600.0);
        else if (k == "--rate") o.rate = std::clamp(std::atof(v.c_str()), 1.0, 5000.0);
        else if (k == "--senders") o.senders = std::clamp(std::atoi(v.c_str()), 1, 256);
        else if (k == "--inflight") o.inflight = parse_list(v);
        else if (k == "--ceiling-seconds") o.ceiling_seconds = std::clamp(std::atof(v.c_str()), 0.2, 60.0);
        else if (k == "--ceiling-rounds") o.ceiling_rounds = std::clamp(std::atoi(v.c_str()), 1, 20);
        else {
            std::fprintf(stderr, "unknown option %s\n", k.c_str());
            return 2;
        }
    }
    if (o.inflight.empty()) o.inflight = {0};

    try {
        const std::string input = read_text(o.root / "tests/mappings/discharge/input.json");
        Recipients rs(test_recipients(o.root));
        FnrSequence fnrs(0);
        long numbered = 0;
        out("messages", static_cast<double>(o.messages));
        out("message_bytes", static_cast<double>(input.size()));
        std::string sample;

        for (std::size_t k = 0; k < o.inflight.size(); ++k) {
            const unsigned mif = o.inflight[k];
            const std::string label = mif ? "inflight" + std::to_string(mif) : "default";
            DaemonOptions d;
            d.data_dir = o.run_dir / ("data-" + label);
            fs::remove_all(d.data_dir);
            fs::create_directories(d.data_dir);  // private, as the daemon asks of a data directory
            fs::permissions(d.data_dir, fs::perms::owner_all, fs::perm_options::replace);
            d.full_yaml = config_yaml(o.root, rs, mif);
            d.ready_timeout = 60s;
            Daemon daemon(d);
            daemon.start();
            say("[%s] daemon on port %u", label.c_str(), static_cast<unsigned>(daemon.port()));

            auto messages = make_messages(input, fnrs, numbered, o.messages);
            numbered += o.messages;
            backlog(rs, daemon, label, messages);
            if (sample.empty()) sample = rs.sink.sample();
            messages.clear();

            if (k == 0) {  // the latency run, on the daemon with the first max_in_flight
                const long count = std::lround(o.seconds * o.rate);
                auto lm = make_messages(input, fnrs, numbered, count);
                numbered += count;
                latency(o, rs, daemon, lm);
            }
            const int code = daemon.terminate(60s);
            const std::string log = daemon.current_log();
            std::ofstream(o.run_dir / ("daemon-" + label + ".log"), std::ios::trunc) << log;
            out("daemon_" + label + "_exit", code);
            out("daemon_" + label + "_store", stored_summary(log));
            out("daemon_" + label + "_retry_lines", static_cast<double>(count_lines(log, "will be tried again")));
            out("daemon_" + label + "_warnings", static_cast<double>(count_lines(log, " warning [") + count_lines(log, " error [") + count_lines(log, " critical [")));
            rs.clear();
        }
        rs.stop();
        if (sample.empty()) {
            say("no forwarded message arrived: no ceiling");
        } else {
            say("ceiling: the Recipient alone ...");
            ceiling(o, sample);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_delivery: %s\n", e.what());
        return 1;
    }
    return 0;
}
