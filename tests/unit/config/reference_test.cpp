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
                                         "recipients[].id",
                                         "recipients[].endpoint",
                                         "recipients[].her_ids",
                                         "recipients[].organization_numbers",
                                         "recipients[].hpr_numbers",
                                         "recipients[].style",
                                         "recipients[].token_file",
                                         "recipients[].timeout_seconds",
                                         "recipients[].max_in_flight",
                                         "recipients[].tls.ca_file",
                                         "recipients[].tls.client_certificate_file",
                                         "recipients[].tls.client_key_file",
                                         "recipients[].tls.verify",
                                         "recipients[].retry.initial_delay_seconds",
                                         "recipients[].retry.max_delay_seconds",
                                         "recipients[].retry.max_age_hours",
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
                                         "hpr_numbers, style, token_file, timeout_seconds, "
                                         "max_in_flight, tls, retry} | `[]` |"),
              std::string::npos)
        << row_for("recipients");
    EXPECT_NE(row_for("recipients[].style")
                  .find("| one of: process-message, transaction, create | `process-message` |"),
              std::string::npos)
        << row_for("recipients[].style");
    EXPECT_NE(row_for("recipients[].timeout_seconds").find("| integer 1..600 | `30` |"),
              std::string::npos);
    EXPECT_NE(row_for("recipients[].max_in_flight").find("| integer 1..64 | `4` |"),
              std::string::npos);
    EXPECT_NE(row_for("recipients[].token_file").find("| string (path) | `\"\"` |"),
              std::string::npos);
    EXPECT_NE(row_for("recipients[].tls.verify").find("| boolean | `true` |"), std::string::npos);
    EXPECT_NE(row_for("recipients[].retry.initial_delay_seconds").find("| `1` |"),
              std::string::npos);
    EXPECT_NE(row_for("recipients[].retry.max_delay_seconds").find("| `300` |"),
              std::string::npos);
    EXPECT_NE(row_for("recipients[].retry.max_age_hours").find("| integer 0..8760 | `0` |"),
              std::string::npos);
    EXPECT_NE(row_for("log.level").find("| one of: trace, debug, info, warn, error | `info` |"),
              std::string::npos)
        << row_for("log.level");
}

TEST(ConfigReference, EveryListedKeyIsAcceptedByTheLoader) {
    // Each key, written with its section (if any), must reach an option rather than be "unknown".
    for (const auto& key : every_key) {
        if (key.starts_with("recipients[].")) continue;  // keys of an entry: recipients_test
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
