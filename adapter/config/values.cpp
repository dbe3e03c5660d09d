#include "adapter/config/values.hpp"

#include <algorithm>
#include <charconv>

#include <cctype>

#include "adapter/config/suggest.hpp"

namespace helsebro::config::detail {

namespace {

// yaml-cpp tags a quoted scalar "!" and a plain one "?": a quoted "8080" is a string by the
// author's own choice, and taking it as a number would hide a mistake elsewhere.
bool quoted(const YAML::Node& node) {
    return node.Tag() == "!";
}

bool all_digits(const std::string& text) {
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "10MB", "30s": the unit belongs in the key, so say so instead of just "not a number".
bool looks_like_number_with_unit(const std::string& text) {
    return !text.empty() && text.front() >= '0' && text.front() <= '9' && !all_digits(text);
}

std::string range_text(std::uint64_t min, std::uint64_t max) {
    return "from " + std::to_string(min) + " to " + std::to_string(max);
}

}  // namespace

std::string join(const std::vector<std::string>& items, const std::string& separator) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) out += separator;
        out += item;
    }
    return out;
}

std::string describe(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Sequence:
            return "a list";
        case YAML::NodeType::Map:
            return "a map";
        case YAML::NodeType::Scalar: {
            constexpr std::size_t shown = 40;  // enough to recognise, short enough for one line
            const std::string& text = node.Scalar();
            return "'" + (text.size() > shown ? text.substr(0, shown) + "..." : text) + "'";
        }
        default:
            return "nothing";
    }
}

std::optional<std::uint64_t> read_unsigned(const YAML::Node& value, const std::string& key,
                                           std::uint64_t min, std::uint64_t max,
                                           ReadContext& context) {
    const std::string expected = "'" + key + "' must be an integer " + range_text(min, max);
    if (!value.IsScalar()) {
        context.diagnostics.error(value.Mark(), expected + ", got " + describe(value));
        return std::nullopt;
    }
    const std::string& text = value.Scalar();
    if (quoted(value)) {
        context.diagnostics.error(value.Mark(),
                                  expected + ", got the quoted string " + describe(value),
                                  "write the number without quotes");
        return std::nullopt;
    }
    if (!all_digits(text)) {
        std::string hint = looks_like_number_with_unit(text)
                               ? "write a plain number; the unit is in the option's name"
                               : "";
        context.diagnostics.error(value.Mark(), expected + ", got " + describe(value), hint);
        return std::nullopt;
    }
    std::uint64_t number = 0;
    const auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (status != std::errc{} || end != text.data() + text.size() || number < min || number > max) {
        context.diagnostics.error(
            value.Mark(), "'" + key + "' must be " + range_text(min, max) + ", got " + text);
        return std::nullopt;
    }
    return number;
}

std::optional<bool> read_bool(const YAML::Node& value, const std::string& key,
                              ReadContext& context) {
    // YAML 1.2's booleans only: yaml-cpp would also take yes/no/on/off, the source of the
    // "Norway problem", and an admin should not have to know which spellings are magic.
    static const std::vector<std::string> truths{"true", "True", "TRUE"};
    static const std::vector<std::string> falsehoods{"false", "False", "FALSE"};
    const auto is_in = [](const std::vector<std::string>& set, const std::string& s) {
        return std::find(set.begin(), set.end(), s) != set.end();
    };
    if (value.IsScalar() && !quoted(value)) {
        if (is_in(truths, value.Scalar())) return true;
        if (is_in(falsehoods, value.Scalar())) return false;
    }
    static const std::vector<std::string> ambiguous{"yes", "no", "on", "off", "y", "n"};
    std::string lowered = value.IsScalar() ? value.Scalar() : "";
    std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string hint = is_in(ambiguous, lowered) ? "write true or false" : "";
    context.diagnostics.error(value.Mark(),
                              "'" + key + "' must be true or false, got " + describe(value), hint);
    return std::nullopt;
}

std::optional<std::string> read_string(const YAML::Node& value, const std::string& key,
                                       ReadContext& context) {
    if (!value.IsScalar()) {
        context.diagnostics.error(value.Mark(),
                                  "'" + key + "' must be a string, got " + describe(value));
        return std::nullopt;
    }
    return value.Scalar();
}

std::optional<std::string> read_enum(const YAML::Node& value, const std::string& key,
                                     const std::vector<std::string>& allowed,
                                     ReadContext& context) {
    const std::string expected = "'" + key + "' must be one of " + join(allowed, ", ");
    if (!value.IsScalar()) {
        context.diagnostics.error(value.Mark(), expected + "; got " + describe(value));
        return std::nullopt;
    }
    const std::string& text = value.Scalar();
    if (std::find(allowed.begin(), allowed.end(), text) != allowed.end()) return text;
    context.diagnostics.error(value.Mark(), expected + "; got " + describe(value),
                              did_you_mean(text, allowed));
    return std::nullopt;
}

}  // namespace helsebro::config::detail
