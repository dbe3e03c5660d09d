// auth.clients: ids, inline hashes, hash files (relative to the config file), and every way an
// entry can be wrong.
#include <gtest/gtest.h>

#include <cctype>

#include "config_test_support.hpp"

namespace helsebro::config::test {
namespace {

// 00 01 02 … 1f, so a decoding slip (order, nibbles) shows.
const std::string counting_hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

std::array<unsigned char, 32> counting_bytes() {
    std::array<unsigned char, 32> bytes{};
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<unsigned char>(i);
    return bytes;
}

std::string clients_yaml(const std::string& entries) {
    return "auth:\n  clients:\n" + entries;
}

LoadError only_error(const LoadResult& result) {
    auto errors = errors_of(result);
    EXPECT_EQ(errors.size(), 1u) << joined(errors);
    return errors.empty() ? LoadError{} : errors.front();
}

LoadError only_error(const std::string& yaml) {
    return only_error(load_string(yaml, "test.yaml"));
}

TEST(ConfigClients, InlineHashIsDecoded) {
    auto config = loaded(
        clients_yaml("    - id: ehr.sykehjem_1-a\n      token_sha256: " + counting_hex + "\n"));
    ASSERT_NE(config, nullptr);
    ASSERT_EQ(config->auth.clients.size(), 1u);
    EXPECT_EQ(config->auth.clients[0].id, "ehr.sykehjem_1-a");
    EXPECT_EQ(config->auth.clients[0].token_sha256, counting_bytes());
}

TEST(ConfigClients, ValidationIsRejectUnlessSetToWarn) {
    auto config = loaded(clients_yaml("    - id: a\n      token_sha256: " + counting_hex +
                                      "\n    - id: b\n      token_sha256: " + std::string(64, 'f') +
                                      "\n      validation: warn\n"));
    ASSERT_NE(config, nullptr);
    EXPECT_EQ(config->auth.clients[0].validation, Validation::reject);
    EXPECT_EQ(config->auth.clients[1].validation, Validation::warn);
    auto e = only_error(clients_yaml("    - id: a\n      token_sha256: " + counting_hex + "\n      validation: maybe\n"));
    EXPECT_EQ(e.line, 5);
    EXPECT_NE(e.message.find("reject or warn"), std::string::npos) << e.message;
}

TEST(ConfigClients, OneTokenForTwoClientsIsRefused) {
    auto e = only_error(clients_yaml("    - id: a\n      token_sha256: " + counting_hex + "\n    - id: b\n      token_sha256: " +
                                     counting_hex + "\n"));
    EXPECT_NE(e.message.find("same token as client 'a'"), std::string::npos) << e.message;
}

TEST(ConfigClients, UppercaseHexIsAccepted) {
    std::string upper = counting_hex;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    auto config = loaded(clients_yaml("    - id: a\n      token_sha256: " + upper + "\n"));
    ASSERT_NE(config, nullptr);
    EXPECT_EQ(config->auth.clients[0].token_sha256, counting_bytes());
}

TEST(ConfigClients, KeepsOrderOfSeveralClients) {
    auto config = loaded(clients_yaml("    - {id: one, token_sha256: " + hash_a + "}\n" +
                                      "    - {id: two, token_sha256: " + counting_hex + "}\n"));
    ASSERT_NE(config, nullptr);
    ASSERT_EQ(config->auth.clients.size(), 2u);
    EXPECT_EQ(config->auth.clients[0].id, "one");
    EXPECT_EQ(config->auth.clients[0].token_sha256[0], 0xaa);
    EXPECT_EQ(config->auth.clients[1].id, "two");
}

TEST(ConfigClients, HashFileIsRelativeToTheConfigFile) {
    TempDir dir;
    dir.write("clients/ehr.sha256", "  " + counting_hex + "\n\n");
    const auto file =
        dir.write("helsebro.yaml",
                  clients_yaml("    - id: ehr\n      token_sha256_file: clients/ehr.sha256\n"));
    // Loaded from elsewhere: the test's working directory is not the config's directory.
    auto config = loaded(load_file(file.string()));
    ASSERT_NE(config, nullptr);
    ASSERT_EQ(config->auth.clients.size(), 1u);
    EXPECT_EQ(config->auth.clients[0].token_sha256, counting_bytes());
}

TEST(ConfigClients, HashFileByAbsolutePath) {
    TempDir dir;
    const auto hash_file = dir.write("x/y.sha256", counting_hex);
    auto config = loaded(
        clients_yaml("    - id: ehr\n      token_sha256_file: " + hash_file.string() + "\n"));
    ASSERT_NE(config, nullptr);
    EXPECT_EQ(config->auth.clients[0].token_sha256, counting_bytes());
}

TEST(ConfigClients, MissingHashFileGivesPlaceAndOsReason) {
    TempDir dir;
    const auto config_file = dir.write(
        "helsebro.yaml", clients_yaml("    - id: ehr\n      token_sha256_file: absent.sha256\n"));
    const auto e = only_error(load_file(config_file.string()));
    EXPECT_EQ(e.file, config_file.string());
    EXPECT_EQ(e.line, 4);
    EXPECT_EQ(e.column, 26);
    EXPECT_EQ(e.message, "'auth.clients[0].token_sha256_file' cannot be read: " +
                             (dir.path() / "absent.sha256").string() +
                             ": No such file or directory");
}

TEST(ConfigClients, HashFileWithWrongContentIsNotEchoed) {
    TempDir dir;
    const auto hash_file = dir.write("bad.sha256", "s3cret-token-pasted-by-mistake\n");
    const auto e = only_error(
        clients_yaml("    - id: ehr\n      token_sha256_file: " + hash_file.string() + "\n"));
    EXPECT_EQ(e.message, "'auth.clients[0].token_sha256_file' names " + hash_file.string() +
                             ", which does not hold 64 hexadecimal digits");
    EXPECT_EQ(e.to_string().find("s3cret"), std::string::npos);
}

TEST(ConfigClients, BadHexIsRejectedWithoutEchoingIt) {
    const auto short_hash =
        only_error(clients_yaml("    - id: a\n      token_sha256: " + hash_a.substr(1) + "\n"));
    EXPECT_EQ(short_hash.line, 4);
    EXPECT_EQ(short_hash.column, 21);
    EXPECT_EQ(short_hash.message, "'auth.clients[0].token_sha256' must be 64 hexadecimal digits");
    EXPECT_EQ(short_hash.to_string().find(hash_a.substr(1)), std::string::npos);

    const auto not_hex = only_error(
        clients_yaml("    - id: a\n      token_sha256: " + std::string(63, 'a') + "g\n"));
    EXPECT_EQ(not_hex.message, "'auth.clients[0].token_sha256' must be 64 hexadecimal digits");
}

TEST(ConfigClients, BothHashesIsAnErrorAtTheClient) {
    const auto e = only_error(clients_yaml("    - id: a\n      token_sha256: " + hash_a +
                                           "\n      token_sha256_file: a.sha256\n"));
    EXPECT_EQ(e.line, 3);
    EXPECT_EQ(e.column, 7);
    EXPECT_EQ(e.message,
              "'auth.clients[0]' must have exactly one of token_sha256 and token_sha256_file");
}

TEST(ConfigClients, NoHashIsAnErrorAtTheClient) {
    const auto e = only_error(clients_yaml("    - id: a\n"));
    EXPECT_EQ(e.line, 3);
    EXPECT_EQ(e.column, 7);
    EXPECT_EQ(e.message,
              "'auth.clients[0]' must have exactly one of token_sha256 and token_sha256_file");
}

TEST(ConfigClients, IdIsRequired) {
    const auto e = only_error(clients_yaml("    - token_sha256: " + hash_a + "\n"));
    EXPECT_EQ(e.line, 3);
    EXPECT_EQ(e.message, "'auth.clients[0]' has no id");
}

TEST(ConfigClients, IdMustBeSafe) {
    const std::string longest(64, 'x');
    EXPECT_NE(loaded(clients_yaml("    - {id: " + longest + ", token_sha256: " + hash_a + "}\n")),
              nullptr);
    for (const std::string& bad :
         std::vector<std::string>{"\"a b\"", "\"\"", "\"æøå\"", "\"a/b\"", longest + "x"}) {
        const auto e =
            only_error(clients_yaml("    - {id: " + bad + ", token_sha256: " + hash_a + "}\n"));
        EXPECT_TRUE(e.message.starts_with("'auth.clients[0].id' must be 1 to 64 of"))
            << bad << ": " << e.message;
    }
}

TEST(ConfigClients, DuplicateIdIsReportedAtTheSecond) {
    const auto e =
        only_error(clients_yaml("    - id: ehr\n      token_sha256: " + hash_a + "\n" +
                                "    - id: ehr\n      token_sha256: " + counting_hex + "\n"));
    EXPECT_EQ(e.line, 5);
    EXPECT_EQ(e.column, 11);
    EXPECT_EQ(e.message, "'auth.clients' has client id 'ehr' twice");
    EXPECT_EQ(e.hint, "first at line 3");
}

TEST(ConfigClients, UnknownKeyInAClientHasPlaceAndHint) {
    const auto e = only_error(clients_yaml("    - id: a\n      tokn_sha256: " + hash_a + "\n" +
                                           "      token_sha256: " + hash_a + "\n"));
    EXPECT_EQ(e.line, 4);
    EXPECT_EQ(e.column, 7);
    EXPECT_EQ(e.message, "unknown key 'auth.clients[0].tokn_sha256'");
    EXPECT_EQ(e.hint, "did you mean 'token_sha256'?");
}

TEST(ConfigClients, ClientsMustBeAListOfMaps) {
    EXPECT_EQ(only_error("auth:\n  clients: ehr\n").message,
              "'auth.clients' must be a list of clients, got 'ehr'");
    const auto e = only_error(clients_yaml("    - ehr\n"));
    EXPECT_EQ(e.line, 3);
    EXPECT_EQ(e.column, 7);
    EXPECT_TRUE(e.message.starts_with("'auth.clients[0]' must be a map")) << e.message;
}

TEST(ConfigClients, EveryBadClientIsReported) {
    const auto errors =
        errors_of(clients_yaml("    - id: a\n"
                               "    - id: b\n      token_sha256: nothex\n"
                               "    - token_sha256: " +
                               hash_a + "\n"));
    ASSERT_EQ(errors.size(), 3u) << joined(errors);
    EXPECT_EQ(errors[0].line, 3);
    EXPECT_EQ(errors[1].line, 5);
    EXPECT_EQ(errors[2].line, 6);
}

}  // namespace
}  // namespace helsebro::config::test
