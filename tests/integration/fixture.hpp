// One running daemon per test, a client holding the demo token, and a read-only look at its store.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tests/support/daemon.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/json_helpers.hpp"
#include "tests/support/norwegian.hpp"
#include "tests/support/store_inspector.hpp"

namespace helsebro::testing {

// What a test compares before and after a request that must change nothing.
struct StoreCounts {
    std::int64_t messages = 0, versions = 0, replies = 0;
    friend bool operator==(const StoreCounts&, const StoreCounts&) = default;
    friend std::ostream& operator<<(std::ostream& os, const StoreCounts& c) {
        return os << "{messages " << c.messages << ", versions " << c.versions << ", replies " << c.replies << "}";
    }
};

class DaemonTest : public ::testing::Test {
protected:
    virtual DaemonOptions options() { return {}; }

    void SetUp() override {
        daemon = std::make_unique<Daemon>(options());
        daemon->start();
        client = std::make_unique<HttpClient>(daemon->port());
        client->set_token(daemon->token());
    }

    void restart() {
        daemon->start();
        client = std::make_unique<HttpClient>(daemon->port());
        client->set_token(daemon->token());
    }

    StoreCounts counts() {
        StoreInspector db(daemon->data_dir());
        return {db.scalar("SELECT count(*) FROM message"), db.scalar("SELECT count(*) FROM resource_version"),
                db.scalar("SELECT count(*) FROM reply")};
    }

    std::unique_ptr<Daemon> daemon;
    std::unique_ptr<HttpClient> client;
};

inline std::string patient_json(const std::string& fnr, const std::string& extra = {}) {
    return R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:2.16.578.1.12.4.1.4.1","value":")" + fnr +
           R"("}],"active":true)" + extra + "}";
}

// Every issue's first expression, space-separated, for "is this path among them" checks.
inline std::string issue_paths(const rapidjson::Value& outcome) {
    std::string paths;
    for (std::size_t i = 0; i < json_size(outcome, "issue"); ++i)
        paths += json_string(outcome, "issue[" + std::to_string(i) + "].expression[0]") + " ";
    return paths;
}

// A daemon whose only client is `id`, known by the hash of `token` (as an administrator would
// configure it with helsebro hash-token); `client_extra` adds keys to that client's entry.
inline DaemonOptions one_client(const std::string& id, const std::string& token, const std::string& client_extra = {}) {
    auto hash = run_command({"hash-token"}, std::chrono::seconds(10), token).out;
    if (!hash.empty()) hash.pop_back();
    DaemonOptions o;
    o.full_yaml = "http:\n  listen: 127.0.0.1:0\nstore:\n  data_dir: ${DATA_DIR}\nauth:\n  clients:\n"
                  "    - id: " + id + "\n      token_sha256: " + hash + "\n" + client_extra;
    return o;
}

// "http://127.0.0.1:1234/fhir/Patient/abc/_history/1" or "Patient/abc/_history/1" -> "Patient/abc"
inline std::string resource_path(const std::string& location) {
    auto fhir = location.find("/fhir/");
    std::string rest = fhir == std::string::npos ? location : location.substr(fhir + 6);
    auto hist = rest.find("/_history/");
    return hist == std::string::npos ? rest : rest.substr(0, hist);
}

}  // namespace helsebro::testing
