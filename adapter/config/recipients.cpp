#include "adapter/config/recipients.hpp"

#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <cerrno>
#include <filesystem>
#include <system_error>

#include <unistd.h>

#include "adapter/config/entries.hpp"
#include "adapter/config/files.hpp"
#include "adapter/config/url.hpp"
#include "adapter/config/values.hpp"

namespace helsebro::config::detail {

namespace {

struct Problem {
    std::string message;  // follows the value's path: "'recipients[0].her_ids[1]' must …"
    std::string hint;
};

bool all_digits(std::string_view text) {
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<Problem> check_her_id(const std::string& text) {
    if (all_digits(text) && text.size() <= 9) return std::nullopt;
    return Problem{"must be a HER-id, 1 to 9 digits", "as in Adresseregisteret"};
}

std::optional<Problem> check_organization_number(const std::string& text) {
    if (text.size() != 9 || !all_digits(text)) {
        return Problem{"must be an organisation number, 9 digits",
                       "as in Enhetsregisteret, without spaces"};
    }
    // No corrected check digit in the hint: a typo elsewhere, "fixed" that way, would name
    // another organisation.
    if (!valid_organization_number(text)) {
        return Problem{"is not a valid organisation number: its check digit does not match",
                       "copy it again from Enhetsregisteret (brreg.no)"};
    }
    return std::nullopt;
}

std::optional<Problem> check_hpr_number(const std::string& text) {
    if (all_digits(text) && text.size() <= 9) return std::nullopt;
    return Problem{"must be an HPR number, 1 to 9 digits", "as in Helsepersonellregisteret"};
}

// The identifiers references carry, by which rules find a recipient. Each value may belong to
// one recipient only: two would make it a guess where a message goes.
struct IdentifierKind {
    std::string key;
    std::string name;  // in messages
    std::vector<std::string> Recipient::*field;
    std::optional<Problem> (*check)(const std::string&);
};

// A function, not a global: the option table may be built during another file's static
// initialisation.
const std::array<IdentifierKind, 3>& identifier_kinds() {
    static const std::array<IdentifierKind, 3> kinds{{
        {"her_ids", "HER-id", &Recipient::her_ids, check_her_id},
        {"organization_numbers", "organisation number", &Recipient::organization_numbers,
         check_organization_number},
        {"hpr_numbers", "HPR number", &Recipient::hpr_numbers, check_hpr_number},
    }};
    return kinds;
}

// One key of an entry. Stores its value into the recipient, or reports why it cannot and
// returns false. `path` names the value in messages, e.g. "recipients[0].endpoint".
using Reader = std::function<bool(const YAML::Node& value, const std::string& path,
                                  Recipient& recipient, ReadContext& context)>;

struct Field {
    std::string key;
    bool required = false;
    Reader read;
    std::vector<RecipientKeyDoc> docs;  // the key, or for a map each of its keys
};

bool read_id_field(const YAML::Node& value, const std::string& path, Recipient& recipient,
                   ReadContext& context) {
    auto id = read_id(value, path, context);
    if (id) recipient.id = std::move(*id);
    return id.has_value();
}

bool read_endpoint(const YAML::Node& value, const std::string& path, Recipient& recipient,
                   ReadContext& context) {
    auto text = read_string(value, path, context);
    if (!text) return false;
    const auto parsed = parse_base_url(*text);
    if (const auto* problem = std::get_if<UrlProblem>(&parsed)) {
        context.diagnostics.error(value.Mark(), "'" + path + "' " + problem->message,
                                  problem->hint);
        return false;
    }
    recipient.endpoint = std::move(*text);
    return true;
}

bool read_identifier(const IdentifierKind& kind, const YAML::Node& item, const std::string& path,
                     Recipient& recipient, ReadContext& context) {
    auto text = read_string(item, path, context);
    if (!text) return false;
    if (const auto problem = kind.check(*text)) {
        context.diagnostics.error(item.Mark(),
                                  "'" + path + "' " + problem->message + ", got " + describe(item),
                                  problem->hint);
        return false;
    }
    (recipient.*kind.field).push_back(std::move(*text));
    return true;
}

Reader identifier_reader(const IdentifierKind& kind) {
    return [&kind](const YAML::Node& value, const std::string& path, Recipient& recipient,
                   ReadContext& context) {
        if (!value.IsSequence()) {
            context.diagnostics.error(value.Mark(),
                                      "'" + path + "' must be a list, got " + describe(value),
                                      value.IsScalar() ? "write [" + value.Scalar() + "]" : "");
            return false;
        }
        bool ok = true;
        std::size_t index = 0;
        for (const auto& item : value) {
            const std::string item_path = path + "[" + std::to_string(index++) + "]";
            ok = read_identifier(kind, item, item_path, recipient, context) && ok;
        }
        return ok;
    };
}

// ---- Delivery settings: what the delivery client (adapter/delivery/http_client.hpp) is given.

const std::vector<std::pair<std::string, Recipient::Style>>& styles() {
    static const std::vector<std::pair<std::string, Recipient::Style>> table{
        {"process-message", Recipient::Style::process_message},
        {"transaction", Recipient::Style::transaction},
        {"create", Recipient::Style::create},
    };
    return table;
}

std::string style_name(Recipient::Style style) {
    for (const auto& [name, value] : styles()) {
        if (value == style) return name;
    }
    return {};
}

bool read_style(const YAML::Node& value, const std::string& path, Recipient& recipient,
                ReadContext& context) {
    std::vector<std::string> names;
    for (const auto& entry : styles()) names.push_back(entry.first);
    const auto choice = read_enum(value, path, names, context);
    if (!choice) return false;
    for (const auto& [name, style] : styles()) {
        if (name == *choice) recipient.style = style;
    }
    return true;
}

// A file named in the config: relative to the config file's directory, as token_sha256_file.
std::filesystem::path resolve(const ReadContext& context, const std::string& name) {
    return (context.base_dir / name).lexically_normal();
}

// A path that must name a readable file, or nullopt after reporting why it does not.
std::optional<std::string> read_existing_file(const YAML::Node& value, const std::string& path,
                                              ReadContext& context) {
    auto name = read_string(value, path, context);
    if (!name) return std::nullopt;
    if (name->empty()) {
        context.diagnostics.error(value.Mark(), "'" + path + "' must not be empty",
                                  "leave the key out instead");
        return std::nullopt;
    }
    const auto file = resolve(context, *name);
    std::error_code error;
    const auto status = std::filesystem::status(file, error);
    std::string problem;
    if (error) {
        problem = "cannot be read: " + file.string() + ": " + error.message();
    } else if (!std::filesystem::is_regular_file(status)) {
        problem = "names " + file.string() + ", which is not a file";
    } else if (::access(file.c_str(), R_OK) != 0) {
        problem = "cannot be read: " + file.string() + ": " +
                  std::error_code(errno, std::generic_category()).message();
    }
    if (!problem.empty()) {
        context.diagnostics.error(
            value.Mark(), "'" + path + "' " + problem,
            std::filesystem::path(*name).is_relative()
                ? "a relative path is relative to the config file's directory"
                : "");
        return std::nullopt;
    }
    return file.string();
}

constexpr std::size_t max_token_file_bytes = 16 * 1024;  // a token; more is a wrong path
const std::string token_hint = "the file must hold the bearer token alone, on one line";

// Why a token file's content cannot be used, or "" when it can. Never quotes the content.
std::string token_problem(std::string& text) {
    if (text.ends_with('\n')) text.pop_back();
    if (text.ends_with('\r')) text.pop_back();
    if (text.empty()) return "which is empty";
    if (text.find_first_of("\r\n") != std::string::npos) return "which holds more than one line";
    const auto visible = [](char c) { return c > ' ' && c < 0x7f; };
    if (!std::all_of(text.begin(), text.end(), visible)) {
        return "whose token has a space or a character an HTTP header cannot carry";
    }
    return "";
}

bool read_token_file(const YAML::Node& value, const std::string& path, Recipient& recipient,
                     ReadContext& context) {
    auto name = read_string(value, path, context);
    if (!name) return false;
    if (name->empty()) {
        context.diagnostics.error(value.Mark(), "'" + path + "' must not be empty",
                                  "leave the key out to send no token");
        return false;
    }
    const auto file = resolve(context, *name);
    // Someone may have pasted the token itself where its file belongs: a long name without a
    // directory is not echoed back into logs and terminals.
    const bool maybe_token = name->find('/') == std::string::npos && name->size() >= 24;
    const std::string shown = maybe_token ? "the file it names" : file.string();
    const std::string paste_hint = "give the path of a file holding the token, not the token";
    FileText content = read_small_file(file, max_token_file_bytes);
    std::string problem;
    std::string hint = token_hint;
    if (content.error) {
        problem = "cannot be read: " + shown + ": " + content.error.message();
        hint = maybe_token ? paste_hint : "";
    } else if (content.too_large) {
        problem = "names " + shown + ", which is far too large to hold a token";
    } else if (auto why = token_problem(content.text); !why.empty()) {
        problem = "names " + shown + ", " + why;
    } else {
        std::error_code error;
        const auto perms = std::filesystem::status(file, error).permissions();
        if (!error && (perms & std::filesystem::perms::others_read) != std::filesystem::perms::none) {
            problem = "names " + shown + ", which every user of this machine can read";
            hint = "chmod o-r it (e.g. mode 0640, owner root, group helsebro)";
        }
    }
    if (!problem.empty()) {
        context.diagnostics.error(value.Mark(), "'" + path + "' " + problem, hint);
        return false;
    }
    recipient.token = std::move(content.text);
    recipient.token_file = file.string();
    return true;
}

template <unsigned Recipient::*Field, std::uint64_t Min, std::uint64_t Max>
bool read_unsigned_field(const YAML::Node& value, const std::string& path, Recipient& recipient,
                         ReadContext& context) {
    const auto n = read_unsigned(value, path, Min, Max, context);
    if (n) recipient.*Field = static_cast<unsigned>(*n);
    return n.has_value();
}

// The keys of a map-valued key (tls, retry), from its docs: "tls.verify" -> "verify".
std::vector<std::string> sub_keys(const std::vector<RecipientKeyDoc>& docs) {
    std::vector<std::string> keys;
    for (const auto& doc : docs) keys.push_back(doc.key.substr(doc.key.find('.') + 1));
    return keys;
}

bool require_map(const YAML::Node& value, const std::string& path, const std::string& keys,
                 ReadContext& context) {
    if (value.IsMap()) return true;
    context.diagnostics.error(value.Mark(),
                              "'" + path + "' must be a map of " + keys + ", got " + describe(value));
    return false;
}

std::vector<RecipientKeyDoc> tls_docs() {
    const Recipient::Tls defaults;
    return {
        {"tls.ca_file", "string (path)", defaults.ca_file,
         "PEM bundle of the CAs to trust for this recipient; unset: the system's store."},
        {"tls.client_certificate_file", "string (path)", defaults.client_certificate_file,
         "PEM certificate chain for mutual TLS; needs client_key_file."},
        {"tls.client_key_file", "string (path)", defaults.client_key_file,
         "PEM private key of client_certificate_file."},
        {"tls.verify", "boolean", defaults.verify ? "true" : "false",
         "Verify the server's certificate and name; false only for an endpoint on this machine."},
    };
}

bool read_tls(const YAML::Node& value, const std::string& path, Recipient& recipient,
              ReadContext& context) {
    static const std::vector<std::string> keys = sub_keys(tls_docs());
    if (!require_map(value, path, join(keys, ", "), context)) return false;
    const Entries found = collect_keys(value, path, keys, context);
    bool ok = found.size() == static_cast<std::size_t>(std::distance(value.begin(), value.end()));
    const auto file = [&](const std::string& key, std::string& into) {
        const auto it = found.find(key);
        if (it == found.end()) return;
        auto name = read_existing_file(it->second.value, path + "." + key, context);
        if (name) into = std::move(*name);
        ok = name.has_value() && ok;
    };
    file("ca_file", recipient.tls.ca_file);
    file("client_certificate_file", recipient.tls.client_certificate_file);
    file("client_key_file", recipient.tls.client_key_file);
    if (const auto it = found.find("verify"); it != found.end()) {
        const auto verify = read_bool(it->second.value, path + ".verify", context);
        if (verify) recipient.tls.verify = *verify;
        ok = verify.has_value() && ok;
    }
    const auto cert = found.find("client_certificate_file");
    const auto key = found.find("client_key_file");
    if ((cert == found.end()) != (key == found.end())) {
        const bool has_cert = cert != found.end();
        const Entry& given = has_cert ? cert->second : key->second;
        context.diagnostics.error(
            given.key.Mark(),
            "'" + path + "." + (has_cert ? "client_certificate_file" : "client_key_file") +
                "' is given without " + (has_cert ? "client_key_file" : "client_certificate_file"),
            "mutual TLS needs both the certificate and its private key");
        ok = false;
    }
    return ok;
}

constexpr std::uint64_t max_retry_delay_seconds = 86400;
constexpr std::uint64_t max_retry_age_hours = 8760;  // a year

std::vector<RecipientKeyDoc> retry_docs() {
    const Recipient::Retry defaults;
    return {
        {"retry.initial_delay_seconds", "integer 1.." + std::to_string(max_retry_delay_seconds),
         std::to_string(defaults.initial_delay_seconds),
         "Delay before the first retry; each later one doubles it, with full jitter."},
        {"retry.max_delay_seconds", "integer 1.." + std::to_string(max_retry_delay_seconds),
         std::to_string(defaults.max_delay_seconds),
         "Longest delay between two attempts; at least initial_delay_seconds."},
        {"retry.max_age_hours", "integer 0.." + std::to_string(max_retry_age_hours),
         std::to_string(defaults.max_age_hours),
         "Give up (dead letter) on a message this old; 0: retry forever."},
    };
}

bool read_retry(const YAML::Node& value, const std::string& path, Recipient& recipient,
                ReadContext& context) {
    static const std::vector<std::string> keys = sub_keys(retry_docs());
    if (!require_map(value, path, join(keys, ", "), context)) return false;
    const Entries found = collect_keys(value, path, keys, context);
    bool ok = found.size() == static_cast<std::size_t>(std::distance(value.begin(), value.end()));
    const auto number = [&](const std::string& key, std::uint64_t min, std::uint64_t max,
                            unsigned& into) {
        const auto it = found.find(key);
        if (it == found.end()) return true;
        const auto n = read_unsigned(it->second.value, path + "." + key, min, max, context);
        if (n) into = static_cast<unsigned>(*n);
        ok = n.has_value() && ok;
        return n.has_value();
    };
    Recipient::Retry& retry = recipient.retry;
    const bool initial = number("initial_delay_seconds", 1, max_retry_delay_seconds,
                                retry.initial_delay_seconds);
    const bool max = number("max_delay_seconds", 1, max_retry_delay_seconds, retry.max_delay_seconds);
    number("max_age_hours", 0, max_retry_age_hours, retry.max_age_hours);
    if (initial && max && retry.initial_delay_seconds > retry.max_delay_seconds) {
        // At the value that was written: the initial delay, unless only the maximum was given.
        const auto at = found.count("initial_delay_seconds") ? found.at("initial_delay_seconds")
                                                             : found.at("max_delay_seconds");
        context.diagnostics.error(
            at.value.Mark(),
            "'" + path + ".initial_delay_seconds' (" + std::to_string(retry.initial_delay_seconds) +
                ") is more than '" + path + ".max_delay_seconds' (" +
                std::to_string(retry.max_delay_seconds) + ")",
            "delays grow from initial_delay_seconds up to max_delay_seconds");
        ok = false;
    }
    return ok;
}

// A recipient that skips verifying its certificate must be on this machine: anything else would
// send health data to whoever answers. Checked once the endpoint is known.
bool check_verify(const YAML::Node& item, const std::string& where, const Recipient& recipient,
                  ReadContext& context) {
    if (recipient.tls.verify) return true;
    const auto parsed = parse_base_url(recipient.endpoint);
    const auto* url = std::get_if<BaseUrl>(&parsed);
    if (!url || is_this_machine(url->host)) return true;
    context.diagnostics.error(
        item["tls"]["verify"].Mark(),
        "'" + where + ".tls.verify' may be false only for an endpoint on this machine, not " +
            url->host,
        "trust its certificate with tls.ca_file instead");
    return false;
}

std::vector<Field> declare_fields() {
    const Recipient defaults;
    std::vector<Field> fields{
        {"id", true, read_id_field,
         {{"id", "string [A-Za-z0-9._-]{1,64}", "(required)",
           "Names it in rules (`recipient: id`) and in delivery logs; unique."}}},
        {"endpoint", true, read_endpoint,
         {{"endpoint", "string (URL)", "(required)",
           "FHIR base URL; https, or http to this machine only; no trailing '/'."}}},
    };
    for (const auto& kind : identifier_kinds()) {
        fields.push_back({kind.key, false, identifier_reader(kind),
                          {{kind.key, "list of strings", "[]",
                            "Each " + kind.name + " that routes to this recipient."}}});
    }
    std::vector<std::string> style_names;
    for (const auto& entry : styles()) style_names.push_back(entry.first);
    fields.push_back(
        {"style", false, read_style,
         {{"style", "one of: " + join(style_names, ", "), style_name(defaults.style),
           "How a message is delivered: POST [base]/$process-message, a transaction Bundle to "
           "[base], or each resource created/updated on its own."}}});
    fields.push_back({"token_file", false, read_token_file,
                      {{"token_file", "string (path)", defaults.token_file,
                        "File holding the bearer token sent to it, on one line, not readable by "
                        "others; relative to this config file. Unset: no Authorization header."}}});
    fields.push_back({"timeout_seconds", false,
                      read_unsigned_field<&Recipient::timeout_seconds, 1, 600>,
                      {{"timeout_seconds", "integer 1..600", std::to_string(defaults.timeout_seconds),
                        "Time allowed for one request, connecting included."}}});
    fields.push_back({"max_in_flight", false, read_unsigned_field<&Recipient::max_in_flight, 1, 64>,
                      {{"max_in_flight", "integer 1..64", std::to_string(defaults.max_in_flight),
                        "Requests under way to it at once (its connections)."}}});
    fields.push_back({"tls", false, read_tls, tls_docs()});
    fields.push_back({"retry", false, read_retry, retry_docs()});
    return fields;
}

const std::vector<Field>& fields() {
    static const std::vector<Field> table = declare_fields();
    return table;
}

const std::vector<std::string>& field_keys() {
    static const std::vector<std::string> keys = [] {
        std::vector<std::string> out;
        for (const auto& field : fields()) out.push_back(field.key);
        return out;
    }();
    return keys;
}

std::optional<Recipient> read_recipient(const YAML::Node& item, const std::string& where,
                                        ReadContext& context) {
    if (!item.IsMap()) {
        context.diagnostics.error(
            item.Mark(),
            "'" + where + "' must be a map with id and endpoint, got " + describe(item));
        return std::nullopt;
    }
    const Entries keys = collect_keys(item, where, field_keys(), context);
    Recipient recipient;
    bool ok = true;
    for (const auto& field : fields()) {
        const auto found = keys.find(field.key);
        if (found != keys.end()) {
            ok = field.read(found->second.value, where + "." + field.key, recipient, context) && ok;
        } else if (field.required) {
            // A key given without a value has been reported already.
            if (!item[field.key].IsDefined()) {
                context.diagnostics.error(item.Mark(), "'" + where + "' has no " + field.key);
            }
            ok = false;
        }
    }
    if (!ok) return std::nullopt;
    if (!check_verify(item, where, recipient, context)) return std::nullopt;
    return recipient;
}

// How an entry is named in messages: by its id, or by its place when it has none.
std::string entry_name(const YAML::Node& item, const std::string& where) {
    const YAML::Node id = item.IsMap() ? item["id"] : YAML::Node();
    return id.IsDefined() && id.IsScalar() ? "recipient '" + id.Scalar() + "'" : "'" + where + "'";
}

// The valid values of one kind of identifier in an entry; invalid ones have been reported.
std::vector<YAML::Node> identifier_values(const YAML::Node& item, const IdentifierKind& kind) {
    std::vector<YAML::Node> out;
    const YAML::Node values = item.IsMap() ? item[kind.key] : YAML::Node();
    if (!values.IsDefined() || !values.IsSequence()) return out;
    for (const auto& value : values) {
        if (value.IsScalar() && !kind.check(value.Scalar())) out.push_back(value);
    }
    return out;
}

struct Owner {
    std::size_t index;
    std::string name;
    YAML::Mark mark;
};

void report_reuse(const IdentifierKind& kind, const YAML::Node& value, const Owner& first,
                  const Owner& second, ReadContext& context) {
    const std::string what = kind.name + " " + value.Scalar();
    const std::string line = std::to_string(human_line(first.mark));
    if (first.index == second.index) {
        context.diagnostics.error(value.Mark(), what + " is given twice in " + second.name,
                                  "first at line " + line);
    } else {
        context.diagnostics.error(
            value.Mark(),
            what + " is under both " + first.name + " (line " + line + ") and " + second.name,
            "a message for it could go to either; keep it under one");
    }
}

// Checked on the YAML rather than on the recipients read, so that an entry with some other
// mistake still takes part.
void check_unambiguous(const YAML::Node& list, const std::string& key, const IdentifierKind& kind,
                       ReadContext& context) {
    std::map<std::string, Owner> owners;
    std::size_t index = 0;
    for (const auto& item : list) {
        const std::string name = entry_name(item, key + "[" + std::to_string(index) + "]");
        for (const auto& value : identifier_values(item, kind)) {
            const Owner owner{index, name, value.Mark()};
            const auto [first, inserted] = owners.emplace(value.Scalar(), owner);
            if (!inserted) report_reuse(kind, value, first->second, owner, context);
        }
        ++index;
    }
}

std::string type_text() {
    return "list of {" + join(field_keys(), ", ") + "}";
}

}  // namespace

const std::vector<RecipientKeyDoc>& recipient_key_docs() {
    static const std::vector<RecipientKeyDoc> docs = [] {
        std::vector<RecipientKeyDoc> out;
        for (const auto& field : fields()) out.insert(out.end(), field.docs.begin(), field.docs.end());
        return out;
    }();
    return docs;
}

bool valid_organization_number(std::string_view number) {
    static constexpr std::array<int, 8> weights{3, 2, 7, 6, 5, 4, 3, 2};
    if (number.size() != 9 || !all_digits(number)) return false;
    int sum = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) sum += (number[i] - '0') * weights[i];
    // A remainder of 1 would need check digit 10: such numbers are never issued.
    const int check = (11 - sum % 11) % 11;
    return check == number[8] - '0';
}

Option recipients_option(std::string key, std::string description) {
    auto read = [=](const YAML::Node& value, Config& config, ReadContext& context) {
        if (!value.IsSequence()) {
            context.diagnostics.error(
                value.Mark(), "'" + key + "' must be a list of recipients, got " + describe(value));
            return;
        }
        std::vector<Recipient> recipients;
        std::size_t index = 0;
        for (const auto& item : value) {
            auto recipient =
                read_recipient(item, key + "[" + std::to_string(index++) + "]", context);
            if (recipient) recipients.push_back(std::move(*recipient));
        }
        // `recipient: id` in rules and the logs of deliveries name a recipient by its id.
        check_unique_ids(value, key, "recipient", context);
        for (const auto& kind : identifier_kinds()) check_unambiguous(value, key, kind, context);
        config.recipients = std::move(recipients);
    };
    auto show = [](const Config& config) {
        return config.recipients.empty() ? std::string("[]")
                                         : std::to_string(config.recipients.size()) + " recipients";
    };
    return Option{std::move(key), type_text(), std::move(description), read, show};
}

}  // namespace helsebro::config::detail
