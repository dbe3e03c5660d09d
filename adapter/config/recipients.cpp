#include "adapter/config/recipients.hpp"

#include <algorithm>
#include <array>
#include <functional>
#include <map>

#include "adapter/config/entries.hpp"
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

// Delivery settings (TLS, token file, timeouts, retries) are added as rows here.
std::vector<Field> declare_fields() {
    std::vector<Field> fields{
        {"id", true, read_id_field},
        {"endpoint", true, read_endpoint},
    };
    for (const auto& kind : identifier_kinds()) {
        fields.push_back({kind.key, false, identifier_reader(kind)});
    }
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
