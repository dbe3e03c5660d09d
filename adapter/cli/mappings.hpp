// `helsebro test-mappings` and `helsebro map --dry-run`: the mapping rules run from the command
// line exactly as the daemon runs them, touching nothing.
#pragma once

#include <optional>
#include <string>

namespace helsebro::cli {

// Loads the rule set of `dir` (or the config's mappings.dir) and runs its tests. 0 when all pass,
// 1 when one fails, 2 when the rules or config do not load.
int test_mappings(const std::optional<std::string>& config_file, const std::optional<std::string>& dir, bool update);

// Applies the config's rules to INPUT as if `sender` had sent it, with `records` (a collection
// Bundle) as what Helsebro holds for the patient; prints the outcome as JSON.
int dry_run(const std::string& config_file, const std::string& input, const std::optional<std::string>& sender,
            const std::optional<std::string>& records);

}  // namespace helsebro::cli
