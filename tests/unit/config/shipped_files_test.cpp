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
const std::string token_dir = "/etc/helsebro/clients/";
const std::string token_key = "token_sha256_file: ";

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// The example's token files live under /etc/helsebro/clients/, which a build machine lacks:
// point them at a scratch directory holding hash files, and change nothing else.
std::string with_token_dir(std::string yaml, const std::filesystem::path& dir, int& replaced) {
    replaced = 0;
    const std::string from = token_key + token_dir;
    for (auto at = yaml.find(from); at != std::string::npos; at = yaml.find(from, at + 1)) {
        yaml.replace(at, from.size(), token_key + dir.string() + "/");
        ++replaced;
    }
    return yaml;
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
    dir.write("ehr-sykehjem.sha256", hash_a + "\n");
    dir.write("legevakt.sha256", std::string(64, 'b') + "\n");
    int replaced = 0;
    const std::string yaml = with_token_dir(read_text(production), dir.path(), replaced);
    ASSERT_EQ(replaced, 2) << "the example should name two token files under " << token_dir;

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
    }
}

TEST(ConfigShippedFiles, ProductionExampleOnlyLacksItsTokenFilesHere) {
    if (std::filesystem::exists(token_dir)) GTEST_SKIP() << token_dir << " exists on this machine";
    const auto errors = errors_of(load_file(production));
    ASSERT_EQ(errors.size(), 2u) << joined(errors);
    for (const auto& e : errors) {
        EXPECT_NE(e.message.find("token_sha256_file' cannot be read: " + token_dir),
                  std::string::npos)
            << e.to_string();
    }
}

}  // namespace
}  // namespace helsebro::config::test
