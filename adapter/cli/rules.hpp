// Loading the mapping rules the way the config says: its mappings.dir, recipients and clients.
#pragma once

#include "adapter/config/config.hpp"
#include "adapter/mapping/mapping.hpp"

namespace helsebro::cli {

mapping::Loaded load_mapping_rules(const config::Config& config);

}  // namespace helsebro::cli
