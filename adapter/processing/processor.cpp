#include <spdlog/spdlog.h>

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "adapter/auth/auth.hpp"
#include "adapter/ingress/resource_ops.hpp"
#include "adapter/processing/inputs.hpp"
#include "adapter/processing/processing.hpp"

namespace helsebro::processing {
namespace {

namespace json = fhir::json;

// Messages looked at per round; their store jobs share commits. One round is made ready while
// the writer commits the one before (the writer, with its fsyncs, sets the pace: waiting for it
// between rounds left both cores a third idle). A crash loses at most two rounds of work, which
// is then simply redone.
constexpr std::size_t batch_size = 64;

std::string key_text(const mapping::PatientKey& k) { return k.system + "|" + k.value; }

// The outbox orders a patient's messages by this, and never needs to know who the patient is.
std::string lane_of(const mapping::PatientKey& k) {
    if (k.value.empty()) return {};
    return auth::to_hex(auth::sha256(key_text(k))).substr(0, 32);
}

// How one message's store job ended.
// skipped: an earlier message of its chain did not get stored, so this one wrote nothing either
// (it must not overtake it) and is processed again.
enum class Stored { yes, refused, not_committed, skipped };

// Shared by the jobs of one chain (one patient's messages of a round), on the writer thread: once
// one of them is not stored, the rest must not be stored ahead of it. `after` are the chains of
// the round before with the same patients, whose jobs may still be on their way: the writer runs
// them first, and a failure there holds this chain too.
struct Chain {
    std::shared_ptr<std::atomic<bool>> failed = std::make_shared<std::atomic<bool>>(false);
    std::vector<std::shared_ptr<std::atomic<bool>>> after;

    bool held() const {
        return failed->load() || std::any_of(after.begin(), after.end(), [](const auto& f) { return f->load(); });
    }
    void fail() const { failed->store(true); }
};

// A message whose store job is on its way, with what is needed to mark it failed if the job
// refuses (throws): it must then wait, visible, rather than stay silently unprocessed.
struct InFlight {
    std::shared_ptr<std::promise<Stored>> done;
    std::shared_ptr<std::string> failure;  // why the job refused; set on the writer thread
    std::int64_t message_id = 0;
    std::string version, patients;
    std::vector<mapping::PatientKey> keys;
    // What the job used, held until its round is complete so that the single writer, which drops
    // its own copy with the batch, is seldom the one to free it. (The rules' outcome itself is
    // freed as soon as it is prepared, on the thread that mapped it.)
    std::shared_ptr<const void> held;
};

// A change made ready for the writer on the processing thread: serialized and its search rows
// made, with the version the record will most likely get.
struct PreparedChange {
    ingress::Prepared record;
    std::int64_t expected_version = 1;
    mapping::PatientKey patient;
};

// One stored Provenance (mapping::provenance_groups), prepared for the versions expected.
struct PreparedProvenance {
    json::Value provenance;             // targets unversioned
    std::vector<std::size_t> changes;   // into the prepared changes
    ingress::Prepared prepared;
};

// The Provenance naming the exact version of each record it explains.
json::Value versioned(json::Value provenance, const std::vector<std::int64_t>& versions) {
    json::Value* targets = provenance.find("target");
    for (std::size_t i = 0; targets && i < targets->items().size() && i < versions.size(); ++i) {
        json::Value& ref = targets->items()[i];
        ref.set("reference", json::Value::string(std::string(*ref.string_at("reference")) + "/_history/" + std::to_string(versions[i])));
    }
    return provenance;
}

PreparedChange prepare_change(const mapping::Change& change) {
    PreparedChange p;
    p.patient = change.patient;
    const std::string type(*change.resource.string_at("resourceType"));
    const std::string id(*change.resource.string_at("id"));
    // An updated record carries the version the rules read; the store gives it the next one,
    // unless something else wrote it meanwhile (then the job makes the Provenance again).
    if (const json::Value* meta = change.resource.find("meta"))
        if (auto v = meta->string_at("versionId")) p.expected_version = std::strtoll(std::string(*v).c_str(), nullptr, 10) + 1;
    p.record = ingress::prepare(change.resource, type, id);
    return p;
}

}  // namespace

struct Processor::Impl {
    store::Store& store;
    RuleSource rules;
    std::shared_ptr<spdlog::logger> log = spdlog::get("processing") ? spdlog::get("processing") : spdlog::default_logger();

