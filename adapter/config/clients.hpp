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

// Whether `id` is usable as a client id: [A-Za-z0-9._-]{1,64}. It ends up in logs and records,
// so nothing that needs quoting or escaping.
bool valid_client_id(std::string_view id);

Option clients_option(std::string key, std::string description);

}  // namespace helsebro::config::detail
