#include "adapter/config/walk.hpp"

#include <algorithm>
#include <map>

#include <yaml-cpp/yaml.h>

#include "adapter/config/suggest.hpp"
#include "adapter/config/values.hpp"

namespace helsebro::config::detail {

namespace {

// Sections are not declared separately: "http" is a section because options start "http.".
// `prefix` is "" at the top and "http." inside a section.
class Level {
public:
    Level(const std::vector<Option>& options, std::string prefix)
        : options_(options), prefix_(std::move(prefix)) {}

    const Option* option(const std::string& key) const {
        const auto it = std::find_if(options_.begin(), options_.end(),
                                     [&](const Option& o) { return o.key == key; });
        return it == options_.end() ? nullptr : &*it;
    }

    bool is_section(const std::string& key) const {
        return std::any_of(options_.begin(), options_.end(),
                           [&](const Option& o) { return o.key.starts_with(key + "."); });
    }

    // The names valid here, for "did you mean".
    std::vector<std::string> names() const {
        std::vector<std::string> names;
        for (const auto& o : options_) {
            if (!o.key.starts_with(prefix_)) continue;
            std::string rest = o.key.substr(prefix_.size());
            rest = rest.substr(0, rest.find('.'));
            if (std::find(names.begin(), names.end(), rest) == names.end()) names.push_back(rest);
        }
        return names;
    }

    const std::vector<Option>& options() const { return options_; }
    const std::string& prefix() const { return prefix_; }

private:
    const std::vector<Option>& options_;
    std::string prefix_;
};

void walk_map(const YAML::Node& map, const Level& level, Config& config, ReadContext& context);

std::string unknown_key_hint(const Level& level, const std::string& name) {
    // "http.threads: 4" at the top is a common guess at the syntax.
    if (level.option(level.prefix() + name) != nullptr) {
        const auto dot = name.rfind('.');
        return "nest it: '" + name.substr(0, dot) + ":' with '" + name.substr(dot + 1) +
               ":' indented below";
    }
    return did_you_mean(name, level.names());
}

void read_entry(const YAML::Node& key, const YAML::Node& value, const Level& level, Config& config,
                ReadContext& context) {
    const std::string name = key.Scalar();
    const std::string full = level.prefix() + name;
    // A dotted key must not reach an option by the back door: the file's shape mirrors Config.
    const bool plain = name.find('.') == std::string::npos;
    if (const Option* option = plain ? level.option(full) : nullptr) {
        if (value.IsNull()) {
            context.diagnostics.error(
                key.Mark(), "'" + full + "' has no value",
                "remove the line to keep the default, " + option->show(Config{}));
        } else {
            option->read(value, config, context);
        }
    } else if (plain && level.is_section(full)) {
        // An empty section ("http:" with everything commented out) just keeps the defaults.
        if (value.IsNull()) return;
        if (!value.IsMap()) {
            context.diagnostics.error(
                value.Mark(), "'" + full + "' must be a map of options, got " + describe(value));
            return;
        }
        walk_map(value, Level(level.options(), full + "."), config, context);
    } else {
        context.diagnostics.error(key.Mark(), "unknown key '" + full + "'",
                                  unknown_key_hint(level, name));
    }
}

void walk_map(const YAML::Node& map, const Level& level, Config& config, ReadContext& context) {
    std::map<std::string, YAML::Mark> seen;  // yaml-cpp keeps repeated keys; the last would win
    for (const auto& entry : map) {
        const YAML::Node& key = entry.first;
        if (!key.IsScalar()) {
            context.diagnostics.error(key.Mark(), "keys must be plain names, got " + describe(key));
            continue;
        }
        auto [first, inserted] = seen.emplace(key.Scalar(), key.Mark());
        if (!inserted) {
            context.diagnostics.error(key.Mark(),
                                      "'" + level.prefix() + key.Scalar() + "' is given twice",
                                      "first at line " + std::to_string(human_line(first->second)));
            continue;
        }
        read_entry(key, entry.second, level, config, context);
    }
}

}  // namespace

void walk(const YAML::Node& root, const std::vector<Option>& options, Config& config,
          ReadContext& context) {
    if (root.IsNull()) return;  // an empty file: all defaults
    const Level top(options, "");
    if (!root.IsMap()) {
        context.diagnostics.error(root.Mark(), "the config must be a map of sections (" +
                                                   join(top.names(), ", ") + "), got " +
                                                   describe(root));
        return;
    }
    walk_map(root, top, config, context);
}

}  // namespace helsebro::config::detail
