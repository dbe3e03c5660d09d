#include "adapter/config/url.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <optional>

namespace helsebro::config::detail {

namespace {

const std::string example = "e.g. https://fhir.example.no/fhir";
constexpr std::size_t max_host_length = 253;
constexpr std::size_t max_label_length = 63;

bool is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

std::string lowered(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](char c) {
        return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    });
    return out;
}

bool valid_label(std::string_view label) {
    return !label.empty() && label.size() <= max_label_length && label.front() != '-' &&
           label.back() != '-' &&
           std::all_of(label.begin(), label.end(), [](char c) { return is_alnum(c) || c == '-'; });
}

// Digits and dots are meant as an IPv4 address: "10.0.0.300" must not pass as a host name.
bool valid_host_name_or_ipv4(const std::string& host) {
    if (host.empty() || host.size() > max_host_length) return false;
    if (std::all_of(host.begin(), host.end(),
                    [](char c) { return (c >= '0' && c <= '9') || c == '.'; })) {
        in_addr address{};
        return inet_pton(AF_INET, host.c_str(), &address) == 1;
    }
    for (std::size_t start = 0;;) {
        const std::size_t dot = host.find('.', start);
        if (!valid_label(std::string_view(host).substr(start, dot - start))) return false;
        if (dot == std::string::npos) return true;
        start = dot + 1;
    }
}

bool is_ipv6_loopback(const std::string& host) {
    in6_addr address{};
    return inet_pton(AF_INET6, host.c_str(), &address) == 1 &&
           std::memcmp(&address, &in6addr_loopback, sizeof address) == 0;
}


// RFC 3986 path characters; '%' must start an escape.
std::variant<std::string, UrlProblem> check_path(std::string_view path) {
    static const std::string_view other_allowed = "-._~!$&'()*+,;=:@/";
    for (std::size_t i = 0; i < path.size(); ++i) {
        const char c = path[i];
        if (c == '?') {
            return UrlProblem{"must not have a query ('?…')", "give the FHIR base URL only"};
        }
        if (c == '#') {
            return UrlProblem{"must not have a fragment ('#…')", "give the FHIR base URL only"};
        }
        if (c == '%') {
            if (i + 2 >= path.size() || !is_hex(path[i + 1]) || !is_hex(path[i + 2])) {
                return UrlProblem{"has a '%' not followed by two hexadecimal digits", ""};
            }
        } else if (!is_alnum(c) && other_allowed.find(c) == std::string_view::npos) {
            return UrlProblem{"has a character a URL cannot hold in its path",
                              "percent-encode it, e.g. %20 for a space"};
        }
    }
    // Paths such as "/$process-message" are appended to the base; a trailing '/' would double up.
    if (path.ends_with('/')) {
        return UrlProblem{"must not end with '/'",
                          "paths such as /$process-message are appended to it"};
    }
    return std::string(path);
}

std::variant<std::uint16_t, UrlProblem> parse_port(std::string_view text) {
    unsigned value = 0;
    const auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || status != std::errc{} || end != text.data() + text.size() || value == 0 ||
        value > 65535) {
        return UrlProblem{
            "has port '" + std::string(text) + "', which is not a number from 1 to 65535", ""};
    }
    return static_cast<std::uint16_t>(value);
}

struct HostAndPort {
    std::string host;
    std::optional<std::string_view> port;  // the text after ':', when there is one
};

// "[v6]" or "[v6]:port".
std::variant<HostAndPort, UrlProblem> split_bracketed(std::string_view authority) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return UrlProblem{"has a '[' without its ']'", ""};
    HostAndPort out{std::string(authority.substr(1, close - 1)), std::nullopt};
    in6_addr address{};
    if (inet_pton(AF_INET6, out.host.c_str(), &address) != 1) {
        return UrlProblem{"has host '[" + out.host + "]', which is not an IPv6 address", ""};
    }
    const auto rest = authority.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) {
        return UrlProblem{"has text after ']' that is not a port", ""};
    }
    if (!rest.empty()) out.port = rest.substr(1);
    return out;
}

// "host" or "host:port", the host a name or an IPv4 address.
std::variant<HostAndPort, UrlProblem> split_plain(std::string_view authority) {
    const auto colon = authority.find(':');
    if (colon != std::string_view::npos &&
        authority.find(':', colon + 1) != std::string_view::npos) {
        return UrlProblem{"looks like it has a bare IPv6 address",
                          "put it in brackets, e.g. https://[2001:db8::1]/fhir"};
    }
    HostAndPort out{std::string(authority.substr(0, colon)), std::nullopt};
    if (!valid_host_name_or_ipv4(out.host)) {
        return UrlProblem{
            "has host '" + out.host + "', which is not a valid host name or IPv4 address",
            example};
    }
    if (colon != std::string_view::npos) out.port = authority.substr(colon + 1);
    return out;
}

// The authority ("host", "host:port", "[v6]:port") into the URL's host and port.
std::variant<BaseUrl, UrlProblem> parse_authority(std::string_view authority, BaseUrl url) {
    if (authority.empty()) return UrlProblem{"has no host", example};
    if (authority.find('@') != std::string_view::npos) {
        return UrlProblem{"must not hold a user name or password",
                          "credentials do not belong in the URL"};
    }
    auto split = authority.starts_with('[') ? split_bracketed(authority) : split_plain(authority);
    if (auto* problem = std::get_if<UrlProblem>(&split)) return *problem;
    auto& [host, port_text] = std::get<HostAndPort>(split);
    url.host = std::move(host);
    if (port_text) {
        auto port = parse_port(*port_text);
        if (auto* problem = std::get_if<UrlProblem>(&port)) return *problem;
        url.port = std::get<std::uint16_t>(port);
    }
    return url;
}

}  // namespace

bool is_this_machine(const std::string& host) {
    return lowered(host) == "localhost" || host == "127.0.0.1" || is_ipv6_loopback(host);
}

std::variant<BaseUrl, UrlProblem> parse_base_url(std::string_view text) {
    const auto separator = text.find("://");
    if (separator == std::string_view::npos) return UrlProblem{"must be an https:// URL", example};
    const std::string scheme = lowered(text.substr(0, separator));
    if (scheme != "https" && scheme != "http") {
        return UrlProblem{
            "must start with https://, not " + std::string(text.substr(0, separator)) + "://",
            example};
    }
    BaseUrl url;
    url.tls = scheme == "https";
    url.port = url.tls ? 443 : 80;
    const auto rest = text.substr(separator + 3);
    const auto path_start = std::min(rest.find_first_of("/?#"), rest.size());
    auto parsed = parse_authority(rest.substr(0, path_start), url);
    if (auto* problem = std::get_if<UrlProblem>(&parsed)) return *problem;
    url = std::get<BaseUrl>(parsed);
    auto path = check_path(rest.substr(path_start));
    if (auto* problem = std::get_if<UrlProblem>(&path)) return *problem;
    url.path = std::get<std::string>(path);
    if (!url.tls && !is_this_machine(url.host)) {
        return UrlProblem{"must use https:// to reach another machine",
                          "plain http:// is only for 127.0.0.1, [::1] or localhost"};
    }
    return url;
}

}  // namespace helsebro::config::detail
