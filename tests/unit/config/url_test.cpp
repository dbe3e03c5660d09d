// Recipients' base URLs on their own: what a valid one parses into. (The refusals, with their
// messages and places, are in recipients_test.cpp.)
#include <gtest/gtest.h>

#include "adapter/config/url.hpp"

namespace helsebro::config::detail {
namespace {

BaseUrl parsed(const std::string& text) {
    auto result = parse_base_url(text);
    if (auto* problem = std::get_if<UrlProblem>(&result)) {
        ADD_FAILURE() << text << ": " << problem->message;
        return {};
    }
    return std::get<BaseUrl>(result);
}

TEST(ConfigUrl, HttpsWithDefaultPort) {
    const auto url = parsed("https://fhir.stolav.example/fhir");
    EXPECT_TRUE(url.tls);
    EXPECT_EQ(url.host, "fhir.stolav.example");
    EXPECT_EQ(url.port, 443);
    EXPECT_EQ(url.path, "/fhir");
}

TEST(ConfigUrl, PortPathAndNoPath) {
    const auto url = parsed("https://10.1.2.3:8443/api/R4/$x~y%20z");
    EXPECT_EQ(url.host, "10.1.2.3");
    EXPECT_EQ(url.port, 8443);
    EXPECT_EQ(url.path, "/api/R4/$x~y%20z");
    EXPECT_EQ(parsed("https://fhir.example").path, "");
}

TEST(ConfigUrl, SchemeIsCaseInsensitive) {
    EXPECT_TRUE(parsed("HTTPS://fhir.example/fhir").tls);
}

TEST(ConfigUrl, BracketedIpv6) {
    const auto url = parsed("https://[2001:db8::1]:9443/fhir");
    EXPECT_EQ(url.host, "2001:db8::1");
    EXPECT_EQ(url.port, 9443);
    const auto local = parsed("http://[::1]/fhir");
    EXPECT_FALSE(local.tls);
    EXPECT_EQ(local.port, 80);
}

TEST(ConfigUrl, HostNameLabelLimits) {
    EXPECT_EQ(parsed("https://" + std::string(63, 'a') + ".example").host.size(), 71u);
    EXPECT_TRUE(std::holds_alternative<UrlProblem>(
        parse_base_url("https://" + std::string(64, 'a') + ".example")));
    EXPECT_TRUE(std::holds_alternative<UrlProblem>(parse_base_url("https://fhir.example.")));
}

}  // namespace
}  // namespace helsebro::config::detail
