// The mapping engine alone on the discharge flow: the shipped rules (mappings/), with the rules'
// own test address book (test_recipients in mappings/00-common.yaml, parsed here: the engine has
// no public API for it), applied to K discharge messages made from tests/mappings/discharge/
// input.json, one distinct synthetic patient each (fødselsnummer with month + 80 and valid check
// digits, replaced everywhere in the message and in records.json; the sender's urn:uuid fullUrls,
// the Bundle id and the MessageHeader id made distinct too, as real messages have them).
//
// Everything is parsed before the clock. Each measurement runs for SECONDS, cycling over the K
// messages, and the whole series is repeated ROUNDS times, interleaved, the best of each kept (the
// machine is shared: interleaving keeps the ratios fair). Measured:
//   parse           fhir::json::parse of the message text (what the processing stage does first)
//   apply           mapping::apply, 1 and 2 threads on one shared RuleSet, with the patient's
//                   records from records.json (follow-up team, shared plan, goal)
//   apply_new       the same for a patient Helsebro holds nothing for yet (what bench/mapping.sh's
//                   daemon sees: every message is a new patient)
//   validate        fhir::validate over the records one apply produces (apply runs it on each
//                   before it keeps it), to give validation's share of apply
// Prints one JSON line.
//
// Usage: bench_mapping REPO_ROOT [K] [SECONDS] [ROUNDS]     (defaults 200, 2, 3)
//        bench_mapping REPO_ROOT --recipients-yaml          the test recipients as config YAML
//        bench_mapping REPO_ROOT --profile SECONDS [new]    apply only, single-threaded (for perf)
#include <yaml-cpp/yaml.h>

#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "adapter/mapping/mapping.hpp"
#include "fhir/json.hpp"
#include "bench/text.hpp"
#include "tests/support/norwegian.hpp"  // the synthetic test-identity convention
#include "fhir/validate.hpp"

using namespace helsebro;
using testing::fnr_check_digits;
namespace json = fhir::json;
using Clock = std::chrono::steady_clock;

