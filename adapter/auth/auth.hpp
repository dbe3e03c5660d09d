// Who is sending: bearer tokens of the clients declared in config, known only by their SHA-256.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapter/config/config.hpp"

namespace helsebro::auth {

using Digest = std::array<unsigned char, 32>;

Digest sha256(std::string_view data);
std::string to_hex(const Digest& d);

class Authenticator {
public:
    explicit Authenticator(std::vector<config::Client> clients);
    // The client id for an `Authorization: Bearer <token>` value, or nullopt. Every client's hash is
    // compared in constant time, so the answer's timing tells nothing about which bytes matched.
    std::optional<std::string> authenticate(std::string_view authorization) const;

private:
    std::vector<config::Client> clients_;
};

// The local demo client of the default config: its token lives in <data_dir>/demo-client.token
// (mode 0600), created with 256 random bits on first start.
struct DemoClient {
    config::Client client;
    std::string token_path;
    bool created = false;
};
DemoClient ensure_demo_client(const std::string& data_dir);

}  // namespace helsebro::auth
