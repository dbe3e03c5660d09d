// The shape of one option in the option table (options.cpp). Loading, defaults and the
// reference documentation are all derived from that table, so an option cannot be documented
// without being loadable, or loadable without being documented.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <yaml-cpp/node/node.h>

#include "adapter/config/config.hpp"
#include "adapter/config/diagnostics.hpp"

namespace helsebro::config::detail {

struct ReadContext {
    Diagnostics& diagnostics;
    std::filesystem::path base_dir;  // relative paths in the file are relative to the file
};

struct Option {
    std::string key;          // dotted path mirroring the Config fields, e.g. "http.max_body_bytes"
    std::string type;         // for people: "integer 1..64", "one of: trace, debug, …"
    std::string description;  // one line; the unit is in the key, not here
    // Stores a present, non-null value into the config, or reports why it cannot.
    std::function<void(const YAML::Node& value, Config& config, ReadContext& context)> read;
    // The field as it would be written in YAML; applied to Config{} it gives the default.
    std::function<std::string(const Config& config)> show;
};

// Every option, in the order the reference lists them.
const std::vector<Option>& options();

}  // namespace helsebro::config::detail