    mutable std::mutex mutex;
    std::condition_variable wake;
    std::condition_variable idle;
    bool running = false, stopping = false, pending = false, retry = false, busy = false;
    std::uint64_t generation = 0, idle_generation = 0;
    Stats stats;
    std::thread thread;

    std::int64_t cursor = 0;                        // last message looked at
    // Chains of a round run on this many threads; `shared` guards what they share (blocked,
    // overlay), each chain touching only its own patients' entries.
    unsigned workers = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
    std::mutex shared;
    std::set<std::string> blocked;                  // patients behind a failed message
    // Records changed by jobs of this round or the one before that may not be committed yet: later
    // messages must see them, as if processed one by one. Each entry names the round that made it,
    // and leaves when that round is committed (unless a later round changed the record again).
    std::map<mapping::PatientKey, std::map<std::string, std::pair<std::uint64_t, json::Value>>> overlay;
    // Received resources linked to a patient by a job of this round or the one before that may not
    // be committed yet (type, id), with the round: later messages find them as the store has them.
    std::map<mapping::PatientKey, std::map<std::pair<std::string, std::string>, std::uint64_t>> pending_links;
    // Per patient, the chain of the latest round that had one of its messages.
    std::map<std::string, std::pair<std::uint64_t, std::shared_ptr<std::atomic<bool>>>> latest_chain;

    // A round whose store jobs are on their way.
    struct Round {
        std::uint64_t number = 0;
        std::int64_t first_message = 0;
        std::vector<InFlight> commits;
    };
    std::uint64_t rounds = 0;              // the number of the round being made ready
    std::optional<Round> in_flight;

    Impl(store::Store& s, RuleSource r) : store(s), rules(std::move(r)) {}

    void loop() {
        for (;;) {
            {
                std::unique_lock lock(mutex);
                wake.wait(lock, [&] { return stopping || pending || retry; });
                if (stopping) return;
                if (retry) {
                    retry = false;
                    lock.unlock();
                    reset_failed();
                    lock.lock();
                }
                pending = false;
                busy = true;
            }
            const std::uint64_t seen = [&] {
                std::lock_guard lock(mutex);
                return generation;
            }();
            for (;;) {
                try {
                    if (!round()) break;
                } catch (const std::exception& e) {
                    // A read of the store failed (I/O, a locked or damaged file): what was handed
                    // to the writer is settled and the round is read again after a pause, rather
                    // than the processing thread ending the daemon.
                    log->error("Processing paused: reading the store failed ({}); trying again in 1 s.", e.what());
                    complete_in_flight();
                    std::unique_lock lock(mutex);
                    wake.wait_for(lock, std::chrono::seconds(1), [&] { return stopping; });
                }
                std::lock_guard lock(mutex);
                if (stopping) break;
            }
            complete_in_flight();  // idle means committed
            std::lock_guard lock(mutex);
            busy = false;
            idle_generation = seen;
            idle.notify_all();
        }
    }

    // Runs f(0..n-1) on up to `workers` threads, this one included. The first exception is
    // rethrown here once every f has run or thrown: one that escaped a helper thread would end
    // the daemon.
    void parallel(std::size_t n, const std::function<void(std::size_t)>& f) const {
        std::atomic<std::size_t> next{0};
        std::mutex failed_mutex;
        std::exception_ptr failed;
        auto work = [&] {
            for (std::size_t i = next++; i < n; i = next++) {
                try {
                    f(i);
                } catch (...) {
                    std::lock_guard lock(failed_mutex);
                    if (!failed) failed = std::current_exception();
                }
            }
        };
        std::vector<std::thread> helpers;
        for (unsigned w = 1; w < workers && w < n; ++w)
            helpers.emplace_back([&] {
                pthread_setname_np(pthread_self(), "hb-process");
                work();
            });
        work();
        for (auto& t : helpers) t.join();
        if (failed) std::rethrow_exception(failed);
    }

