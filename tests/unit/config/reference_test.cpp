// `helsebro config-reference`: every option, once, with type, default and description.
#include <gtest/gtest.h>

#include <sstream>

#include "config_test_support.hpp"

namespace helsebro::config::test {
namespace {

// Written out here on purpose, not taken from the table: a key dropped from the table must
// fail this test.
const std::vector<std::string> every_key{"http.listen",
                                         "http.threads",
                                         "http.max_body_bytes",
                                         "http.max_connections",
                                         "http.max_header_bytes",
                                         "http.read_timeout_seconds",
                                         "http.write_timeout_seconds",
                                         "http.idle_timeout_seconds",
                                         "http.shutdown_grace_seconds",
                                         "http.public_base_url",
                                         "store.data_dir",
                                         "store.group_commit_max_batch",
                                         "store.busy_timeout_ms",
                                         "store.max_queued_bytes",
                                         "store.max_queued_writes",
                                         "store.read_connections",
                                         "fhir.max_json_depth",
                                         "mappings.dir",
                                         "auth.demo_client",
                                         "admin.clients",
                                         "auth.clients",
                                         "recipients",
                                         "log.level"};

std::vector<std::string> table_rows() {
    std::vector<std::string> rows;
    std::istringstream in(reference_markdown());
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("| `")) rows.push_back(line);
    }
    return rows;
}

std::string row_for(const std::string& key) {
    for (const auto& row : table_rows()) {
        if (row.starts_with("| `" + key + "` |")) return row;
    }
    return {};
}

TEST(ConfigReference, ListsEveryKeyExactlyOnce) {
    const auto rows = table_rows();
    EXPECT_EQ(rows.size(), every_key.size());
    for (const auto& key : every_key) {
        EXPECT_FALSE(row_for(key).empty()) << key << " is missing from the reference";
    }
}

TEST(ConfigReference, EveryRowHasTypeDefaultAndDescription) {
    for (const auto& row : table_rows()) {
        // "| key | type | default | description |": five unescaped bars, and no empty cell.
        int bars = 0;
        for (std::size_t i = 0; i < row.size(); ++i) {
            if (row[i] == '|' && (i == 0 || row[i - 1] != '\\')) ++bars;
        }
        EXPECT_EQ(bars, 5) << row;
        EXPECT_EQ(row.find("|  |"), std::string::npos) << row;
        EXPECT_EQ(row.find("| |"), std::string::npos) << row;
    }
}

TEST(ConfigReference, DefaultsComeFromTheStruct) {
    EXPECT_EQ(
        row_for("http.listen").find("| string HOST:PORT | `127.0.0.1:8080` |") == std::string::npos,
        false)
        << row_for("http.listen");
    EXPECT_NE(row_for("http.max_body_bytes").find("| integer 1024..268435456 | `10485760` |"),
              std::string::npos)
        << row_for("http.max_body_bytes");
    EXPECT_NE(row_for("http.threads").find("| integer 0..256 | `0` |"), std::string::npos);
    EXPECT_NE(row_for("http.public_base_url").find("| `\"\"` |"), std::string::npos);
    EXPECT_NE(row_for("store.data_dir").find("| `data` |"), std::string::npos);
    EXPECT_NE(row_for("auth.demo_client").find("| boolean | `false` |"), std::string::npos);
    EXPECT_NE(row_for("auth.clients").find("| `[]` |"), std::string::npos);
    EXPECT_NE(row_for("mappings.dir").find("| string (path) | `\"\"` |"), std::string::npos)
        << row_for("mappings.dir");
    EXPECT_NE(row_for("recipients").find("| list of {id, endpoint, her_ids, organization_numbers, "
                                         "hpr_numbers} | `[]` |"),
              std::string::npos)
        << row_for("recipients");
    EXPECT_NE(row_for("log.level").find("| one of: trace, debug, info, warn, error | `info` |"),
              std::string::npos)
        << row_for("log.level");
}

TEST(ConfigReference, EveryListedKeyIsAcceptedByTheLoader) {
    // Each key, written with its section (if any), must reach an option rather than be "unknown".
    for (const auto& key : every_key) {
        const auto dot = key.find('.');
        const std::string yaml = dot == std::string::npos
                                     ? key + ": {}\n"
                                     : key.substr(0, dot) + ":\n  " + key.substr(dot + 1) + ": {}\n";
        const auto result = load_string(yaml, "t.yaml");
        for (const auto& e : errors_of(result)) {
            EXPECT_EQ(e.message.find("unknown key"), std::string::npos) << e.to_string();
        }
    }
}

}  // namespace
}  // namespace helsebro::config::test
