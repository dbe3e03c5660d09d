// Lists of maps in the config (auth.clients, recipients): the keys of one entry checked against
// the keys an entry may have, and the ids that name entries. Shared so every list reports a
// misspelt key, a repeated key or a reused id the same way.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "adapter/config/options.hpp"

namespace helsebro::config::detail {

struct Entry {
    YAML::Node key;
    YAML::Node value;
};

using Entries = std::map<std::string, Entry>;

// The keys of `item` (a map) that are allowed, given once and have a value; every other key is
// reported. `where` names the entry in messages, e.g. "auth.clients[0]".
Entries collect_keys(const YAML::Node& item, const std::string& where,
                     const std::vector<std::string>& allowed, ReadContext& context);

// Whether `id` is usable as an entry's id: [A-Za-z0-9._-]{1,64}. Ids end up in logs, records and
// mapping rules, so nothing that needs quoting or escaping.
bool valid_id(std::string_view id);

// The id at `value`, or nullopt after reporting why it is not one. `path` is e.g.
// "recipients[0].id".
std::optional<std::string> read_id(const YAML::Node& value, const std::string& path,
                                   ReadContext& context);

// Reports each entry of `list` reusing an earlier entry's id, at the reuse, with the line of the
// first. `noun` names the kind of entry: "'auth.clients' has client id 'ehr' twice".
void check_unique_ids(const YAML::Node& list, const std::string& key, const std::string& noun,
                      ReadContext& context);

}  // namespace helsebro::config::detail
