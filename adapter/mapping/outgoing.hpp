// What applying produces besides records: stable ids, Provenance resources and message Bundles.
#pragma once

#include <chrono>
#include <string>

#include "adapter/mapping/rules.hpp"

namespace helsebro::mapping {

// A UUID named by its parts (SHA-256, RFC 9562 version 8): the same input message, rule and
// position give the same id on every replay, so a replay creates nothing twice.
std::string derived_id(std::string_view message_id, std::string_view rule, std::size_t index, std::string_view salt);

fhir::json::Value provenance(const Change& change, const std::string& rule_set_version, const Input& input);

struct MessageSpec {
    std::string message_id;  // the input's
    std::string rule;
    std::size_t send_index = 0;
    const Recipient& recipient;
    std::string event_system, event_code;
    std::chrono::system_clock::time_point now;
};
// Resources taken from the input Bundle keep their fullUrl there, so the references between them
// (a Composition's subject, section entries) still resolve inside the message.
fhir::json::Value message_bundle(const MessageSpec& spec, const fp::Collection& focus, const fp::Collection& include,
                                 const fhir::json::Value& input);

// The entry of the input Bundle a reference names: by fullUrl, or "Type/id"; nullptr when none.
const fhir::json::Value* in_bundle(std::string_view reference, const fhir::json::Value& input);

// The address-book entry a Reference, Identifier, Practitioner, PractitionerRole or Organization
// names (by HER-id, organisation number or HPR number); references are first resolved in `input`.
const Recipient* find_recipient(const fp::Item& item, const std::vector<Recipient>& book, const fhir::json::Value& input);

}  // namespace helsebro::mapping
