// Typed readers for YAML scalars, and the builders the option table uses to declare an option of
// each type against a Config field. A builder captures the field, so the key, range and default
// are stated once and the reading and the documentation both follow from it.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "adapter/config/options.hpp"

namespace helsebro::config::detail {

// How a value looks to a person in an error message: 'text', a list, a map, nothing.
std::string describe(const YAML::Node& node);

// Each reader reports its own error, naming `key`, and returns nullopt when the value is unusable.
std::optional<std::uint64_t> read_unsigned(const YAML::Node& value, const std::string& key,
                                           std::uint64_t min, std::uint64_t max,
                                           ReadContext& context);
std::optional<bool> read_bool(const YAML::Node& value, const std::string& key,
                              ReadContext& context);
std::optional<std::string> read_string(const YAML::Node& value, const std::string& key,
                                       ReadContext& context);
std::optional<std::string> read_enum(const YAML::Node& value, const std::string& key,
                                     const std::vector<std::string>& allowed, ReadContext& context);

// What is wrong with a well-typed string, or nullopt when it is acceptable.
using StringCheck = std::function<std::optional<std::string>(const std::string&)>;

std::string join(const std::vector<std::string>& items, const std::string& separator);

template <class Section, class T>
Option unsigned_option(std::string key, Section Config::*section, T Section::*field,
                       std::uint64_t min, std::uint64_t max, std::string description) {
    // A range the field cannot hold would silently truncate admin input.
    if (max > std::numeric_limits<T>::max() || min > max) {
        throw std::logic_error("config option " + key + ": bad range for its field");
    }
    auto read = [=](const YAML::Node& value, Config& config, ReadContext& context) {
        if (auto n = read_unsigned(value, key, min, max, context)) {
            (config.*section).*field = static_cast<T>(*n);
        }
    };
    auto show = [=](const Config& config) { return std::to_string((config.*section).*field); };
    std::string type = "integer " + std::to_string(min) + ".." + std::to_string(max);
    return Option{std::move(key), std::move(type), std::move(description), read, show};
}

template <class Section>
Option bool_option(std::string key, Section Config::*section, bool Section::*field,
                   std::string description) {
    auto read = [=](const YAML::Node& value, Config& config, ReadContext& context) {
        if (auto b = read_bool(value, key, context)) (config.*section).*field = *b;
    };
    auto show = [=](const Config& config) {
        return std::string((config.*section).*field ? "true" : "false");
    };
    return Option{std::move(key), "boolean", std::move(description), read, show};
}

template <class Section>
Option string_option(std::string key, std::string type, Section Config::*section,
                     std::string Section::*field, StringCheck check, std::string description) {
    auto read = [=](const YAML::Node& value, Config& config, ReadContext& context) {
        auto text = read_string(value, key, context);
        if (!text) return;
        if (auto problem = check(*text)) {
            context.diagnostics.error(value.Mark(), "'" + key + "' " + *problem);
            return;
        }
        (config.*section).*field = std::move(*text);
    };
    auto show = [=](const Config& config) { return (config.*section).*field; };
    return Option{std::move(key), std::move(type), std::move(description), read, show};
}

template <class Section>
Option enum_option(std::string key, Section Config::*section, std::string Section::*field,
                   std::vector<std::string> allowed, std::string description) {
    std::string type = "one of: " + join(allowed, ", ");
    auto read = [=](const YAML::Node& value, Config& config, ReadContext& context) {
        if (auto choice = read_enum(value, key, allowed, context)) {
            (config.*section).*field = std::move(*choice);
        }
    };
    auto show = [=](const Config& config) { return (config.*section).*field; };
    return Option{std::move(key), std::move(type), std::move(description), read, show};
}

}  // namespace helsebro::config::detail
