// http.listen: one "HOST:PORT" string for the admin, two fields (host, port) for the server.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "adapter/config/options.hpp"

namespace helsebro::config::detail {

struct HostPort {
    std::string host;  // IPv6 without the brackets, as the resolver wants it
    std::uint16_t port = 0;
};

struct ListenProblem {
    std::string message;
    std::string hint;
};

// "127.0.0.1:8080", "localhost:0", "[::1]:8080". Port 0 asks the OS for a free port (tests).
std::variant<HostPort, ListenProblem> parse_listen(std::string_view text);

// The inverse of parse_listen, for defaults and messages.
std::string format_listen(const std::string& host, std::uint16_t port);

Option listen_option(std::string key, std::string description);

}  // namespace helsebro::config::detail
