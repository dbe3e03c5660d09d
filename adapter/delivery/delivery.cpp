#include "adapter/delivery/delivery.hpp"

#include <spdlog/spdlog.h>

#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>

#include "adapter/config/url.hpp"
#include "adapter/delivery/http_client.hpp"
#include "adapter/delivery/outcome.hpp"

namespace helsebro::delivery {

namespace {

using Task = std::function<void()>;

std::string instant(Clock::time_point t) { return store::to_instant(t); }

Clock::time_point from_ms(std::int64_t ms) { return Clock::time_point(milliseconds(ms)); }

Endpoint endpoint_of(const config::Recipient& r) {
    auto parsed = config::detail::parse_base_url(r.endpoint);
    if (auto* problem = std::get_if<config::detail::UrlProblem>(&parsed))
        throw std::runtime_error("recipient '" + r.id + "': " + problem->message);
    const auto& url = std::get<config::detail::BaseUrl>(parsed);
    return Endpoint{url.tls, url.host, url.port, url.path};
}

ClientOptions client_options(const config::Recipient& r) {
    ClientOptions o;
    o.recipient_id = r.id;
    o.timeout = std::chrono::seconds(std::max(1u, r.timeout_seconds));
    o.connect_timeout = std::min<milliseconds>(o.connect_timeout, o.timeout);
    o.handshake_timeout = std::min<milliseconds>(o.handshake_timeout, o.timeout);
    o.max_connections = std::max(1u, r.max_in_flight);
    o.tls = TlsOptions{r.tls.ca_file, r.tls.verify, r.tls.client_certificate_file, r.tls.client_key_file};
    if (!r.token.empty()) o.default_headers.push_back({"Authorization", "Bearer " + r.token});
    o.default_headers.push_back({"User-Agent", "Helsebro/" HELSEBRO_VERSION});
    return o;
}

}  // namespace

struct Engine::Impl : std::enable_shared_from_this<Impl> {
    // A patient's queue at one recipient: its first message, and whether it is under way.
    struct Lane {
        store::Queued head;
        bool busy = false;  // sending, or its result not yet committed
        Clock::time_point due;
        // Of the attempt under way.
        std::vector<Request> requests;
        std::size_t next_request = 0;
    };

    struct Recipient {
        config::Recipient config;
        std::unique_ptr<Client> client;
        std::unordered_map<std::string, Lane> lanes;
        std::set<std::tuple<Clock::time_point, std::int64_t, std::string>> due;  // (due, seq, lane) of idle lanes
        std::int64_t cursor = 0;  // queued rows up to here have been looked at
        bool scan = true;         // rows past the cursor may be waiting
        Clock::time_point scan_after{};  // after a failed read: not before then
        unsigned in_flight = 0;
        Circuit circuit;
        Clock::time_point paused_until{};
        RecipientStatus status;

        Recipient(const config::Recipient& c, unsigned threshold)
            : config(c),
              circuit(threshold, std::chrono::seconds(std::max(1u, c.retry.initial_delay_seconds)),
                      std::chrono::seconds(std::max(1u, c.retry.max_delay_seconds))) {
            status.id = c.id;
        }
    };

    store::Store& store;
    EngineOptions options;
    std::shared_ptr<spdlog::logger> log;
    std::vector<std::unique_ptr<Recipient>> recipients;

    // The engine's state belongs to its thread; others hand it tasks.
    mutable std::mutex mutex;
    std::condition_variable wake;
    std::deque<Task> tasks;
    bool stopping = false;
    bool started = false;
    std::atomic<bool> notified{false};  // a notify() task is queued
    std::thread thread;
    std::multimap<Clock::time_point, Task> timers;  // engine thread only
    std::mt19937_64 random{std::random_device{}()};
    std::vector<RecipientStatus> published;  // status() snapshot, under mutex

    Impl(store::Store& s, EngineOptions o) : store(s), options(o) {
        log = spdlog::get("delivery");
        if (!log) log = spdlog::default_logger()->clone("delivery");
    }

    void post(Task t) {
        std::lock_guard lock(mutex);
        if (stopping) return;
        tasks.push_back(std::move(t));
        wake.notify_one();
    }

    void run() {
        pthread_setname_np(pthread_self(), "hb-delivery");
        std::unique_lock lock(mutex);
        while (!stopping) {
            std::deque<Task> now_tasks;
            now_tasks.swap(tasks);
            lock.unlock();
            for (auto& t : now_tasks) guarded(t);
            run_timers();
            for (auto& r : recipients) {
                guarded([&] { admit(*r); });
                guarded([&] { dispatch(*r); });
            }
            publish();
            const auto next = next_wake();
            lock.lock();
            if (!tasks.empty() || stopping) continue;
            if (next) wake.wait_until(lock, *next);
            else wake.wait(lock);
        }
    }