namespace {

using bench::read_text;

using bench::replace_all;

json::Value parse_or_die(const std::string& text, const char* what) {
    json::ParseLimits limits;
    limits.max_depth = 512;
    auto parsed = json::parse(text, limits);
    if (!parsed.value) {
        std::fprintf(stderr, "%s: %s\n", what, parsed.error.message.c_str());
        std::exit(1);
    }
    return std::move(*parsed.value);
}

// mappings/00-common.yaml's test_recipients, read as the engine reads them.
std::vector<mapping::Recipient> test_recipients(const std::string& root) {
    std::vector<mapping::Recipient> out;
    const YAML::Node list = YAML::LoadFile(root + "/mappings/00-common.yaml")["test_recipients"];
    for (const auto& n : list) {
        mapping::Recipient r;
        r.id = n["id"].as<std::string>();
        if (n["endpoint"]) r.endpoint = n["endpoint"].as<std::string>();
        auto strings = [&](const char* key, std::vector<std::string>& v) {
            if (n[key])
                for (const auto& x : n[key]) v.push_back(x.as<std::string>());
        };
        strings("her_ids", r.her_ids);
        strings("organization_numbers", r.organization_numbers);
        strings("hpr_numbers", r.hpr_numbers);
        out.push_back(std::move(r));
    }
    return out;
}

void print_recipients_yaml(const std::vector<mapping::Recipient>& recipients) {
    std::printf("recipients:\n");
    auto list = [](const char* key, const std::vector<std::string>& v) {
        if (v.empty()) return;
        std::printf("    %s: [", key);
        for (std::size_t i = 0; i < v.size(); ++i) std::printf("%s\"%s\"", i ? ", " : "", v[i].c_str());
        std::printf("]\n");
    };
    for (const auto& r : recipients) {
        std::printf("  - id: %s\n    endpoint: %s\n", r.id.c_str(), r.endpoint.c_str());
        list("her_ids", r.her_ids);
        list("organization_numbers", r.organization_numbers);
        list("hpr_numbers", r.hpr_numbers);
    }
}

constexpr const char* template_fnr = "12834410034";
constexpr const char* template_uuid_prefix = "urn:uuid:0b7d5c1e-";
constexpr const char* template_header_id = "5e2f9a0c-8d4b-4f61-a3c7-1b0e6d2f7a01";
constexpr const char* template_bundle_id = "utskrivningsrapport-kari-1";

struct Patient {
    std::string text;             // the message as posted
    json::Value message;          // parsed
    std::vector<json::Value> records;  // records.json's resources, adjusted to this patient
};

struct Rates {
    double per_s = 0;      // calls per second of wall time
    double per_cpu_s = 0;  // calls per second of the running threads' CPU time (less sensitive to a busy machine)
    long count = 0;
    long failed = 0;
};

double thread_cpu_s() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Runs fn(i) for i = 0, 1, 2, ... on `threads` threads for `seconds`; the rate of calls per second.
Rates timed(int threads, double seconds, const std::function<bool(long)>& fn) {
    std::atomic<long> next{0}, failed{0};
    std::atomic<bool> stop{false};
    const auto t0 = Clock::now();
    std::vector<std::thread> pool;
    std::atomic<long> done{0};
    std::mutex cpu_mutex;
    double cpu = 0;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&] {
            const double c0 = thread_cpu_s();
            long mine = 0;
            while (!stop.load(std::memory_order_relaxed)) {
                if (!fn(next.fetch_add(1))) failed.fetch_add(1);
                ++mine;
            }
            done.fetch_add(mine);
            std::lock_guard lock(cpu_mutex);
            cpu += thread_cpu_s() - c0;
        });
    while (Clock::now() - t0 < std::chrono::duration<double>(seconds)) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    stop = true;
    for (auto& t : pool) t.join();
    const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    return Rates{static_cast<double>(done.load()) / elapsed, static_cast<double>(done.load()) / cpu, done.load(), failed.load()};
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_mapping REPO_ROOT [K] [SECONDS] [ROUNDS] | --recipients-yaml | --profile SECONDS [new]\n");
        return 2;
    }
    const std::string root = argv[1];
    const auto recipients = test_recipients(root);
    if (argc > 2 && std::string(argv[2]) == "--recipients-yaml") {
        print_recipients_yaml(recipients);
        return 0;
    }
    const bool profile = argc > 2 && std::string(argv[2]) == "--profile";
    const int k = profile ? 200 : (argc > 2 ? std::atoi(argv[2]) : 200);
    const double seconds = profile ? (argc > 3 ? std::atof(argv[3]) : 10) : (argc > 3 ? std::atof(argv[3]) : 2);
    const int rounds = profile ? 1 : (argc > 4 ? std::atoi(argv[4]) : 3);
    const bool profile_new = profile && argc > 4 && std::string(argv[4]) == "new";

    mapping::LoadOptions options;
    options.recipients = recipients;
    options.client_ids = std::vector<std::string>{"demo"};
    auto loaded = mapping::load(root + "/mappings", options);
    if (!loaded.rules) {
        for (const auto& e : loaded.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
        return 1;
    }
    const mapping::RuleSet& rules = *loaded.rules;

    const std::string input_text = read_text(root + "/tests/mappings/discharge/input.json");
    const std::string records_text = read_text(root + "/tests/mappings/discharge/records.json");
    std::vector<Patient> patients(static_cast<std::size_t>(k));
    testing::FnrSequence fnrs;
    for (int i = 0; i < k; ++i) {
        const std::string fnr = fnrs.next();
        char uuid[32], id[64];
        std::snprintf(uuid, sizeof uuid, "urn:uuid:%08x-", static_cast<unsigned>(i));
        std::snprintf(id, sizeof id, "5e2f9a0c-8d4b-4f61-a3c7-%012x", static_cast<unsigned>(i));
        std::string text = replace_all(input_text, template_fnr, fnr);
        text = replace_all(text, template_uuid_prefix, uuid);
        text = replace_all(text, template_header_id, id);
        text = replace_all(text, template_bundle_id, "utskrivningsrapport-" + std::to_string(i));
        Patient& p = patients[static_cast<std::size_t>(i)];
        p.text = std::move(text);
        p.message = parse_or_die(p.text, "message");
        const json::Value records = parse_or_die(replace_all(records_text, template_fnr, fnr), "records");
        for (const auto& e : records.find("entry")->items()) p.records.push_back(*e.find("resource"));
    }

    // As the processing stage: sender, message id, and "now" the instant the message was accepted.
    const auto now = std::chrono::sys_days{std::chrono::year{2026} / 1 / 15} + std::chrono::hours{12};
    auto apply_one = [&](const Patient& p, bool with_records, long n) {
        mapping::Input base;
        base.sender = "demo";
        base.message_id = std::to_string(n + 1);
        base.now = now;
        return mapping::apply(rules, mapping::inputs_of(p.message, base), [&](const mapping::PatientKey&) {
            return with_records ? p.records : std::vector<json::Value>{};
        });
    };

    // What one message gives, checked once: every one must map without error.
    const auto sample = apply_one(patients[0], true, 0);
    const auto sample_new = apply_one(patients[0], false, 0);
    if (!sample.ok || !sample_new.ok) {
        std::fprintf(stderr, "the rules failed: %s\n", (!sample.ok ? sample.error : sample_new.error).c_str());
        return 1;
    }
    std::string rules_applied;
    for (const auto& r : sample.rules_applied) rules_applied += (rules_applied.empty() ? "" : ",") + r;

    auto pick = [&](long n) -> const Patient& { return patients[static_cast<std::size_t>(n % k)]; };
    auto apply_fn = [&](bool with_records) {
        return [&, with_records](long n) { return apply_one(pick(n), with_records, n).ok; };
    };

    if (profile) {
        auto r = timed(1, seconds, apply_fn(!profile_new));
        std::printf("{\"profile_applies_per_s\":%.0f,\"failed\":%ld}\n", r.per_s, r.failed);
        return r.failed ? 1 : 0;
    }

    // The records one apply produces (and validates), per patient, for the validation share.
    std::vector<std::vector<json::Value>> produced(static_cast<std::size_t>(k)), produced_new(static_cast<std::size_t>(k));
    std::size_t bytes_out = 0;
    for (int i = 0; i < k; ++i) {
        for (auto& c : apply_one(patients[static_cast<std::size_t>(i)], true, i).changes) produced[static_cast<std::size_t>(i)].push_back(c.resource);
        for (auto& c : apply_one(patients[static_cast<std::size_t>(i)], false, i).changes)
            produced_new[static_cast<std::size_t>(i)].push_back(c.resource);
    }
    for (const auto& m : sample.messages) bytes_out += json::write(m.bundle).size();
    auto validate_fn = [&](const std::vector<std::vector<json::Value>>& sets) {
        return [&](long n) {
            bool ok = true;
            for (const auto& r : sets[static_cast<std::size_t>(n % k)]) ok = !fhir::has_errors(fhir::validate(r)) && ok;
            return ok;
        };
    };
    json::ParseLimits limits;
    limits.max_depth = 512;
    auto parse_fn = [&](long n) { return json::parse(pick(n).text, limits).value.has_value(); };

    Rates parse, apply1, apply2, new1, new2, validate, validate_new;
    auto best = [](Rates& keep, const Rates& r) {
        if (r.per_s > keep.per_s) keep.per_s = r.per_s;
        if (r.per_cpu_s > keep.per_cpu_s) keep.per_cpu_s = r.per_cpu_s;
        keep.count += r.count;
        keep.failed += r.failed;
    };
    const auto t0 = Clock::now();
    for (int r = 0; r < rounds; ++r) {
        best(parse, timed(1, seconds, parse_fn));
        best(apply1, timed(1, seconds, apply_fn(true)));
        best(apply2, timed(2, seconds, apply_fn(true)));
        best(new1, timed(1, seconds, apply_fn(false)));
        best(new2, timed(2, seconds, apply_fn(false)));
        best(validate, timed(1, seconds, validate_fn(produced)));
        best(validate_new, timed(1, seconds, validate_fn(produced_new)));
    }
    const double total_s = std::chrono::duration<double>(Clock::now() - t0).count();
    const long failures = apply1.failed + apply2.failed + new1.failed + new2.failed;

    std::printf(
        "{\"messages\":%d,\"message_bytes\":%zu,\"rounds\":%d,\"seconds_each\":%.1f,\"total_s\":%.0f,\"rule_set\":\"%s\","
        "\"rules_applied\":\"%s\",\"changes\":%zu,\"changes_new\":%zu,\"outgoing\":%zu,\"outgoing_new\":%zu,\"outgoing_bytes\":%zu,"
        "\"parse_per_s\":%.0f,\"apply_1t_per_s\":%.0f,\"apply_2t_per_s\":%.0f,\"apply_new_1t_per_s\":%.0f,"
        "\"apply_new_2t_per_s\":%.0f,\"apply_1t_per_cpu_s\":%.0f,\"apply_2t_per_cpu_s\":%.0f,\"apply_new_1t_per_cpu_s\":%.0f,"
        "\"apply_new_2t_per_cpu_s\":%.0f,\"validate_sets_per_s\":%.0f,\"validate_new_sets_per_s\":%.0f,\"failed\":%ld}\n",
        k, patients[0].text.size(), rounds, seconds, total_s, mapping::version(rules).c_str(), rules_applied.c_str(),
        sample.changes.size(), sample_new.changes.size(), sample.messages.size(), sample_new.messages.size(), bytes_out,
        parse.per_s, apply1.per_s, apply2.per_s, new1.per_s, new2.per_s, apply1.per_cpu_s, apply2.per_cpu_s, new1.per_cpu_s,
        new2.per_cpu_s, validate.per_s, validate_new.per_s, failures);
    return failures ? 1 : 0;
}
