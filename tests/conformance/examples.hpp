// Where the official R4 examples are and which files count as examples; shared by the
// conformance tests so they always agree on the set.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace helsebro::conformance {

namespace fs = std::filesystem;

// scripts/fetch-fhir-package.sh puts the package here; HELSEBRO_FHIR_CACHE points elsewhere.
inline fs::path package_dir() {
    if (const char* cache = std::getenv("HELSEBRO_FHIR_CACHE"); cache != nullptr && *cache != '\0')
        return fs::path(cache) / "package";
    return fs::path(HELSEBRO_SOURCE_DIR) / ".cache" / "fhir" / "package";
}

inline std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Every example: the package's JSON files but its manifest (package.json, .index.json).
inline std::vector<fs::path> example_files(const fs::path& dir) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir)) {
        const auto name = entry.path().filename().string();
        if (!entry.is_regular_file() || entry.path().extension() != ".json") continue;
        if (name == "package.json" || name == ".index.json") continue;
        files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace helsebro::conformance
