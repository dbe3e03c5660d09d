// The rules' own tests: input (and records held before) through apply(), compared with the
// expected outcome file; --update rewrites those files from what the rules do now.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "adapter/mapping/assign.hpp"
#include "fhir/xml.hpp"

namespace helsebro::mapping {
namespace {

namespace json = fhir::json;

// Tests run at a fixed instant, so dates the rules compute are part of the expected outcome.
const auto test_now = std::chrono::sys_days{std::chrono::year{2026} / 1 / 15} + std::chrono::hours{12};

}  // namespace

std::optional<json::Value> read_resource_file(const std::string& path, std::string& error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = "cannot read " + path;
        return std::nullopt;
    }
    std::ostringstream s;
    s << in.rdbuf();
    const std::string text = s.str();
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && text[first] == '<') {
        auto parsed = fhir::xml::parse(text);
        if (!parsed.value) error = path + ": " + parsed.error.message;
        return std::move(parsed.value);
    }
    json::ParseLimits limits;
    limits.max_depth = 512;
    auto parsed = json::parse(text, limits);
    if (!parsed.value) error = path + ":" + std::to_string(parsed.error.line) + ": " + parsed.error.message;
    return std::move(parsed.value);
}

namespace {

// The first place two outcomes differ, as a path ("records[0].resource.activity[1]").
std::string first_difference(const json::Value& want, const json::Value& got, const std::string& path) {
    if (want.kind() != got.kind()) return path;
    if (want.is_object()) {
        for (const auto& [k, v] : want.members()) {
            const json::Value* g = got.find(k);
            if (!g) return path + "." + k + " (missing)";
            if (auto d = first_difference(v, *g, path + "." + k); !d.empty()) return d;
        }
        for (const auto& [k, v] : got.members())
            if (!want.find(k)) return path + "." + k + " (not expected)";
        return {};
    }
    if (want.is_array()) {
        const std::size_t n = std::min(want.items().size(), got.items().size());
        for (std::size_t i = 0; i < n; ++i)
            if (auto d = first_difference(want.items()[i], got.items()[i], path + "[" + std::to_string(i) + "]"); !d.empty())
                return d;
        if (want.items().size() != got.items().size())
            return path + " (" + std::to_string(want.items().size()) + " items expected, " + std::to_string(got.items().size()) + " made)";
        return {};
    }
    return same(want, got) ? std::string{} : path;
}

void pretty(const json::Value& v, std::string& out, int indent) {
    const std::string pad(static_cast<std::size_t>(indent + 2), ' ');
    if (v.is_object() && !v.members().empty()) {
        out += "{\n";
        for (std::size_t i = 0; i < v.members().size(); ++i) {
            out += pad + json::write(json::Value::string(v.members()[i].first)) + ": ";
            pretty(v.members()[i].second, out, indent + 2);
            out += i + 1 < v.members().size() ? ",\n" : "\n";
        }
        out += std::string(static_cast<std::size_t>(indent), ' ') + "}";
    } else if (v.is_array() && !v.items().empty()) {
        out += "[\n";
        for (std::size_t i = 0; i < v.items().size(); ++i) {
            out += pad;
            pretty(v.items()[i], out, indent + 2);
            out += i + 1 < v.items().size() ? ",\n" : "\n";
        }
        out += std::string(static_cast<std::size_t>(indent), ' ') + "]";
    } else {
        json::write_to(v, out);
    }
}

std::optional<std::string> run_one(const RuleSet& rules, const Test& t, bool update) {
    std::string error;
    auto input = read_resource_file(t.input, error);
    if (!input) return error;
    std::vector<json::Value> held;
    if (!t.records.empty()) {
        auto records = read_resource_file(t.records, error);
        if (!records) return error;
        if (const json::Value* entries = records->find("entry"); entries && entries->is_array())
            for (const auto& e : entries->items())
                if (const json::Value* r = e.find("resource")) held.push_back(*r);
    }
    Input base;
    base.sender = t.sender;
    base.message_id = "test:" + std::filesystem::path(t.input).filename().string();
    base.now = test_now;
    // Every patient sees the same held records: a test is about one patient.
    const Outcome outcome = apply(rules, inputs_of(*input, base), [&](const PatientKey&) { return held; });
    json::Value got = outcome.to_json();
    if (update) {
        if (!outcome.ok) std::fprintf(stderr, "warning: %s: the rules failed, and that is now the expected outcome: %s\n",
                                      t.name.c_str(), outcome.error.c_str());
        std::string text;
        pretty(got, text, 0);
        std::ofstream(t.expect, std::ios::binary) << text << "\n";
        return std::nullopt;
    }
    auto want = read_resource_file(t.expect, error);
    if (!want) return error + " (write it with: helsebro test-mappings --update)";
    if (auto d = first_difference(*want, got, "outcome"); !d.empty()) {
        std::string detail = outcome.ok ? "" : " (the rules failed: " + outcome.error + ")";
        return "differs at " + d + detail;
    }
    return std::nullopt;
}

}  // namespace

json::Value Outcome::to_json() const {
    json::Value out = json::Value::object();
    out.set("rule_set", json::Value::string(rule_set_version));
    out.set("ok", json::Value::boolean(ok));
    if (!ok) out.set("error", json::Value::string(error));
    json::Value rules = json::Value::array();
    for (const auto& r : rules_applied) rules.push_back(json::Value::string(r));
    out.set("rules", std::move(rules));
    json::Value records = json::Value::array();
    for (const auto& c : changes) {
        json::Value r = json::Value::object();
        r.set("rule", json::Value::string(c.rule));
        r.set("created", json::Value::boolean(c.created));
        r.set("resource", c.resource);
        r.set("provenance", c.provenance);
        records.push_back(std::move(r));
    }
    out.set("records", std::move(records));
    json::Value sent = json::Value::array();
    for (const auto& m : messages) {
        json::Value x = json::Value::object();
        x.set("rule", json::Value::string(m.rule));
        x.set("to", json::Value::string(m.recipient));
        x.set("bundle", m.bundle);
        sent.push_back(std::move(x));
    }
    out.set("messages", std::move(sent));
    return out;
}

TestReport run_tests(const RuleSet& rules, bool update) {
    TestReport report;
    // Expected outcomes name a fixed version, so editing one rule does not change every test.
    RuleSet under_test = rules;
    under_test.version = "under-test";
    under_test.recipients.insert(under_test.recipients.end(), rules.test_recipients.begin(), rules.test_recipients.end());
    for (const Test& t : rules.tests) {
        ++report.run;
        if (auto failure = run_one(under_test, t, update))
            report.failures.push_back(t.origin.file + ":" + std::to_string(t.origin.line) + ": " + t.name + ": " + *failure);
    }
    return report;
}

}  // namespace helsebro::mapping
