#include "adapter/config/suggest.hpp"

#include <algorithm>
#include <numeric>

namespace helsebro::config::detail {

namespace {

char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Close enough to be a typo, a wrong unit ("max_body_size" for "max_body_bytes") or a longer
// spelling ("warning" for "warn"), but not so loose that every short key matches every other.
bool plausible(std::size_t distance, std::string_view given) {
    return distance < given.size() && (distance <= 2 || distance * 2 <= given.size());
}

}  // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    std::iota(row.begin(), row.end(), std::size_t{0});
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t substitute = diagonal + (lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1);
            diagonal = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitute});
        }
    }
    return row[b.size()];
}

std::string did_you_mean(std::string_view given, const std::vector<std::string>& candidates) {
    const std::string* best = nullptr;
    std::size_t best_distance = 0;
    for (const auto& candidate : candidates) {
        const std::size_t d = edit_distance(given, candidate);
        if (best == nullptr || d < best_distance) {
            best = &candidate;
            best_distance = d;
        }
    }
    // The unit left off ("timeout" for "timeout_seconds"): units are part of the names.
    for (const char* unit : {"_seconds", "_hours", "_ms", "_bytes"}) {
        const std::string with_unit = std::string(given) + unit;
        for (const auto& candidate : candidates) {
            if (!given.empty() && candidate == with_unit && (best == nullptr || best_distance > 0))
                return "did you mean '" + candidate + "'?";
        }
    }
    if (best == nullptr || !plausible(best_distance, given)) return {};
    return "did you mean '" + *best + "'?";
}

}  // namespace helsebro::config::detail

namespace helsebro::config {

std::string did_you_mean(std::string_view given, const std::vector<std::string>& candidates) {
    return detail::did_you_mean(given, candidates);
}

}  // namespace helsebro::config
