#include "adapter/config/clients.hpp"

#include <algorithm>

#include "adapter/config/entries.hpp"
#include "adapter/config/files.hpp"
#include "adapter/config/values.hpp"

namespace helsebro::config::detail {

namespace {

constexpr std::size_t max_hash_file_bytes =
    4096;  // a hash and some whitespace; more is a wrong path

const std::vector<std::string> client_keys{"id", "token_sha256", "token_sha256_file", "validation"};

// A hint rather than an echo of the bad value: someone may have pasted the token itself.
const std::string hash_hint =
    "the SHA-256 of the token, e.g. from: printf %s \"$TOKEN\" | sha256sum";

std::string trim(const std::string& text) {
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    const auto begin = std::find_if_not(text.begin(), text.end(), space);
    const auto end = std::find_if_not(text.rbegin(), text.rend(), space).base();
    return begin < end ? std::string(begin, end) : std::string();
}

std::optional<std::array<unsigned char, 32>> hash_from_text(const Entry& entry,
                                                            const std::string& path,
                                                            ReadContext& context) {
    auto text = read_string(entry.value, path, context);
    if (!text) return std::nullopt;
    auto hash = decode_sha256_hex(*text);
    if (!hash) {
        context.diagnostics.error(entry.value.Mark(),
                                  "'" + path + "' must be 64 hexadecimal digits", hash_hint);
    }
    return hash;
}

std::optional<std::array<unsigned char, 32>> hash_from_file(const Entry& entry,
                                                            const std::string& path,
                                                            ReadContext& context) {
    auto name = read_string(entry.value, path, context);
    if (!name) return std::nullopt;
    const std::filesystem::path file = context.base_dir / *name;
    const FileText content = read_small_file(file, max_hash_file_bytes);
    std::string problem;
    if (content.error) {
        problem = "cannot be read: " + file.string() + ": " + content.error.message();
    } else if (content.too_large) {
        problem = "names " + file.string() + ", which is far too large to hold a hash";
    }
    auto hash = problem.empty() ? decode_sha256_hex(trim(content.text)) : std::nullopt;
    if (problem.empty() && !hash) {
        problem = "names " + file.string() + ", which does not hold 64 hexadecimal digits";
    }
    if (!problem.empty()) {
        context.diagnostics.error(entry.value.Mark(), "'" + path + "' " + problem,
                                  content.error ? "" : hash_hint);
    }
    return hash;
}

std::optional<std::string> read_client_id(const Entries& keys, const YAML::Node& item,
                                          const std::string& where, ReadContext& context) {
    const auto it = keys.find("id");
    if (it == keys.end()) {
        context.diagnostics.error(item.Mark(), "'" + where + "' has no id");
        return std::nullopt;
    }
    return read_id(it->second.value, where + ".id", context);
}

std::optional<std::array<unsigned char, 32>> read_hash(const Entries& keys,
                                                       const YAML::Node& item,
                                                       const std::string& where,
                                                       ReadContext& context) {
    const auto text = keys.find("token_sha256");
    const auto file = keys.find("token_sha256_file");
    const bool has_text = text != keys.end();
    const bool has_file = file != keys.end();
    if (has_text == has_file) {
        context.diagnostics.error(
            item.Mark(),
            "'" + where + "' must have exactly one of token_sha256 and token_sha256_file",
            has_text ? "they could disagree; keep one" : hash_hint);
        return std::nullopt;
    }
    return has_text ? hash_from_text(text->second, where + ".token_sha256", context)
                    : hash_from_file(file->second, where + ".token_sha256_file", context);
}

std::optional<Client> read_client(const YAML::Node& item, const std::string& where,
                                  ReadContext& context) {
    if (!item.IsMap()) {
        context.diagnostics.error(item.Mark(), "'" + where +
                                                   "' must be a map with id and "
                                                   "token_sha256 or token_sha256_file, got " +
                                                   describe(item));
        return std::nullopt;
    }
    const auto keys = collect_keys(item, where, client_keys, context);
    auto id = read_client_id(keys, item, where, context);
    auto hash = read_hash(keys, item, where, context);
    Validation validation = Validation::reject;
    if (auto v = keys.find("validation"); v != keys.end()) {
        auto text = read_string(v->second.value, where + ".validation", context);
        if (text && *text == "warn") {
            validation = Validation::warn;
        } else if (text && *text != "reject") {
            context.diagnostics.error(v->second.value.Mark(), "'" + where + ".validation' must be reject or warn",
                                      "reject refuses invalid FHIR with 400; warn stores it and logs");
            return std::nullopt;
        }
    }
    if (!id || !hash) return std::nullopt;
    return Client{std::move(*id), *hash, validation};
}

}  // namespace

std::optional<std::array<unsigned char, 32>> decode_sha256_hex(std::string_view text) {
    std::array<unsigned char, 32> bytes{};
    if (text.size() != bytes.size() * 2) return std::nullopt;
    const auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        const int high = nibble(text[2 * i]);
        const int low = nibble(text[2 * i + 1]);
        if (high < 0 || low < 0) return std::nullopt;
        bytes[i] = static_cast<unsigned char>(high * 16 + low);
    }
    return bytes;
}

Option clients_option(std::string key, std::string description) {
    auto read = [=](const YAML::Node& value, Config& config, ReadContext& context) {
        if (!value.IsSequence()) {
            context.diagnostics.error(
                value.Mark(), "'" + key + "' must be a list of clients, got " + describe(value));
            return;
        }
        std::vector<Client> clients;
        std::size_t index = 0;
        for (const auto& item : value) {
            const std::string where = key + "[" + std::to_string(index++) + "]";
            if (auto client = read_client(item, where, context)) {
                // One token for two clients would record one sender's messages under the other.
                for (const auto& other : clients) {
                    if (other.token_sha256 == client->token_sha256) {
                        context.diagnostics.error(item.Mark(),
                                                  "'" + where + "' has the same token as client '" + other.id + "'",
                                                  "give every client a token of its own");
                    }
                }
                clients.push_back(std::move(*client));
            }
        }
        // An id names the sender on everything it sends; two clients with one id would be
        // indistinguishable in the records.
        check_unique_ids(value, key, "client", context);
        config.auth.clients = std::move(clients);
    };
    auto show = [](const Config& config) {
        return config.auth.clients.empty()
                   ? std::string("[]")
                   : std::to_string(config.auth.clients.size()) + " clients";
    };
    return Option{std::move(key), "list of {id, token_sha256 | token_sha256_file, validation}",
                  std::move(description), read, show};
}

}  // namespace helsebro::config::detail
