// Walks a parsed YAML document against the option table: every key must be declared, and every
// declared option found is handed to its reader.
#pragma once

#include <vector>

#include "adapter/config/options.hpp"

namespace helsebro::config::detail {

void walk(const YAML::Node& root, const std::vector<Option>& options, Config& config,
          ReadContext& context);

}  // namespace helsebro::config::detail
