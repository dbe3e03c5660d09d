// Defaults, reading every option, and the file-level behaviour of load_file/load_string.
#include <gtest/gtest.h>

#include "config_test_support.hpp"

namespace helsebro::config::test {
namespace {

void expect_all_defaults(const Config& c) {
    EXPECT_EQ(c.http.listen_host, "127.0.0.1");
    EXPECT_EQ(c.http.listen_port, 8080);
    EXPECT_EQ(c.http.threads, 0u);
    EXPECT_EQ(c.http.max_body_bytes, 10u * 1024 * 1024);
    EXPECT_EQ(c.http.max_header_bytes, 16u * 1024);
    EXPECT_EQ(c.http.read_timeout_seconds, 30u);
    EXPECT_EQ(c.http.write_timeout_seconds, 30u);
    EXPECT_EQ(c.http.idle_timeout_seconds, 60u);
    EXPECT_EQ(c.http.shutdown_grace_seconds, 20u);
    EXPECT_EQ(c.http.public_base_url, "");
    EXPECT_EQ(c.store.data_dir, "data");
    EXPECT_EQ(c.store.group_commit_max_batch, 512u);
    EXPECT_EQ(c.store.busy_timeout_ms, 5000u);
    EXPECT_EQ(c.store.read_connections, 4u);
    EXPECT_EQ(c.fhir.max_json_depth, 64u);
    EXPECT_FALSE(c.auth.demo_client);
    EXPECT_TRUE(c.auth.clients.empty());
    EXPECT_EQ(c.mappings.dir, "");  // no rules unless configured
    EXPECT_TRUE(c.recipients.empty());
    EXPECT_EQ(c.log.level, "info");
}

TEST(ConfigLoading, EmptyTextGivesDefaults) {
    auto config = loaded("");
    ASSERT_NE(config, nullptr);
    expect_all_defaults(*config);
    EXPECT_EQ(config->source_path, "test.yaml");
}

TEST(ConfigLoading, CommentsOnlyGivesDefaults) {
    auto config = loaded("# nothing set\n# at all\n");
    ASSERT_NE(config, nullptr);
    expect_all_defaults(*config);
}

TEST(ConfigLoading, EmptySectionsKeepDefaults) {
    auto config = loaded("http:\nstore:\n  # data_dir: x\nlog:\n");
    ASSERT_NE(config, nullptr);
    expect_all_defaults(*config);
}

TEST(ConfigLoading, MissingKeysKeepDefaults) {
    auto config = loaded("http:\n  threads: 3\n");
    ASSERT_NE(config, nullptr);
    EXPECT_EQ(config->http.threads, 3u);
    EXPECT_EQ(config->http.max_body_bytes, 10u * 1024 * 1024);
    EXPECT_EQ(config->store.data_dir, "data");
}

TEST(ConfigLoading, ReadsEveryOption) {
    auto config = loaded(R"(
http:
  listen: 10.0.0.5:9090
  threads: 8
  max_body_bytes: 2048
  max_header_bytes: 4096
  read_timeout_seconds: 11
  write_timeout_seconds: 12
  idle_timeout_seconds: 13
  shutdown_grace_seconds: 14
  public_base_url: https://example.org/fhir
store:
  data_dir: /srv/helsebro
  group_commit_max_batch: 100
  busy_timeout_ms: 250
  read_connections: 2
fhir:
  max_json_depth: 100
mappings:
  dir: /etc/helsebro/mappings
auth:
  demo_client: true
  clients:
    - id: a
      token_sha256: )" + hash_a +
                         R"(
recipients:
  - id: stolav
    endpoint: https://fhir.stolav.example/fhir
    her_ids: ["8094"]
log:
  level: debug
)");
    ASSERT_NE(config, nullptr);
    EXPECT_EQ(config->http.listen_host, "10.0.0.5");
    EXPECT_EQ(config->http.listen_port, 9090);
    EXPECT_EQ(config->http.threads, 8u);
    EXPECT_EQ(config->http.max_body_bytes, 2048u);
    EXPECT_EQ(config->http.max_header_bytes, 4096u);
    EXPECT_EQ(config->http.read_timeout_seconds, 11u);
    EXPECT_EQ(config->http.write_timeout_seconds, 12u);
    EXPECT_EQ(config->http.idle_timeout_seconds, 13u);
    EXPECT_EQ(config->http.shutdown_grace_seconds, 14u);
    EXPECT_EQ(config->http.public_base_url, "https://example.org/fhir");
    EXPECT_EQ(config->store.data_dir, "/srv/helsebro");
    EXPECT_EQ(config->store.group_commit_max_batch, 100u);
    EXPECT_EQ(config->store.busy_timeout_ms, 250u);
    EXPECT_EQ(config->store.read_connections, 2u);
    EXPECT_EQ(config->fhir.max_json_depth, 100u);
    EXPECT_TRUE(config->auth.demo_client);
    ASSERT_EQ(config->auth.clients.size(), 1u);
    EXPECT_EQ(config->auth.clients[0].id, "a");
    EXPECT_EQ(config->mappings.dir, "/etc/helsebro/mappings");
    ASSERT_EQ(config->recipients.size(), 1u);
    EXPECT_EQ(config->recipients[0].id, "stolav");
    EXPECT_EQ(config->log.level, "debug");
}

TEST(ConfigLoading, RangeBoundariesAreAccepted) {
    auto low = loaded("http:\n  threads: 0\n  max_body_bytes: 1024\nfhir:\n  max_json_depth: 8\n");
    ASSERT_NE(low, nullptr);
    EXPECT_EQ(low->http.max_body_bytes, 1024u);
    EXPECT_EQ(low->fhir.max_json_depth, 8u);
    auto high = loaded(
        "http:\n  threads: 256\n  max_body_bytes: 268435456\n"
        "  idle_timeout_seconds: 3600\nfhir:\n  max_json_depth: 1000\n");
    ASSERT_NE(high, nullptr);
    EXPECT_EQ(high->http.threads, 256u);
    EXPECT_EQ(high->http.max_body_bytes, 268435456u);
    EXPECT_EQ(high->http.idle_timeout_seconds, 3600u);
}

TEST(ConfigLoading, BooleansAreTrueOrFalse) {
    auto on = loaded("auth:\n  demo_client: true\n");
    ASSERT_NE(on, nullptr);
    EXPECT_TRUE(on->auth.demo_client);
    auto off = loaded("auth:\n  demo_client: False\n");
    ASSERT_NE(off, nullptr);
    EXPECT_FALSE(off->auth.demo_client);
}

TEST(ConfigLoading, EveryLogLevelIsAccepted) {
    for (const std::string level : {"trace", "debug", "info", "warn", "error"}) {
        auto config = loaded("log:\n  level: " + level + "\n");
        ASSERT_NE(config, nullptr) << level;
        EXPECT_EQ(config->log.level, level);
    }
}

TEST(ConfigLoading, EmptyPublicBaseUrlMeansDerived) {
    auto config = loaded("http:\n  public_base_url: \"\"\n");
    ASSERT_NE(config, nullptr);
    EXPECT_EQ(config->http.public_base_url, "");
}

TEST(ConfigLoading, LoadFileReadsAndRecordsThePath) {
    TempDir dir;
    const auto file = dir.write("helsebro.yaml", "http:\n  threads: 5\n");
    auto config = loaded(load_file(file.string()));
    ASSERT_NE(config, nullptr);
    EXPECT_EQ(config->http.threads, 5u);
    EXPECT_EQ(config->source_path, file.string());
}

TEST(ConfigLoading, MissingFileGivesTheOsReason) {
    TempDir dir;
    const auto file = (dir.path() / "absent.yaml").string();
    auto errors = errors_of(load_file(file));
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].file, file);
    EXPECT_EQ(errors[0].line, 0);
    EXPECT_NE(errors[0].message.find("No such file or directory"), std::string::npos)
        << errors[0].message;
    EXPECT_EQ(errors[0].to_string().rfind(file + ": ", 0), 0u) << errors[0].to_string();
}

TEST(ConfigLoading, DirectoryInsteadOfFileIsAnError) {
    TempDir dir;
    auto errors = errors_of(load_file(dir.path().string()));
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_NE(errors[0].message.find("Is a directory"), std::string::npos) << errors[0].message;
}

TEST(ConfigLoading, ResultIsSharedAndImmutable) {
    auto result = load_string("", "x.yaml");
    static_assert(
        std::is_same_v<std::variant_alternative_t<0, LoadResult>, std::shared_ptr<const Config>>);
    EXPECT_TRUE(std::holds_alternative<std::shared_ptr<const Config>>(result));
}

}  // namespace
}  // namespace helsebro::config::test
