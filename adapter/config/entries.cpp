#include "adapter/config/entries.hpp"

#include <algorithm>

#include "adapter/config/suggest.hpp"
#include "adapter/config/values.hpp"

namespace helsebro::config::detail {

namespace {

constexpr std::size_t max_id_length = 64;

}  // namespace

Entries collect_keys(const YAML::Node& item, const std::string& where,
                     const std::vector<std::string>& allowed, ReadContext& context) {
    Entries found;
    for (const auto& entry : item) {
        const YAML::Node& key = entry.first;
        const YAML::Node& value = entry.second;
        const std::string name = key.IsScalar() ? key.Scalar() : "";
        const std::string path = where + "." + name;
        if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
            context.diagnostics.error(key.Mark(), "unknown key '" + path + "'",
                                      did_you_mean(name, allowed));
        } else if (auto first = found.find(name); first != found.end()) {
            context.diagnostics.error(
                key.Mark(), "'" + path + "' is given twice",
                "first at line " + std::to_string(human_line(first->second.key.Mark())));
        } else if (value.IsNull()) {
            context.diagnostics.error(key.Mark(), "'" + path + "' has no value");
        } else {
            found.emplace(name, Entry{key, value});
        }
    }
    return found;
}

bool valid_id(std::string_view id) {
    const auto allowed = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-';
    };
    return !id.empty() && id.size() <= max_id_length && std::all_of(id.begin(), id.end(), allowed);
}

std::optional<std::string> read_id(const YAML::Node& value, const std::string& path,
                                   ReadContext& context) {
    auto id = read_string(value, path, context);
    if (id && !valid_id(*id)) {
        context.diagnostics.error(
            value.Mark(),
            "'" + path + "' must be 1 to 64 of A-Z a-z 0-9 . _ -, got " + describe(value));
        return std::nullopt;
    }
    return id;
}

void check_unique_ids(const YAML::Node& list, const std::string& key, const std::string& noun,
                      ReadContext& context) {
    std::map<std::string, YAML::Mark> first_seen;
    for (const auto& item : list) {
        // A missing key gives an "invalid" node that throws on most calls; IsDefined is safe.
        const YAML::Node id = item.IsMap() ? item["id"] : YAML::Node();
        if (!id.IsDefined() || !id.IsScalar()) continue;
        auto [first, inserted] = first_seen.emplace(id.Scalar(), id.Mark());
        if (!inserted) {
            context.diagnostics.error(
                id.Mark(), "'" + key + "' has " + noun + " id '" + id.Scalar() + "' twice",
                "first at line " + std::to_string(human_line(first->second)));
        }
    }
}

}  // namespace helsebro::config::detail
