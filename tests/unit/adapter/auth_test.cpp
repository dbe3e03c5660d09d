// Bearer-token authentication (adapter/auth/auth.hpp): SHA-256, the Authorization header's forms,
// and the demo client's token file.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "adapter/auth/auth.hpp"
#include "tests/unit/adapter/adapter_test_support.hpp"

namespace helsebro {
namespace {

config::Client client(std::string id, std::string_view token) { return {std::move(id), auth::sha256(token)}; }

constexpr std::string_view token = "s3cr3t-Token_0123456789abcdefghijklmnopqrstuvwxyz";

TEST(Sha256, MatchesTheFips180KnownVectors) {
    EXPECT_EQ(auth::to_hex(auth::sha256("abc")),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(auth::to_hex(auth::sha256("")),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(auth::to_hex(auth::sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, HashesEmbeddedNulBytes) {
    // A string_view with a NUL inside is hashed whole, not up to the NUL.
    EXPECT_NE(auth::sha256(std::string_view("a\0b", 3)), auth::sha256("a"));
}

TEST(ToHex, WritesSixtyFourLowercaseDigitsMostSignificantFirst) {
    auth::Digest d{};
    d[0] = 0x00;
    d[1] = 0x0f;
    d[2] = 0xa0;
    d[31] = 0xff;
    auto hex = auth::to_hex(d);
    ASSERT_EQ(hex.size(), 64u);
    EXPECT_EQ(hex.substr(0, 6), "000fa0");
    EXPECT_EQ(hex.substr(62), "ff");
    EXPECT_TRUE(std::regex_match(hex, std::regex("^[0-9a-f]{64}$")));
}

TEST(Authenticator, AcceptsTheBearerSchemeInAnyCase) {
    // RFC 9110 §11.1: auth schemes are case-insensitive.
    auth::Authenticator a({client("gp-1", token)});
    for (std::string scheme : {"Bearer", "bearer", "BEARER", "bEaReR"})
        EXPECT_EQ(a.authenticate(scheme + " " + std::string(token)), "gp-1") << scheme;
}

TEST(Authenticator, AcceptsExtraSpacesAroundTheToken) {
    auth::Authenticator a({client("gp-1", token)});
    EXPECT_EQ(a.authenticate("Bearer    " + std::string(token)), "gp-1");
    EXPECT_EQ(a.authenticate("Bearer " + std::string(token) + "   "), "gp-1");
}

TEST(Authenticator, RefusesOtherSchemes) {
    auth::Authenticator a({client("gp-1", token)});
    EXPECT_FALSE(a.authenticate("Basic dXNlcjpwYXNz"));
    EXPECT_FALSE(a.authenticate("Basic " + std::string(token)));
    EXPECT_FALSE(a.authenticate("Token " + std::string(token)));
    // The scheme must be followed by a space: "BearerXYZ" is no bearer credential.
    EXPECT_FALSE(a.authenticate("Bearer" + std::string(token)));
    EXPECT_FALSE(a.authenticate(std::string(token)));
}

TEST(Authenticator, RefusesAMissingToken) {
    auth::Authenticator a({client("gp-1", token)});
    EXPECT_FALSE(a.authenticate(""));
    EXPECT_FALSE(a.authenticate("Bearer"));
    EXPECT_FALSE(a.authenticate("Bearer "));
    EXPECT_FALSE(a.authenticate("Bearer      "));
}

TEST(Authenticator, RefusesWrongAndAlmostRightTokens) {
    auth::Authenticator a({client("gp-1", token)});
    const std::string t(token);
    EXPECT_FALSE(a.authenticate("Bearer wrong"));
    EXPECT_FALSE(a.authenticate("Bearer x" + t));                      // a prefix before it
    EXPECT_FALSE(a.authenticate("Bearer " + t + "x"));                 // a suffix after it
    EXPECT_FALSE(a.authenticate("Bearer " + t.substr(0, t.size() - 1)));  // cut short
    EXPECT_FALSE(a.authenticate("Bearer " + t.substr(1)));
    // Tokens are case-sensitive, unlike the scheme.
    std::string upper = t;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_FALSE(a.authenticate("Bearer " + upper));
}

TEST(Authenticator, NamesTheClientWhoseTokenWasSent) {
    auth::Authenticator a({client("gp-1", "token-one"), client("hospital-2", "token-two")});
    EXPECT_EQ(a.authenticate("Bearer token-one"), "gp-1");
    EXPECT_EQ(a.authenticate("Bearer token-two"), "hospital-2");
    EXPECT_FALSE(a.authenticate("Bearer token-three"));
}

TEST(Authenticator, WithoutClientsRefusesEverything) {
    auth::Authenticator a({});
    EXPECT_FALSE(a.authenticate("Bearer " + std::string(token)));
}

std::string file_text(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

TEST(DemoClient, IsCreatedOnceWithAPrivateFileAndKeptAfterwards) {
    test::TempDir dir;
    auto data_dir = (dir.path() / "data").string();  // not there yet: it is created
    auto first = auth::ensure_demo_client(data_dir);
    EXPECT_TRUE(first.created);
    EXPECT_EQ(first.client.id, "demo");
    EXPECT_EQ(first.token_path, (std::filesystem::path(data_dir) / "demo-client.token").string());
    ASSERT_TRUE(std::filesystem::exists(first.token_path));

    // Readable and writable by the owner only: the token is a credential.
    struct stat st {};
    ASSERT_EQ(::stat(first.token_path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    // The file holds the token (a trailing newline is allowed); the client keeps only its hash.
    std::string tok = file_text(first.token_path);
    while (!tok.empty() && (tok.back() == '\n' || tok.back() == '\r')) tok.pop_back();
    EXPECT_EQ(first.client.token_sha256, auth::sha256(tok));
    // 256 random bits need at least 43 base64url characters.
    EXPECT_GE(tok.size(), 43u);
    EXPECT_TRUE(std::regex_match(tok, std::regex("^[A-Za-z0-9_-]+$"))) << tok;

    // The daemon accepts it.
    auth::Authenticator a({first.client});
    EXPECT_EQ(a.authenticate("Bearer " + tok), "demo");

    auto second = auth::ensure_demo_client(data_dir);
    EXPECT_FALSE(second.created);
    EXPECT_EQ(second.client.token_sha256, first.client.token_sha256);
    EXPECT_EQ(file_text(second.token_path), file_text(first.token_path));
}

TEST(DemoClient, EachDataDirGetsItsOwnRandomToken) {
    test::TempDir a, b;
    EXPECT_NE(auth::ensure_demo_client(a.str()).client.token_sha256,
              auth::ensure_demo_client(b.str()).client.token_sha256);
}

}  // namespace
}  // namespace helsebro