    // The round's messages in chains that share no patient: each chain keeps its messages in the
    // order accepted (one patient's records change in that order), chains run side by side.
    static std::vector<std::vector<std::size_t>> chains_by_patient(const std::vector<StoredInputs>& ins) {
        std::vector<std::size_t> parent(ins.size());
        for (std::size_t i = 0; i < parent.size(); ++i) parent[i] = i;
        auto root = [&](std::size_t i) {
            while (parent[i] != i) i = parent[i] = parent[parent[i]];
            return i;
        };
        std::map<std::string, std::size_t> first_with;
        for (std::size_t i = 0; i < ins.size(); ++i)
            for (const auto& k : ins[i].patients) {
                auto [it, fresh] = first_with.emplace(key_text(k), i);
                if (!fresh) parent[root(i)] = root(it->second);
            }
        std::map<std::size_t, std::vector<std::size_t>> chains;
        for (std::size_t i = 0; i < ins.size(); ++i) chains[root(i)].push_back(i);  // ascending: the order accepted
        std::vector<std::vector<std::size_t>> out;
        for (auto& [r, chain] : chains) out.push_back(std::move(chain));
        return out;
    }

    // Makes one batch of unprocessed messages ready and hands it to the writer, then waits for the
    // round before it; false when there was nothing to do.
    bool round() {
        auto rule_set = rules();
        if (!rule_set) return complete_in_flight();
        auto entries = store.unprocessed(cursor, batch_size);
        if (entries.empty()) return complete_in_flight();
        cursor = entries.back().message_id;
        const std::uint64_t number = ++rounds;
        std::vector<std::optional<InFlight>> flights(entries.size());
        try {
            return round(number, entries, rule_set, flights);
        } catch (...) {
            // Settle whatever of this round reached the writer, then read the round again: the
            // messages stored meanwhile have their processing rows and are not read twice.
            Round r{number, entries.front().message_id, {}};
            for (auto& f : flights)
                if (f) r.commits.push_back(std::move(*f));
            complete_in_flight_ok();
            complete(r);
            cursor = std::min(cursor, entries.front().message_id - 1);
            throw;
        }
    }

    bool round(std::uint64_t number, const std::vector<store::InboxEntry>& entries,
               const std::shared_ptr<const mapping::RuleSet>& rule_set, std::vector<std::optional<InFlight>>& flights) {
        std::vector<StoredInputs> ins(entries.size());
        parallel(entries.size(), [&](std::size_t i) { ins[i] = inputs_of(store, entries[i]); });
        const auto groups = chains_by_patient(ins);
        std::vector<Chain> chains(groups.size());
        for (std::size_t c = 0; c < groups.size(); ++c) {
            for (std::size_t i : groups[c])
                for (const auto& k : ins[i].patients) {
                    auto& latest = latest_chain[key_text(k)];
                    if (latest.second && latest.first != number &&
                        std::find(chains[c].after.begin(), chains[c].after.end(), latest.second) == chains[c].after.end())
                        chains[c].after.push_back(latest.second);
                    latest = {number, chains[c].failed};
                }
        }
        parallel(groups.size(), [&](std::size_t c) {
            for (std::size_t i : groups[c]) {
                flights[i] = process(entries[i], ins[i], rule_set, chains[c], number);
                ins[i] = {};  // freed here, on this chain's thread
            }
        });
        Round r{number, entries.front().message_id, {}};
        for (auto& f : flights) r.commits.push_back(std::move(*f));
        flights.clear();
        if (!complete_in_flight_ok()) {
            // Messages of this round may have been held behind it: settle this one too before the
            // cursor goes back, so that none of its messages is read again while on its way.
            complete(r);
            return true;
        }
        in_flight = std::move(r);
        return true;
    }

    // Waits for the round on its way, if any; true when there was one.
    bool complete_in_flight() {
        if (!in_flight) return false;
        complete_in_flight_ok();
        return true;
    }

