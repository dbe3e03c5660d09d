// Helpers shared by the config tests: unwrap a LoadResult with a readable failure, and a
// scratch directory for token files and config files that refer to them.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "adapter/config/config.hpp"

namespace helsebro::config::test {

inline std::string joined(const std::vector<LoadError>& errors) {
    std::string out;
    for (const auto& e : errors) out += e.to_string() + "\n";
    return out;
}

// The config, or nullptr after failing the test with every error the loader gave.
inline std::shared_ptr<const Config> loaded(const LoadResult& result) {
    if (const auto* errors = std::get_if<std::vector<LoadError>>(&result)) {
        ADD_FAILURE() << "expected the config to load, got:\n" << joined(*errors);
        return nullptr;
    }
    return std::get<std::shared_ptr<const Config>>(result);
}

// The errors, or none after failing the test because the config loaded.
inline std::vector<LoadError> errors_of(const LoadResult& result) {
    if (const auto* errors = std::get_if<std::vector<LoadError>>(&result)) return *errors;
    ADD_FAILURE() << "expected the config to be rejected, but it loaded";
    return {};
}

inline std::vector<LoadError> errors_of(const std::string& yaml) {
    return errors_of(load_string(yaml, "test.yaml"));
}

inline std::shared_ptr<const Config> loaded(const std::string& yaml) {
    return loaded(load_string(yaml, "test.yaml"));
}

inline const std::string hash_a(64, 'a');  // 0xaa… as the SHA-256 of some token

class TempDir {
public:
    TempDir() {
        static std::atomic<int> counter{0};
        path_ = std::filesystem::temp_directory_path() /
                ("helsebro-config-test-" + std::to_string(::getpid()) + "-" +
                 std::to_string(counter++));
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }

    std::filesystem::path write(const std::string& relative, const std::string& text) const {
        const auto file = path_ / relative;
        std::filesystem::create_directories(file.parent_path());
        std::ofstream(file, std::ios::binary) << text;
        return file;
    }

private:
    std::filesystem::path path_;
};

}  // namespace helsebro::config::test
