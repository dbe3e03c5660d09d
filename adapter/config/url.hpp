// Base URLs of systems Helsebro sends to (recipients' FHIR endpoints): checked when the config is
// loaded, so a typo is a start-up error at its line rather than a delivery failing hours later.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace helsebro::config::detail {

struct BaseUrl {
    bool tls = true;
    std::string host;  // IPv6 without the brackets
    std::uint16_t port = 443;
    std::string path;  // "" or "/…", never ending in '/'
};

struct UrlProblem {
    std::string message;  // follows the option's name: "'x.endpoint' must …"
    std::string hint;
};

// https://HOST[:PORT][/PATH] with no user info, query or fragment. Plain http:// only to this
// machine (127.0.0.1, [::1], localhost): anything else would carry health data unencrypted.
std::variant<BaseUrl, UrlProblem> parse_base_url(std::string_view url);

// 127.0.0.1, ::1 (in any spelling) or localhost: a host on this machine.
bool is_this_machine(const std::string& host);

}  // namespace helsebro::config::detail