    bool complete_in_flight_ok() {
        if (!in_flight) return true;
        Round r = std::move(*in_flight);
        in_flight.reset();
        return complete(r);
    }

    // Waits for a round's commits; marks refused messages failed and, when a commit failed or
    // messages were skipped, sends the cursor back to read them again. False in that case.
    bool complete(Round& r) {
        bool all = true;
        std::vector<InFlight> refused;
        for (auto& c : r.commits) {
            const Stored result = c.done->get_future().get();
            all = all && result != Stored::not_committed && result != Stored::skipped;
            if (result == Stored::refused) refused.push_back(std::move(c));
        }
        r.commits.clear();
        {
            std::lock_guard lock(shared);
            for (auto it = overlay.begin(); it != overlay.end();) {
                std::erase_if(it->second, [&](const auto& e) { return e.second.first == r.number; });
                it = it->second.empty() ? overlay.erase(it) : std::next(it);
            }
            for (auto it = pending_links.begin(); it != pending_links.end();) {
                std::erase_if(it->second, [&](const auto& e) { return e.second == r.number; });
                it = it->second.empty() ? pending_links.erase(it) : std::next(it);
            }
        }
        std::erase_if(latest_chain, [&](const auto& e) { return e.second.first == r.number; });
        for (auto& f : refused) {
            log->error("The results of message {} could not be stored ({}); it waits as failed.", f.message_id, *f.failure);
            StoredInputs keys_only;
            keys_only.patients = f.keys;
            auto again = finish(f.message_id, "failed", f.version, "its results could not be stored: " + *f.failure, f.patients,
                                keys_only, {}, Chain{});
            all = again.done->get_future().get() == Stored::yes && all;
        }
        if (!all) {
            // A commit failed (disk full, I/O), or messages were skipped behind one of their patient
            // that was not stored: they have no processing row and are found again; start over
            // from the beginning of the round after a pause.
            cursor = std::min(cursor, r.first_message - 1);
            log->error("Processing results could not be stored; retrying.");
            std::unique_lock lock(mutex);
            wake.wait_for(lock, std::chrono::seconds(1), [&] { return stopping; });
        }
        return all;
    }

    std::vector<json::Value> records_for(const mapping::PatientKey& key) {
        std::map<std::string, json::Value> changed;  // a copy: other chains change the overlay meanwhile
        std::vector<std::pair<std::string, std::string>> linked;
        {
            std::lock_guard lock(shared);
            if (auto it = overlay.find(key); it != overlay.end())
                for (const auto& [name, entry] : it->second) changed.emplace(name, entry.second);
            if (auto it = pending_links.find(key); it != pending_links.end())
                for (const auto& [link, round_number] : it->second) linked.push_back(link);
        }
        std::vector<json::Value> out;
        std::set<std::string> seen;
        for (auto& v : store.patient_records(key.system, key.value)) {
            auto parsed = json::parse(v.json, {512});
            if (!parsed.value) continue;
            auto name = v.type + "/" + v.id;
            if (changed.count(name)) continue;
            seen.insert(std::move(name));
            out.push_back(std::move(*parsed.value));
        }
        for (const auto& [type, id] : linked) {
            const std::string name = type + "/" + id;
            if (seen.count(name) || changed.count(name)) continue;
            auto v = store.read(type, id);
            if (!v || v->deleted) continue;
            if (auto parsed = json::parse(v->json, {512}); parsed.value) out.push_back(std::move(*parsed.value));
        }
        for (auto& [name, record] : changed) out.push_back(std::move(record));
        return out;
    }