    void later(Clock::time_point at, Task t) { timers.emplace(at, std::move(t)); }

    // A step that fails (a read refused: the store closing, I/O) is logged and the loop wakes again
    // within a second; each step restores what it holds, so the others still run.
    void guarded(const Task& t) {
        try {
            t();
        } catch (const std::exception& e) {
            log->error("Delivery: {}; trying again within a second.", e.what());
            later(Clock::now() + std::chrono::seconds(1), [] {});
        }
    }

    void run_timers() {
        const auto now = Clock::now();
        while (!timers.empty() && timers.begin()->first <= now) {
            Task t = std::move(timers.begin()->second);
            timers.erase(timers.begin());
            guarded(t);
        }
    }

    std::optional<Clock::time_point> next_wake() const {
        std::optional<Clock::time_point> next;
        auto consider = [&](Clock::time_point t) {
            if (!next || t < *next) next = t;
        };
        if (!timers.empty()) consider(timers.begin()->first);
        for (const auto& r : recipients) {
            if (r->scan && r->lanes.size() < options.max_lanes) consider(std::max(Clock::now(), r->scan_after));  // pages left
            if (r->due.empty() || r->in_flight >= r->config.max_in_flight) continue;
            // The probe's answer wakes the loop; until then nothing else may go.
            if (r->circuit.state() == Circuit::State::half_open && r->circuit.probing()) continue;
            Clock::time_point t = std::get<0>(*r->due.begin());
            t = std::max(t, r->paused_until);
            if (r->circuit.state() == Circuit::State::open) t = std::max(t, r->circuit.reopen_at());
            consider(t);
        }
        return next;
    }

    // Reads queued rows past the cursor: each one of a lane not yet held starts that lane.
    // A few pages per pass: a rescan of a long queue must not hold up answers and sends meanwhile
    // (next_wake() comes back at once while pages remain).
    void admit(Recipient& r) {
        if (Clock::now() < r.scan_after) return;
        for (int pages = 0; pages < 8 && r.scan && r.lanes.size() < options.max_lanes; ++pages) {
            std::vector<store::Queued> rows;
            try {
                rows = store.queued(r.config.id, r.cursor, 512);
            } catch (...) {
                r.scan_after = Clock::now() + std::chrono::seconds(1);
                throw;
            }
            if (rows.size() < 512) r.scan = false;
            for (auto& row : rows) {
                if (r.lanes.size() >= options.max_lanes) {
                    r.scan = true;  // the rest when lanes free up
                    break;
                }
                r.cursor = row.seq;
                std::string key = row.lane.empty() ? "#" + row.id : row.lane;
                if (r.lanes.count(key)) continue;  // behind that lane's head
                hold(r, key, std::move(row));
            }
            if (rows.empty()) break;
        }
    }

    void hold(Recipient& r, const std::string& key, store::Queued row) {
        Lane& lane = r.lanes[key];
        lane.due = from_ms(row.next_attempt_ms);
        lane.head = std::move(row);
        lane.busy = false;
        r.due.emplace(lane.due, lane.head.seq, key);
    }

    void dispatch(Recipient& r) {
        const auto now = Clock::now();
        while (!r.due.empty() && r.in_flight < r.config.max_in_flight && now >= r.paused_until) {
            auto first = r.due.begin();
            if (std::get<0>(*first) > now) break;
            if (!r.circuit.allow(now)) break;
            const std::string key = std::get<2>(*first);
            r.due.erase(first);
            start_attempt(r, key);
        }
    }

    void start_attempt(Recipient& r, const std::string& key) {
        Lane& lane = r.lanes.at(key);
        lane.busy = true;
        std::optional<std::string> body;
        try {
            body = store.outgoing_body(lane.head.id);
        } catch (...) {
            r.circuit.abandon_probe();
            lane.busy = false;
            lane.due = Clock::now() + std::chrono::seconds(1);
            r.due.emplace(lane.due, lane.head.seq, key);
            throw;
        }
        if (!body) {  // discarded (or delivered) since it was read: the lane moves on
            r.circuit.abandon_probe();
            advance(r, key);
            return;
        }
        try {
            lane.requests = requests_for(r.config.style, *body, lane.head.id);  // the outbox id is Bundle.id
        } catch (const std::exception& e) {
            // Not the recipient's doing: its circuit is left as it is.
            r.circuit.abandon_probe();
            ++r.in_flight;
            finish(r, key, Verdict{Verdict::Kind::dead, e.what(), {}, false}, Result{}, /*local=*/true);
            return;
        }
        lane.next_request = 0;
        ++r.in_flight;
        send_next(r, key);
    }

