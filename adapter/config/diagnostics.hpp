// Collects every problem found in one config file, so an admin fixes them all in one round
// instead of meeting them one restart at a time.
#pragma once

#include <string>
#include <vector>

#include <yaml-cpp/mark.h>

#include "adapter/config/config.hpp"

namespace helsebro::config::detail {

class Diagnostics {
public:
    explicit Diagnostics(std::string file) : file_(std::move(file)) {}

    void error(const YAML::Mark& at, std::string message, std::string hint = {});
    void error(std::string message, std::string hint = {});  // not tied to a place in the file

    bool ok() const { return errors_.empty(); }
    const std::string& file() const { return file_; }

    // The errors in file order, so the output reads top to bottom like the file.
    std::vector<LoadError> take();

private:
    std::string file_;
    std::vector<LoadError> errors_;
};

// yaml-cpp counts from 0 and uses -1 for "nowhere"; people and editors count from 1.
int human_line(const YAML::Mark& mark);
int human_column(const YAML::Mark& mark);

}  // namespace helsebro::config::detail