    InFlight process(const store::InboxEntry& entry, const StoredInputs& in, const std::shared_ptr<const mapping::RuleSet>& rule_set,
                     const Chain& chain, std::uint64_t round_number) {
        std::string patients;
        bool is_blocked = false;
        {
            std::lock_guard lock(shared);
            for (const auto& k : in.patients) {
                patients += (patients.empty() ? "" : " ") + key_text(k);
                is_blocked = is_blocked || blocked.count(key_text(k));
            }
        }
        // The job links the received data to its patients whatever the rules do; until it commits,
        // later messages find those links here. Not before mapping: the message has its own
        // received data as input, not as records.
        auto linking = [&](InFlight flight) {
            std::lock_guard lock(shared);
            for (const auto& l : in.links) pending_links[l.patient][{l.type, l.id}] = round_number;
            return flight;
        };
        const std::string& version = mapping::version(*rule_set);
        if (!in.error.empty()) return linking(finish(entry.message_id, "failed", version, in.error, patients, in, {}, chain));
        if (is_blocked) return linking(finish(entry.message_id, "waiting", version, "", patients, in, {}, chain));
        auto outcome = mapping::apply(*rule_set, in.inputs, [this](const mapping::PatientKey& k) { return records_for(k); });
        if (!outcome.ok) {
            log->warn("Message {} waits: its mapping rules failed: {}", entry.message_id, outcome.error);
            return linking(finish(entry.message_id, "failed", version, outcome.error, patients, in, {}, chain));
        }
        {
            std::lock_guard lock(shared);
            for (const auto& c : outcome.changes)
                overlay[c.patient][std::string(*c.resource.string_at("resourceType")) + "/" + std::string(*c.resource.string_at("id"))] = {
                    round_number, c.resource};
        }
        return linking(finish(entry.message_id, "done", version, "", patients, in, std::move(outcome), chain));
    }

