// "Did you mean …?" for misspelt keys and values: the cheapest way to turn a rejected config
// into a fixed one.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace helsebro::config::detail {

// Levenshtein distance, ignoring ASCII case (admins type "Max_Body_Bytes" too).
std::size_t edit_distance(std::string_view a, std::string_view b);

// "did you mean 'x'?" for the closest candidate, or "" when nothing is close enough to be a
// plausible typo (a wild guess is worse than no hint).
std::string did_you_mean(std::string_view given, const std::vector<std::string>& candidates);

}  // namespace helsebro::config::detail
