// `helsebro config-reference`: the option table rendered as Markdown, so the documentation is
// generated from the same declarations the loader uses and cannot drift from it.
#include <string>

#include "adapter/config/config.hpp"
#include "adapter/config/options.hpp"
#include "adapter/config/recipients.hpp"

namespace helsebro::config {

namespace {

// Markdown table cells cannot hold a bare '|'.
std::string cell(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '|') out += '\\';
        out += c;
    }
    return out;
}

std::string code(const std::string& text) {
    return "`" + (text.empty() ? "\"\"" : text) + "`";
}

}  // namespace

std::string reference_markdown() {
    const Config defaults;
    std::string out =
        "# Helsebro configuration reference\n\n"
        "Options are YAML, nested by section: `http.threads` is `threads:` under `http:`.\n"
        "Unknown keys and bad values are errors, reported with file, line and column.\n"
        "Units are part of the names (`_seconds`, `_ms`, `_bytes`); values are plain numbers.\n"
        "An option left out keeps its default.\n\n"
        "| Key | Type | Default | Description |\n"
        "|-----|------|---------|-------------|\n";
    for (const auto& option : detail::options()) {
        out += "| " + cell(code(option.key)) + " | " + cell(option.type) + " | " +
               cell(code(option.show(defaults))) + " | " + cell(option.description) + " |\n";
        // The keys of one entry, each with its own default, as `recipients[].timeout_seconds`.
        if (option.key == "recipients") {
            for (const auto& doc : detail::recipient_key_docs()) {
                out += "| " + cell(code("recipients[]." + doc.key)) + " | " + cell(doc.type) +
                       " | " + cell(code(doc.default_value)) + " | " + cell(doc.description) +
                       " |\n";
            }
        }
    }
    return out;
}

}  // namespace helsebro::config
