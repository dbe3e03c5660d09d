#include "fhir/validate/bundle.hpp"

#include <string>
#include <unordered_map>

namespace helsebro::fhir::validation {

namespace {

const json::Value* member(const json::Value& object, std::string_view name) {
    const json::Value* v = object.find(name);
    return v != nullptr && !v->is_null() ? v : nullptr;
}

std::string_view string_member(const json::Value* object, std::string_view name) {
    if (object == nullptr || !object->is_object()) return {};
    const json::Value* v = object->find(name);
    return v != nullptr && v->is_string() ? std::string_view(v->text()) : std::string_view{};
}

std::string_view first_resource_type(const json::Value* entries) {
    if (entries == nullptr || !entries->is_array() || entries->items().empty()) return {};
    const json::Value& first = entries->items().front();
    return first.is_object() ? string_member(first.find("resource"), "resourceType") : std::string_view{};
}

// Bundle.entry.fullUrl: "The fullUrl SHALL NOT disagree with the id in the resource - i.e. if the fullUrl
// is not a urn:uuid, the URL shall be version-independent URL consistent with the Resource.id."
void check_full_url(std::string_view full_url, const json::Value* resource, Reporter& r) {
    if (full_url.starts_with("urn:uuid:") || full_url.starts_with("urn:oid:")) return;
    const std::string_view id = string_member(resource, "id");
    const std::string_view type = string_member(resource, "resourceType");
    if (id.empty() || type.empty()) return;
    const std::string tail = "/" + std::string(type) + "/" + std::string(id);
    if (!full_url.ends_with(tail)) {
        r.error("value",
                "The fullUrl SHALL NOT disagree with the resource's id: it must end with /" + std::string(type) +
                    "/ and the resource's id.",
                "fullUrl");
    }
}

void check_entries(const json::Value& entries, std::string_view type, Reporter& r) {
    const bool wants_request = type == "batch" || type == "transaction" || type == "history";
    const bool wants_response = type == "batch-response" || type == "transaction-response" || type == "history";
    std::unordered_map<std::string, std::size_t> full_urls;  // fullUrl + versionId -> first entry
    PathScope scope(r, "entry");
    for (std::size_t i = 0; i < entries.items().size(); ++i) {
        const json::Value& entry = entries.items()[i];
        if (!entry.is_object()) continue;  // reported by the structural checks
        r.set_index(static_cast<std::int64_t>(i));
        const bool request = present(entry, "request"), response = present(entry, "response");
        if (present(entry, "search") && type != "searchset") {
            r.error("invariant", "bdl-2: entry.search is only allowed in a searchset Bundle.", "search");
        }
        if (request != wants_request) {
            r.error("invariant",
                    wants_request ? "bdl-3: entry.request is mandatory in a batch, transaction or history Bundle."
                                  : "bdl-3: entry.request is only allowed in a batch, transaction or history Bundle.",
                    wants_request ? std::string_view{} : "request");
        }
        if (response != wants_response) {
            r.error(
                "invariant",
                wants_response
                    ? "bdl-4: entry.response is mandatory in a batch-response, transaction-response or history Bundle."
                    : "bdl-4: entry.response is only allowed in a batch-response, transaction-response or history "
                      "Bundle.",
                wants_response ? std::string_view{} : "response");
        }
        if (!present(entry, "resource") && !request && !response) {
            r.error("invariant", "bdl-5: An entry must have a resource unless it has a request or a response.");
        }
        const json::Value* full_url = member(entry, "fullUrl");
        if (full_url == nullptr || !full_url->is_string()) continue;
        const json::Value* resource = member(entry, "resource");
        if (full_url->text().find("/_history/") != std::string::npos) {
            r.error("invariant", "bdl-8: fullUrl cannot be a version specific reference.", "fullUrl");
        } else {
            check_full_url(full_url->text(), resource, r);
        }
        if (type == "history") continue;
        const std::string_view version = string_member(resource ? resource->find("meta") : nullptr, "versionId");
        std::string key = full_url->text();
        key += '\0';
        key += version;
        const auto [it, inserted] = full_urls.emplace(std::move(key), i);
        if (!inserted) {
            r.error("invariant",
                    "bdl-7: fullUrl must be unique in a Bundle, or else entries with the same fullUrl must have "
                    "different meta.versionId; entry[" +
                        std::to_string(it->second) + "] has the same.",
                    "fullUrl");
        }
    }
}

}  // namespace

bool present(const json::Value& object, std::string_view name) {
    for (const auto& [key, value] : object.members()) {
        if (value.is_null()) continue;
        if (key == name ||
            (key.size() == name.size() + 1 && key[0] == '_' && std::string_view(key).substr(1) == name)) {
            return true;
        }
    }
    return false;
}

void check_bundle(const json::Value& bundle, Reporter& r) {
    const json::Value* type_value = member(bundle, "type");
    if (type_value == nullptr || !type_value->is_string()) return;  // Bundle.type is 1..1: reported as required
    const std::string_view type = type_value->text();
    if (present(bundle, "total") && type != "searchset" && type != "history") {
        r.error("invariant", "bdl-1: total is only allowed in a searchset or history Bundle.", "total");
    }
    const json::Value* entries = member(bundle, "entry");
    if (entries != nullptr && entries->is_array()) check_entries(*entries, type, r);
    if (type == "document") {
        const json::Value* identifier = member(bundle, "identifier");
        if (identifier == nullptr || !identifier->is_object() || !present(*identifier, "system") ||
            !present(*identifier, "value")) {
            r.error("invariant", "bdl-9: A document must have an identifier with a system and a value.", "identifier");
        }
        const json::Value* timestamp = member(bundle, "timestamp");
        if (timestamp == nullptr || !timestamp->is_string()) {
            r.error("invariant", "bdl-10: A document must have a date (timestamp).", "timestamp");
        }
        if (first_resource_type(entries) != "Composition") {
            r.error("invariant", "bdl-11: A document must have a Composition as the first resource.", "entry");
        }
    }
    if (type == "message" && first_resource_type(entries) != "MessageHeader") {
        r.error("invariant", "bdl-12: A message must have a MessageHeader as the first resource.", "entry");
    }
}

}  // namespace helsebro::fhir::validation
