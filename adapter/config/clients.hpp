// auth.clients: who may send, each known only by the SHA-256 of its bearer token, so the config
// (and any copy or backup of it) never holds a usable secret.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "adapter/config/options.hpp"

namespace helsebro::config::detail {

// 64 hex digits (either case) → 32 bytes; nullopt for anything else.
std::optional<std::array<unsigned char, 32>> decode_sha256_hex(std::string_view text);

Option clients_option(std::string key, std::string description);

}  // namespace helsebro::config::detail
