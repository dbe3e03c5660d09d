// The config files shipped in config/ must load: a broken example is a broken first impression.
#include <gtest/gtest.h>

#include <filesystem>

#include <fstream>
#include <sstream>

#include "config_test_support.hpp"

namespace helsebro::config::test {
namespace {

const std::string config_dir = HELSEBRO_CONFIG_DIR;
const std::string production = config_dir + "/production.example.yaml";
const std::string etc_dir = "/etc/helsebro/";

// The files the example names under /etc/helsebro/, by key: client token hashes, recipients'
// bearer tokens and their TLS client certificates and keys.
const std::vector<std::string> file_keys{"token_sha256_file: ", "token_file: ",
                                         "client_certificate_file: ", "client_key_file: ",
                                         "ca_file: "};

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// The example's files live under /etc/helsebro/, which a build machine lacks: point every file
// key at the same place under a scratch directory, and change nothing else.
std::string with_files_in(std::string yaml, const std::filesystem::path& dir, int& replaced) {
    replaced = 0;
    for (const auto& key : file_keys) {
        const std::string from = key + etc_dir;
        for (auto at = yaml.find(from); at != std::string::npos; at = yaml.find(from, at + 1)) {
            yaml.replace(at, from.size(), key + dir.string() + "/");
            ++replaced;
        }
    }
    return yaml;
}

// A secret file as it should be on a server: not readable by others.
void write_private(const TempDir& dir, const std::string& relative, const std::string& text) {
    std::filesystem::permissions(dir.write(relative, text), std::filesystem::perms::owner_read |
                                                              std::filesystem::perms::owner_write);
}

TEST(ConfigShippedFiles, DefaultRunsOutOfTheBox) {
    auto config = loaded(load_file(config_dir + "/helsebro.yaml"));
    ASSERT_NE(config, nullptr);
    EXPECT_EQ(config->http.listen_host, "127.0.0.1");
    EXPECT_EQ(config->http.listen_port, 8080);
    EXPECT_EQ(config->store.data_dir, "data");
    EXPECT_TRUE(config->auth.demo_client);
    EXPECT_TRUE(config->auth.clients.empty());
    // ../mappings from config/: the rules shipped with the checkout.
    EXPECT_EQ(config->mappings.dir, (std::filesystem::path(config_dir).parent_path() / "mappings").lexically_normal().string());
    EXPECT_TRUE(config->recipients.empty());
    EXPECT_EQ(config->log.level, "info");
}

TEST(ConfigShippedFiles, ProductionExampleLoads) {
    TempDir dir;
    dir.write("clients/ehr-sykehjem.sha256", hash_a + "\n");
    dir.write("clients/legevakt.sha256", std::string(64, 'b') + "\n");
    write_private(dir, "recipients/stolav.token", "stolav-token\n");
    write_private(dir, "recipients/trondheim.token", "trondheim-token\n");
    dir.write("tls/stolav-client.crt", "-----BEGIN CERTIFICATE-----\n");
    write_private(dir, "tls/stolav-client.key", "-----BEGIN PRIVATE KEY-----\n");
    int replaced = 0;
    const std::string yaml = with_files_in(read_text(production), dir.path(), replaced);
    ASSERT_EQ(replaced, 6) << "the example should name six files under " << etc_dir;

    auto config = loaded(load_string(yaml, production));
    ASSERT_NE(config, nullptr);
    EXPECT_EQ(config->http.listen_host, "0.0.0.0");
    EXPECT_EQ(config->http.listen_port, 8080);
    EXPECT_EQ(config->http.public_base_url, "https://helsebro.kommune.example/fhir");
    EXPECT_EQ(config->store.data_dir, "/var/lib/helsebro");
    EXPECT_FALSE(config->auth.demo_client);
    ASSERT_EQ(config->auth.clients.size(), 2u);
    EXPECT_EQ(config->auth.clients[0].id, "ehr-sykehjem");
    EXPECT_EQ(config->auth.clients[0].token_sha256[0], 0xaa);
    EXPECT_EQ(config->auth.clients[1].id, "legevakt");
    EXPECT_EQ(config->auth.clients[1].token_sha256[31], 0xbb);
    EXPECT_EQ(config->mappings.dir, "/etc/helsebro/mappings");
    // A hospital, a municipality's home care and a GP office, each found by some identifier.
    ASSERT_EQ(config->recipients.size(), 3u);
    EXPECT_EQ(config->recipients[0].id, "stolav");
    EXPECT_EQ(config->recipients[0].organization_numbers, std::vector<std::string>{"883974832"});
    EXPECT_EQ(config->recipients[1].id, "trondheim-helse-velferd");
    EXPECT_EQ(config->recipients[1].organization_numbers, std::vector<std::string>{"942110464"});
    EXPECT_EQ(config->recipients[2].id, "eksempel-legekontor");
    EXPECT_FALSE(config->recipients[2].hpr_numbers.empty());
    for (const auto& recipient : config->recipients) {
        EXPECT_TRUE(recipient.endpoint.starts_with("https://")) << recipient.id;
        EXPECT_TRUE(recipient.tls.verify) << recipient.id;
    }
    // St. Olavs over mutual TLS with a token; the municipality by transaction.
    const Recipient& stolav = config->recipients[0];
    EXPECT_EQ(stolav.style, Recipient::Style::process_message);
    EXPECT_EQ(stolav.token, "stolav-token");
    EXPECT_EQ(stolav.token_file, (dir.path() / "recipients/stolav.token").string());
    EXPECT_EQ(stolav.tls.client_certificate_file, (dir.path() / "tls/stolav-client.crt").string());
    EXPECT_EQ(stolav.tls.client_key_file, (dir.path() / "tls/stolav-client.key").string());
    EXPECT_EQ(stolav.tls.ca_file, "");
    EXPECT_EQ(stolav.retry.max_age_hours, 72u);
    EXPECT_EQ(config->recipients[1].style, Recipient::Style::transaction);
    EXPECT_EQ(config->recipients[1].token, "trondheim-token");
    EXPECT_TRUE(config->recipients[2].token.empty());
}

TEST(ConfigShippedFiles, ProductionExampleOnlyLacksItsFilesHere) {
    if (std::filesystem::exists(etc_dir)) GTEST_SKIP() << etc_dir << " exists on this machine";
    const auto errors = errors_of(load_file(production));
    ASSERT_EQ(errors.size(), 6u) << joined(errors);
    for (const auto& e : errors) {
        EXPECT_NE(e.message.find("' cannot be read: " + etc_dir), std::string::npos)
            << e.to_string();
    }
}

}  // namespace
}  // namespace helsebro::config::test
