// Small whole-file reads (the config itself, token hash files) with the OS's reason on failure.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <system_error>

namespace helsebro::config::detail {

struct FileText {
    std::string text;
    std::error_code error;  // set when the file could not be read
    bool too_large = false;
};

// Stops at max_bytes so a wrong path (a log, a device) cannot make loading hang or balloon.
FileText read_small_file(const std::filesystem::path& path, std::size_t max_bytes);

}  // namespace helsebro::config::detail
