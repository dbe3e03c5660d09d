// recipients: the address book. Each entry is a system Helsebro sends messages to, with the
// identifiers (HER-id, organisation number, HPR number) by which mapping rules find it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "adapter/config/options.hpp"

namespace helsebro::config::detail {

// A 9-digit organisation number (Enhetsregisteret) with a matching mod-11 check digit.
bool valid_organization_number(std::string_view number);

// One key of a recipient entry as `helsebro config-reference` lists it: key relative to the
// entry ("style", "tls.verify"), type, default (as YAML) and description.
struct RecipientKeyDoc {
    std::string key;
    std::string type;
    std::string default_value;
    std::string description;
};
const std::vector<RecipientKeyDoc>& recipient_key_docs();

Option recipients_option(std::string key, std::string description);

}  // namespace helsebro::config::detail
