// http.listen: HOST:PORT in, listen_host + listen_port out.
#include <gtest/gtest.h>

#include "config_test_support.hpp"

namespace helsebro::config::test {
namespace {

std::shared_ptr<const Config> with_listen(const std::string& listen) {
    return loaded("http:\n  listen: \"" + listen + "\"\n");
}

LoadError listen_error(const std::string& listen) {
    auto errors = errors_of("http:\n  listen: \"" + listen + "\"\n");
    EXPECT_EQ(errors.size(), 1u) << listen << "\n" << joined(errors);
    return errors.empty() ? LoadError{} : errors.front();
}

TEST(ConfigListen, Ipv4AndPort) {
    auto config = with_listen("10.1.2.3:8443");
    ASSERT_NE(config, nullptr);
    EXPECT_EQ(config->http.listen_host, "10.1.2.3");
    EXPECT_EQ(config->http.listen_port, 8443);
}

TEST(ConfigListen, PlainScalarWorksToo) {
    auto config = loaded("http:\n  listen: 0.0.0.0:80\n");
    ASSERT_NE(config, nullptr);
    EXPECT_EQ(config->http.listen_host, "0.0.0.0");
    EXPECT_EQ(config->http.listen_port, 80);
}

TEST(ConfigListen, HostNameAndEphemeralPort) {
    auto config = with_listen("localhost:0");
    ASSERT_NE(config, nullptr);
    EXPECT_EQ(config->http.listen_host, "localhost");
    EXPECT_EQ(config->http.listen_port, 0);
}

TEST(ConfigListen, HighestPort) {
    auto config = with_listen("127.0.0.1:65535");
    ASSERT_NE(config, nullptr);
    EXPECT_EQ(config->http.listen_port, 65535);
}

TEST(ConfigListen, Ipv6InBracketsLosesTheBrackets) {
    auto loopback = with_listen("[::1]:8080");
    ASSERT_NE(loopback, nullptr);
    EXPECT_EQ(loopback->http.listen_host, "::1");
    EXPECT_EQ(loopback->http.listen_port, 8080);
    auto any = with_listen("[::]:443");
    ASSERT_NE(any, nullptr);
    EXPECT_EQ(any->http.listen_host, "::");
    EXPECT_EQ(any->http.listen_port, 443);
}

TEST(ConfigListen, ErrorIsAtTheValue) {
    const auto e = listen_error("8080");
    EXPECT_EQ(e.line, 2);
    EXPECT_EQ(e.column, 11);
    EXPECT_EQ(e.message, "'http.listen' must be HOST:PORT");
    EXPECT_EQ(e.hint, "e.g. 127.0.0.1:8080 or [::1]:8080");
}

TEST(ConfigListen, BareIpv6IsRejectedWithBracketHint) {
    const auto e = listen_error("::1:8080");
    EXPECT_EQ(e.hint, "put IPv6 addresses in brackets, e.g. [::1]:8080");
}

TEST(ConfigListen, BadPortsAreRejected) {
    for (const std::string bad : {"127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:http", "127.0.0.1:-1",
                                  "127.0.0.1:80 ", "[::1]:99999"}) {
        const auto e = listen_error(bad);
        EXPECT_NE(e.message.find("not a number from 0 to 65535"), std::string::npos)
            << bad << ": " << e.message;
    }
}

TEST(ConfigListen, BadHostsAreRejected) {
    EXPECT_EQ(listen_error(":8080").message, "'http.listen' has no host");
    EXPECT_EQ(listen_error("300.1.1.1:80").message,
              "'http.listen' has host '300.1.1.1', which is not a valid host name or IPv4 address");
    EXPECT_EQ(listen_error("my host:80").message,
              "'http.listen' has host 'my host', which is not a valid host name or IPv4 address");
    EXPECT_EQ(listen_error("[zz::1]:80").message,
              "'http.listen' has host 'zz::1', which is not a valid IPv6 address");
}

TEST(ConfigListen, BracketsNeedAPort) {
    EXPECT_EQ(listen_error("[::1]").message,
              "'http.listen' must be [IPV6]:PORT when it starts with '['");
    EXPECT_EQ(listen_error("[::1]8080").message,
              "'http.listen' must be [IPV6]:PORT when it starts with '['");
}

TEST(ConfigListen, NotAString) {
    auto errors = errors_of("http:\n  listen: [a, b]\n");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].message, "'http.listen' must be a string, got a list");
}

}  // namespace
}  // namespace helsebro::config::test
