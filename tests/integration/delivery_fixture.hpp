// A daemon whose rules forward every "test handover" message to two recipients, each a real HTTP
// server started by the test on 127.0.0.1. A message carries its patient and a sequence number,
// and the forwarded message carries both, so a test can check what arrived, in which order.
#pragma once

#include <fstream>
#include <map>
#include <regex>
#include <thread>

#include "tests/integration/fixture.hpp"
#include "tests/support/recipient.hpp"

namespace helsebro::testing {

// Forwarded to both recipients; the focus (a Basic) carries "<patient index>-<seq>".
inline const char* handover_rules = R"(rules:
  - rule: handover
    when:
      event: urn:helsebro:test|HANDOVER
    patient: Bundle.entry.resource.ofType(Patient).first()
    send:
      - recipient: hospital
        focus: Bundle.entry.resource.ofType(Basic)
        include: "%patient"
      - recipient: municipality
        focus: Bundle.entry.resource.ofType(Basic)
        include: "%patient"
)";

// The n-th message about patient `p` (each patient has its own fødselsnummer).
inline std::string handover(int p, int n) {
    const std::string tag = std::to_string(p) + "-" + std::to_string(n);
    return R"({"resourceType":"Bundle","type":"message","entry":[
      {"fullUrl":"urn:uuid:0f1c2d3e-0000-4000-8000-000000000001","resource":{"resourceType":"MessageHeader","id":"h-)" +
           tag + R"(","eventCoding":{"system":"urn:helsebro:test","code":"HANDOVER"},"source":{"endpoint":"urn:x"}}},
      {"fullUrl":"urn:uuid:0f1c2d3e-0000-4000-8000-000000000002","resource":{"resourceType":"Patient","identifier":[{
         "system":"urn:oid:2.16.578.1.12.4.1.4.1","value":")" +
           synthetic_fnr(1 + p % 28, 1 + p / 28 % 12, 50 + p / 336) + R"("}]}},
      {"fullUrl":"urn:uuid:0f1c2d3e-0000-4000-8000-000000000003","resource":{"resourceType":"Basic","code":{"text":"handover"},
         "identifier":[{"system":"urn:helsebro:test:seq","value":")" +
           tag + R"("}]}}]})";
}

// "<p>-<n>" of a forwarded message, or "" when the body carries none.
inline std::string handover_tag(const std::string& body) {
    static const std::regex seq(R"re("system":"urn:helsebro:test:seq","value":"([0-9]+-[0-9]+)")re");
    std::smatch m;
    return std::regex_search(body, m, seq) ? m[1].str() : std::string();
}

// The Bundle.id of a forwarded message: its delivery id.
inline std::string bundle_id(const std::string& body) {
    static const std::regex id(R"re(^\{"resourceType":"Bundle","id":"([^"]+)")re");
    std::smatch m;
    return std::regex_search(body, m, id) ? m[1].str() : std::string();
}

class DeliveryTest : public DaemonTest {
protected:
    // Retry fast so a test waits seconds, not minutes; the circuit's probe interval follows.
    virtual std::string recipient_extra() { return "    retry:\n      initial_delay_seconds: 1\n      max_delay_seconds: 2\n"; }

    DaemonOptions options() override {
        DaemonOptions o;
        o.extra_yaml = "admin:\n  clients: [demo]\nrecipients:\n"
                       "  - id: hospital\n    endpoint: " + hospital.base_url() + "\n    her_ids: [8094]\n" + recipient_extra() +
                       "  - id: municipality\n    endpoint: " + municipality.base_url() + "\n    her_ids: [8095]\n" + recipient_extra();
        return o;
    }

    void SetUp() override {
        daemon = std::make_unique<Daemon>(options());
        std::ofstream(daemon->mappings_dir() / "rules.yaml", std::ios::trunc) << handover_rules;
        daemon->start();
        client = std::make_unique<HttpClient>(daemon->port());
        client->set_token(daemon->token());
    }

    int send_handover(int p, int n) {
        return client->post("/fhir/$process-message", handover(p, n), {{"Content-Type", "application/fhir+json"}}).status;
    }

    // The tags a recipient got, per patient, in arrival order (duplicates kept).
    static std::map<int, std::vector<int>> by_patient(const Recipient& r) {
        std::map<int, std::vector<int>> out;
        for (const auto& q : r.requests()) {
            const std::string tag = handover_tag(q.body);
            if (tag.empty()) continue;
            const auto dash = tag.find('-');
            out[std::stoi(tag.substr(0, dash))].push_back(std::stoi(tag.substr(dash + 1)));
        }
        return out;
    }

    // Distinct tags a recipient got.
    static std::size_t distinct(const Recipient& r) {
        std::set<std::string> tags;
        for (const auto& q : r.requests()) tags.insert(handover_tag(q.body));
        tags.erase("");
        return tags.size();
    }

    std::int64_t scalar(const std::string& sql) { return StoreInspector(daemon->data_dir()).scalar(sql); }

    Recipient hospital;
    Recipient municipality;
};

}  // namespace helsebro::testing