    void send_next(Recipient& r, const std::string& key) {
        Lane& lane = r.lanes.at(key);
        const Request& q = lane.requests[lane.next_request];
        std::vector<http::Header> headers{{"Content-Type", "application/fhir+json"},
                                          {"Accept", "application/fhir+json"},
                                          {"Idempotency-Key", q.idempotency_key}};
        std::weak_ptr<Impl> self = shared_from_this();
        Recipient* rp = &r;
        r.client->send(q.method, q.path, std::move(headers), q.body, [self, rp, key](Result result) {
            if (auto impl = self.lock())
                impl->post([impl = impl.get(), rp, key, result = std::move(result)]() mutable {
                    impl->answered(*rp, key, std::move(result));
                });
        });
    }

    void answered(Recipient& r, const std::string& key, Result result) {
        Lane& lane = r.lanes.at(key);
        Verdict v = judge(result, Clock::now());
        if (v.kind == Verdict::Kind::delivered && ++lane.next_request < lane.requests.size()) {
            send_next(r, key);
            return;
        }
        if (lane.requests.size() > 1 && v.kind != Verdict::Kind::delivered)
            v.reason = "request " + std::to_string(lane.next_request + 1) + " of " + std::to_string(lane.requests.size()) +
                       ": " + v.reason;
        finish(r, key, std::move(v), std::move(result));
    }

    void finish(Recipient& r, const std::string& key, Verdict v, const Result& result, bool local = false) {
        Lane& lane = r.lanes.at(key);
        const auto now = Clock::now();
        --r.in_flight;
        if (!local) {  // a local failure says nothing about the recipient
            if (v.recipient_fault) r.circuit.fault(now);
            else circuit_success(r, now);
        }
        if (v.retry_after) r.paused_until = std::max(r.paused_until, now + *v.retry_after);

        store::Attempt a = decide(v, result, lane.head, r.config.retry, now, random(), options.max_kept_response);
        r.status.last_attempt_at = instant(now);
        r.status.last_status = a.status;
        r.status.last_error = a.error;
        if (a.result == store::Attempt::Result::delivered) {
            ++r.status.delivered;
            log->debug("Delivered {} to {} ({}).", lane.head.id, r.config.id, v.reason);
        } else if (a.result == store::Attempt::Result::dead) {
            ++r.status.dead;
            log->warn("Message {} to {} is a dead letter: {}.", lane.head.id, r.config.id, a.error);
        } else {
            ++r.status.retried;
            log->info("Message {} to {} will be tried again at {} (attempt {}): {}.", lane.head.id, r.config.id,
                      instant(from_ms(a.next_attempt_ms)), lane.head.attempts + 1, v.reason);
        }
        record(r, key, std::move(a));
    }

    // Commits the attempt; only then does the lane move on (a crash before it resends the message).
    void record(Recipient& r, const std::string& key, store::Attempt a) {
        const std::string id = r.lanes.at(key).head.id;
        // Set only once the statement ran: a job rolled back inside a batch that committed
        // recorded nothing, and is done again like a failed commit.
        auto still_queued = std::make_shared<std::optional<bool>>();
        auto attempt = std::make_shared<store::Attempt>(std::move(a));
        std::weak_ptr<Impl> self = shared_from_this();
        Recipient* rp = &r;
        auto job = [id, attempt, still_queued](store::Tx& tx) {
            *still_queued = tx.record_attempt(id, *attempt);
            return true;
        };
        auto done = [self, rp, key, attempt, still_queued](bool committed) {
            if (auto impl = self.lock())
                impl->post([impl = impl.get(), rp, key, attempt, still_queued, committed] {
                    impl->recorded(*rp, key, *attempt, still_queued->value_or(false), committed && still_queued->has_value());
                });
        };
        if (!store.submit(job, done, 0, store::Store::Priority::background)) {
            // The store is full of work: try again shortly. The row is still queued meanwhile.
            later(Clock::now() + milliseconds(200), [this, rp, key, attempt] { record(*rp, key, *attempt); });
        }
    }

    void recorded(Recipient& r, const std::string& key, const store::Attempt& a, bool still_queued, bool committed) {
        if (!committed) {
            log->error("The result of delivering {} to {} could not be stored; trying again.", r.lanes.at(key).head.id, r.config.id);
            Recipient* rp = &r;
            later(Clock::now() + std::chrono::seconds(1), [this, rp, key, a] { record(*rp, key, a); });
            return;
        }
        Lane& lane = r.lanes.at(key);
        if (a.result == store::Attempt::Result::retry && still_queued) {
            ++lane.head.attempts;
            lane.head.next_attempt_ms = a.next_attempt_ms;
            lane.due = from_ms(a.next_attempt_ms);
            lane.busy = false;
            r.due.emplace(lane.due, lane.head.seq, key);
            return;
        }
        advance(r, key);
    }