    InFlight finish(std::int64_t message_id, std::string state, std::string version, std::string error,
                    std::string patients, const StoredInputs& in, std::optional<mapping::Outcome> outcome,
                    Chain chain) {
        if (state != "done") {
            std::lock_guard lock(shared);
            for (const auto& k : in.patients) blocked.insert(key_text(k));
        }
        // Received data is the patient's whatever the rules do with it.
        auto links = std::make_shared<std::vector<StoredInputs::Link>>(in.links);
        InFlight flight{std::make_shared<std::promise<Stored>>(), std::make_shared<std::string>(), message_id, version,
                        patients, in.patients, {}};
        auto result = std::make_shared<mapping::Outcome>(outcome ? std::move(*outcome) : mapping::Outcome{});
        struct Ready {
            std::vector<PreparedChange> changes;
            std::vector<PreparedProvenance> provenance;
            std::vector<std::tuple<std::string, std::string, std::string, std::string>> messages;  // id, recipient, lane, body
        };
        auto ready = std::make_shared<Ready>();
        for (const auto& change : result->changes) ready->changes.push_back(prepare_change(change));
        for (auto& g : mapping::provenance_groups(*result)) {
            std::vector<std::int64_t> expected;
            for (std::size_t i : g.changes) expected.push_back(ready->changes[i].expected_version);
            const std::string id(*g.provenance.string_at("id"));
            auto prepared = ingress::prepare(versioned(g.provenance, expected), "Provenance", id);
            ready->provenance.push_back(PreparedProvenance{std::move(g.provenance), std::move(g.changes), std::move(prepared)});
        }
        for (const auto& m : result->messages)
            ready->messages.emplace_back(std::string(*m.bundle.string_at("id")), m.recipient, lane_of(m.patient), json::write(m.bundle));
        flight.held = ready;
        const std::size_t changes = result->changes.size(), messages = result->messages.size();
        result.reset();
        auto failure = flight.failure;
        auto skipped = std::make_shared<bool>(false);
        auto job = [=](store::Tx& tx) {
            if (chain.held()) {  // its patient's earlier message was not stored
                chain.fail();
                *skipped = true;
                return false;
            }
            try {
                for (const auto& l : *links) tx.link_patient({l.patient.system, l.patient.value}, l.type, l.id);
                std::vector<std::int64_t> versions;
                for (const auto& change : ready->changes) versions.push_back(write_change(tx, message_id, change));
                for (const auto& p : ready->provenance) write_provenance(tx, message_id, p, ready->changes, versions);
                for (const auto& [id, recipient, lane, body] : ready->messages)
                    tx.queue_outgoing(id, message_id, recipient, lane, body);
                tx.set_processing(message_id, state, version, error, patients);
                return true;
            } catch (const std::exception& e) {
                *failure = *e.what() ? e.what() : "an unnamed error";  // rolled back: round() marks it failed
                chain.fail();
                return false;
            }
        };
        auto promise = flight.done;
        auto done = [this, promise, state, changes, messages, failure, skipped, chain](bool committed) {
            if (!committed) {
                chain.fail();
                return promise->set_value(Stored::not_committed);
            }
            if (*skipped) return promise->set_value(Stored::skipped);
            if (!failure->empty()) return promise->set_value(Stored::refused);
            {
                std::lock_guard lock(mutex);
                if (state == "done") ++stats.processed;
                else if (state == "failed") ++stats.failed;
                else ++stats.waiting;
                stats.changes += changes;
                stats.messages += messages;
            }
            promise->set_value(Stored::yes);
        };
        while (!store.submit(job, done, 0, store::Store::Priority::background)) {  // the queue is full: intake has priority, wait our turn
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return flight;
    }

    // Returns the version the record has now.
    static std::int64_t write_change(store::Tx& tx, std::int64_t message_id, const PreparedChange& p) {
        auto stored = ingress::update(tx, message_id, p.record, "");
        if (!stored.ok()) throw std::runtime_error("a mapped " + p.record.type + " could not be stored");
        tx.link_patient({p.patient.system, p.patient.value}, p.record.type, p.record.id);
        return stored.version;
    }

    static void write_provenance(store::Tx& tx, std::int64_t message_id, const PreparedProvenance& p,
                                 const std::vector<PreparedChange>& changes, const std::vector<std::int64_t>& versions) {
        std::vector<std::int64_t> actual;
        bool as_expected = true;
        for (std::size_t i : p.changes) {
            actual.push_back(versions[i]);
            as_expected = as_expected && versions[i] == changes[i].expected_version;
        }
        if (as_expected) {
            ingress::update(tx, message_id, p.prepared, "");
            return;
        }
        ingress::update(tx, message_id, ingress::prepare(versioned(p.provenance, actual), "Provenance", p.prepared.id), "");
    }

    void reset_failed() {
        std::promise<bool> reset;
        store.submit([](store::Tx& tx) { tx.clear_failed_processing(); return true; },
                     [&](bool committed) { reset.set_value(committed); }, 0, store::Store::Priority::background);
        reset.get_future().get();
        cursor = 0;
        blocked.clear();
        std::lock_guard lock(mutex);
        pending = true;
    }
};

Processor::Processor(store::Store& store, RuleSource rules) : impl_(std::make_unique<Impl>(store, std::move(rules))) {}

Processor::~Processor() { stop(); }

void Processor::start() {
    std::lock_guard lock(impl_->mutex);
    if (impl_->running) return;
    impl_->running = true;
    impl_->pending = true;
    // Patients behind failed messages stay blocked across restarts.
    for (const auto& key : impl_->store.blocked_patients()) impl_->blocked.insert(key);
    impl_->thread = std::thread([this] {
        pthread_setname_np(pthread_self(), "hb-process");
        impl_->loop();
    });
}

void Processor::notify() {
    std::lock_guard lock(impl_->mutex);
    impl_->pending = true;
    ++impl_->generation;
    impl_->wake.notify_one();
}

void Processor::retry_failed() {
    std::lock_guard lock(impl_->mutex);
    impl_->retry = true;
    ++impl_->generation;
    impl_->wake.notify_one();
}

void Processor::stop() {
    {
        std::lock_guard lock(impl_->mutex);
        if (!impl_->running) return;
        impl_->stopping = true;
        impl_->running = false;
        impl_->wake.notify_one();
    }
    if (impl_->thread.joinable()) impl_->thread.join();
    std::lock_guard lock(impl_->mutex);
    impl_->idle.notify_all();
}

void Processor::wait_idle() {
    std::unique_lock lock(impl_->mutex);
    const std::uint64_t target = ++impl_->generation;
    impl_->pending = true;
    impl_->wake.notify_one();
    impl_->idle.wait(lock, [&] { return !impl_->running || (!impl_->busy && !impl_->pending && impl_->idle_generation >= target); });
}

Stats Processor::stats() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->stats;
}

}  // namespace helsebro::processing
