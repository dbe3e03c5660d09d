#include "adapter/config/listen.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

#include "adapter/config/values.hpp"

namespace helsebro::config::detail {

namespace {

const std::string example = "e.g. 127.0.0.1:8080 or [::1]:8080";

bool is_hostname_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-';
}

bool valid_ipv6(const std::string& host) {
    in6_addr address{};
    return inet_pton(AF_INET6, host.c_str(), &address) == 1;
}

// A dotted-digits host is meant as an IPv4 address; "300.1.1.1" would otherwise pass as a
// hostname and only fail at bind time, far from the config line.
bool valid_host(const std::string& host) {
    if (host.empty() || !std::all_of(host.begin(), host.end(), is_hostname_char)) return false;
    const bool numeric = std::all_of(host.begin(), host.end(),
                                     [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
    if (!numeric) return host.front() != '-' && host.front() != '.';
    in_addr address{};
    return inet_pton(AF_INET, host.c_str(), &address) == 1;
}

std::variant<std::uint16_t, ListenProblem> parse_port(std::string_view text) {
    unsigned value = 0;
    const auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || status != std::errc{} || end != text.data() + text.size() ||
        value > 65535) {
        return ListenProblem{
            "has port '" + std::string(text) + "', which is not a number from 0 to 65535", ""};
    }
    return static_cast<std::uint16_t>(value);
}

// Splits "[v6]:port" or "host:port"; the host keeps no brackets.
std::variant<std::pair<std::string, std::string_view>, ListenProblem> split(std::string_view text) {
    if (text.starts_with('[')) {
        const auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            return ListenProblem{"must be [IPV6]:PORT when it starts with '['", example};
        }
        return std::pair{std::string(text.substr(1, close - 1)), text.substr(close + 2)};
    }
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return ListenProblem{"must be HOST:PORT", example};
    if (text.find(':') != colon) {
        return ListenProblem{"looks like a bare IPv6 address",
                             "put IPv6 addresses in brackets, e.g. [::1]:8080"};
    }
    return std::pair{std::string(text.substr(0, colon)), text.substr(colon + 1)};
}

}  // namespace

std::variant<HostPort, ListenProblem> parse_listen(std::string_view text) {
    auto parts = split(text);
    if (auto* problem = std::get_if<ListenProblem>(&parts)) return *problem;
    auto& [host, port_text] = std::get<0>(parts);
    const bool bracketed = text.starts_with('[');
    if (host.empty()) {
        return ListenProblem{"has no host", "use 0.0.0.0:PORT to listen on every interface"};
    }
    if (bracketed ? !valid_ipv6(host) : !valid_host(host)) {
        return ListenProblem{"has host '" + host + "', which is not a valid " +
                                 (bracketed ? "IPv6 address" : "host name or IPv4 address"),
                             example};
    }
    auto port = parse_port(port_text);
    if (auto* problem = std::get_if<ListenProblem>(&port)) return *problem;
    return HostPort{host, std::get<std::uint16_t>(port)};
}

std::string format_listen(const std::string& host, std::uint16_t port) {
    const bool ipv6 = host.find(':') != std::string::npos;
    return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Option listen_option(std::string key, std::string description) {
    auto read = [=](const YAML::Node& value, Config& config, ReadContext& context) {
        auto text = read_string(value, key, context);
        if (!text) return;
        auto parsed = parse_listen(*text);
        if (auto* problem = std::get_if<ListenProblem>(&parsed)) {
            context.diagnostics.error(value.Mark(), "'" + key + "' " + problem->message,
                                      problem->hint);
            return;
        }
        auto& address = std::get<HostPort>(parsed);
        config.http.listen_host = std::move(address.host);
        config.http.listen_port = address.port;
    };
    auto show = [](const Config& config) {
        return format_listen(config.http.listen_host, config.http.listen_port);
    };
    return Option{std::move(key), "string HOST:PORT", std::move(description), read, show};
}

}  // namespace helsebro::config::detail