    // The lane's head is done with: its next message becomes the head, or the lane is let go. A
    // head still queued (its record did not take) is held again: sent again, with its id.
    void advance(Recipient& r, const std::string& key) {
        Lane& lane = r.lanes.at(key);
        std::optional<store::Queued> next;
        try {
            if (!lane.head.lane.empty()) {
                next = store.next_in_lane(r.config.id, lane.head.lane);
            } else if (auto row = store.outgoing(lane.head.id, false); row && row->state == "queued") {
                next = row->queued;
            }
        } catch (...) {
            Recipient* rp = &r;
            later(Clock::now() + std::chrono::seconds(1), [this, rp, key] { advance(*rp, key); });
            throw;
        }
        if (next) {
            hold(r, key, std::move(*next));
            return;
        }
        r.lanes.erase(key);
        r.scan = true;  // room for a lane the window had no space for
    }

    void circuit_success(Recipient& r, Clock::time_point now);

    void publish() {
        std::vector<RecipientStatus> out;
        for (const auto& r : recipients) {
            RecipientStatus s = r->status;
            s.circuit = std::string(to_string(r->circuit.state()));
            s.consecutive_faults = r->circuit.consecutive_faults();
            s.next_probe_at = r->circuit.state() == Circuit::State::open ? instant(r->circuit.reopen_at()) : "";
            s.paused_until = r->paused_until > Clock::now() ? instant(r->paused_until) : "";
            s.lanes = r->lanes.size();
            s.in_flight = r->in_flight;
            out.push_back(std::move(s));
        }
        std::lock_guard lock(mutex);
        published = std::move(out);
    }
};

void Engine::Impl::circuit_success(Recipient& r, Clock::time_point now) {
    const bool was_down = r.circuit.state() != Circuit::State::closed;
    r.circuit.success();
    if (!was_down) return;
    log->info("Recipient {} answers again; its circuit is closed.", r.config.id);
    decltype(r.due) again;
    for (const auto& [due, seq, key] : r.due) again.emplace(std::min(due, now), seq, key);
    r.due.swap(again);
}

Engine::Engine(store::Store& store, const std::vector<config::Recipient>& recipients, EngineOptions options)
    : impl_(std::make_shared<Impl>(store, options)) {
    for (const auto& c : recipients) {
        auto r = std::make_unique<Impl::Recipient>(c, options.circuit_threshold);
        r->client = std::make_unique<Client>(endpoint_of(c), client_options(c));
        impl_->recipients.push_back(std::move(r));
    }
    impl_->publish();
}

Engine::~Engine() { stop(); }

void Engine::start() {
    std::lock_guard lock(impl_->mutex);
    if (impl_->started) return;
    impl_->started = true;
    impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

void Engine::notify() {
    // Called after every commit (its own records' included): one pending wake-up is enough.
    if (impl_->notified.exchange(true)) return;
    impl_->post([impl = impl_.get()] {
        impl->notified = false;
        for (auto& r : impl->recipients) r->scan = true;
    });
}

void Engine::rescan(std::vector<std::string> discarded) {
    impl_->post([impl = impl_.get(), gone = std::set<std::string>(discarded.begin(), discarded.end())] {
        for (auto& r : impl->recipients) {
            r->cursor = 0;
            r->scan = true;
            if (gone.empty()) continue;
            std::vector<std::string> keys;
            for (const auto& [key, lane] : r->lanes)
                if (!lane.busy && gone.count(lane.head.id)) keys.push_back(key);
            for (const auto& key : keys) {
                Impl::Lane& lane = r->lanes.at(key);
                r->due.erase({lane.due, lane.head.seq, key});
                lane.busy = true;  // as if its attempt had just ended
                impl->guarded([&] { impl->advance(*r, key); });
            }
        }
    });
}

void Engine::stop() {
    {
        std::lock_guard lock(impl_->mutex);
        if (impl_->stopping) return;
        impl_->stopping = true;
        impl_->wake.notify_all();
    }
    if (impl_->thread.joinable()) impl_->thread.join();
    // Answers still coming in find the engine stopped and are dropped: their rows stay queued.
    for (auto& r : impl_->recipients) r->client->shutdown();
}

std::vector<RecipientStatus> Engine::status() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->published;
}

std::vector<std::string> Engine::open_circuits() const {
    std::vector<std::string> out;
    for (const auto& s : status())
        if (s.circuit != "closed") out.push_back(s.id);
    return out;
}

}  // namespace helsebro::delivery
