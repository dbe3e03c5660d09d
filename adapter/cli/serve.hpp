#pragma once

#include <memory>

#include "adapter/config/config.hpp"

namespace helsebro::cli {

// Runs the daemon until SIGTERM/SIGINT; returns the process exit code.
int serve(std::shared_ptr<const config::Config> config);

}  // namespace helsebro::cli
