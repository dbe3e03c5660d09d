// Helsebro's fhir/ on the official examples, timed like bench/fhir/peers.js times its peers:
// parse + validate every example, and JSON -> XML -> JSON for every example; best of ROUNDS.
// Usage: bench_fhir EXAMPLES_DIR ROUNDS
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "fhir/json.hpp"
#include "fhir/validate.hpp"
#include "fhir/xml.hpp"

namespace fs = std::filesystem;
using namespace helsebro;

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_fhir EXAMPLES_DIR [ROUNDS]\n");
        return 2;
    }
    int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
    std::vector<std::string> texts;
    for (const auto& e : fs::directory_iterator(argv[1])) {
        auto name = e.path().filename().string();
        // Every example, as tests/conformance counts them: the package's JSON files but its manifest.
        if (e.path().extension() != ".json" || name == "package.json" || name == ".index.json") continue;
        std::ifstream in(e.path(), std::ios::binary);
        std::ostringstream s;
        s << in.rdbuf();
        texts.push_back(s.str());
    }
    fhir::json::ParseLimits limits;
    limits.max_depth = 512;
    auto best = [&](const std::function<void()>& fn) {
        double min = 1e18;
        for (int r = 0; r < rounds; ++r) {
            auto t0 = std::chrono::steady_clock::now();
            fn();
            min = std::min(min, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        }
        return min;
    };
    int invalid = 0;
    double validate_ms = best([&] {
        invalid = 0;
        for (const auto& t : texts) {
            auto v = fhir::json::parse(t, limits);
            if (!v.value || fhir::has_errors(fhir::validate(*v.value))) ++invalid;
        }
    });
    int failed = 0;
    double roundtrip_ms = best([&] {
        failed = 0;
        for (const auto& t : texts) {
            auto v = fhir::json::parse(t, limits);
            auto xml = v.value ? fhir::xml::write_checked(*v.value, 512) : fhir::xml::WriteResult{};
            auto back = xml.xml ? fhir::xml::parse(*xml.xml, {512, 64u << 20}) : fhir::xml::ParseResult{};
            if (!back.value) {
                ++failed;
                continue;
            }
            (void)fhir::json::write(*back.value);
        }
    });
    std::printf("{\"files\":%zu,\"validate_ms\":%.1f,\"invalid\":%d,\"roundtrip_ms\":%.1f,\"roundtrip_failed\":%d}\n",
                texts.size(), validate_ms, invalid, roundtrip_ms, failed);
}
