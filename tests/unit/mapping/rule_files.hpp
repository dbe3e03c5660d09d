// A temporary mappings folder for one test, removed afterwards.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace helsebro::mapping::testing {

class RuleDir {
public:
    RuleDir() {
        static int n = 0;
        path_ = std::filesystem::temp_directory_path() /
                ("helsebro-mapping-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
        std::filesystem::create_directories(path_);
    }
    ~RuleDir() { std::filesystem::remove_all(path_); }
    RuleDir(const RuleDir&) = delete;
    RuleDir& operator=(const RuleDir&) = delete;

    void write(const std::string& name, const std::string& text) const {
        std::filesystem::create_directories((path_ / name).parent_path());
        std::ofstream(path_ / name, std::ios::binary) << text;
    }
    std::string path() const { return path_.string(); }

private:
    std::filesystem::path path_;
};

}  // namespace helsebro::mapping::testing
