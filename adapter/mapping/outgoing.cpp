#include "adapter/mapping/outgoing.hpp"

#include <algorithm>
#include <map>

#include "adapter/auth/auth.hpp"
#include "adapter/mapping/assign.hpp"

namespace helsebro::mapping {
namespace {

namespace json = fhir::json;

constexpr std::string_view her_system = "urn:oid:2.16.578.1.12.4.1.2";
constexpr std::string_view orgnr_system = "urn:oid:2.16.578.1.12.4.1.4.101";
constexpr std::string_view hpr_system = "urn:oid:2.16.578.1.12.4.1.4.4";

std::string instant(std::chrono::system_clock::time_point t) {
    return fp::Temporal::from_time_point(t).to_string();
}

json::Value coding(std::string_view system, std::string_view code) {
    json::Value c = json::Value::object();
    c.set("system", json::Value::string(std::string(system)));
    c.set("code", json::Value::string(std::string(code)));
    return c;
}

json::Value codeable(std::string_view system, std::string_view code) {
    json::Value cc = json::Value::object();
    json::Value list = json::Value::array();
    list.push_back(coding(system, code));
    cc.set("coding", std::move(list));
    return cc;
}

json::Value identifier_reference(std::string_view type, std::string_view system, std::string_view value) {
    json::Value id = json::Value::object();
    id.set("system", json::Value::string(std::string(system)));
    id.set("value", json::Value::string(std::string(value)));
    json::Value ref = json::Value::object();
    if (!type.empty()) ref.set("type", json::Value::string(std::string(type)));
    ref.set("identifier", std::move(id));
    return ref;
}

const Recipient* by_identifier(std::string_view system, std::string_view value, const std::vector<Recipient>& book) {
    for (const auto& r : book) {
        const auto& list = system == her_system ? r.her_ids : system == orgnr_system ? r.organization_numbers
                         : system == hpr_system ? r.hpr_numbers : std::vector<std::string>{};
        if (std::find(list.begin(), list.end(), value) != list.end()) return &r;
    }
    return nullptr;
}

const Recipient* by_identifiers(const json::Value& holder, const std::vector<Recipient>& book) {
    const json::Value* ids = holder.find("identifier");
    if (!ids) return nullptr;
    auto check = [&](const json::Value& id) -> const Recipient* {
        auto system = id.string_at("system");
        auto value = id.string_at("value");
        return system && value ? by_identifier(*system, *value, book) : nullptr;
    };
    if (!ids->is_array()) return check(*ids);
    for (const auto& id : ids->items())
        if (const Recipient* r = check(id)) return r;
    return nullptr;
}

}  // namespace

const json::Value* in_bundle(std::string_view reference, const json::Value& input) {
    const json::Value* entries = input.find("entry");
    if (!entries || !entries->is_array()) return nullptr;
    for (const auto& e : entries->items()) {
        const json::Value* r = e.find("resource");
        if (!r) continue;
        if (e.string_at("fullUrl") == reference) return r;
        auto type = r->string_at("resourceType");
        auto id = r->string_at("id");
        if (type && id && reference == std::string(*type) + "/" + std::string(*id)) return r;
    }
    return nullptr;
}


std::string derived_id(std::string_view message_id, std::string_view rule, std::size_t index, std::string_view salt) {
    std::string name;
    name.append(message_id).append(1, '\0').append(rule).append(1, '\0').append(std::to_string(index)).append(1, '\0').append(salt);
    auto d = auth::sha256(name);
    d[6] = static_cast<unsigned char>((d[6] & 0x0F) | 0x80);  // version 8
    d[8] = static_cast<unsigned char>((d[8] & 0x3F) | 0x80);  // RFC 9562 variant
    const std::string hex = auth::to_hex(d);
    return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

json::Value provenance(const Change& change, const std::string& rule_set_version, const Input& input) {
    const auto type = std::string(change.resource.string_at("resourceType").value_or(""));
    const auto id = std::string(change.resource.string_at("id").value_or(""));
    json::Value p = json::Value::object();
    p.set("resourceType", json::Value::string("Provenance"));
    p.set("id", json::Value::string(derived_id(input.message_id, change.rule, 0, type + "/" + id)));
    json::Value target = json::Value::object();
    target.set("reference", json::Value::string(type + "/" + id));
    json::Value targets = json::Value::array();
    targets.push_back(std::move(target));
    p.set("target", std::move(targets));
    p.set("recorded", json::Value::string(instant(input.now)));
    json::Value policy = json::Value::array();
    policy.push_back(json::Value::string("urn:helsebro:rule-set:" + rule_set_version + "#" + change.rule));
    p.set("policy", std::move(policy));
    p.set("activity", codeable("http://terminology.hl7.org/CodeSystem/v3-DataOperation", change.created ? "CREATE" : "UPDATE"));
    json::Value agent = json::Value::object();
    agent.set("type", codeable("http://terminology.hl7.org/CodeSystem/provenance-participant-type", "author"));
    agent.set("who", identifier_reference("", "urn:helsebro:client", input.sender));
    json::Value agents = json::Value::array();
    agents.push_back(std::move(agent));
    p.set("agent", std::move(agents));
    json::Value entity = json::Value::object();
    entity.set("role", json::Value::string("source"));
    entity.set("what", identifier_reference("", "urn:helsebro:message", input.message_id));
    json::Value entities = json::Value::array();
    entities.push_back(std::move(entity));
    p.set("entity", std::move(entities));
    return p;
}

std::vector<ProvenanceGroup> provenance_groups(const Outcome& outcome) {
    std::vector<ProvenanceGroup> groups;
    std::map<std::pair<std::string, bool>, std::size_t> by_key;  // (rule, created) -> group
    for (std::size_t i = 0; i < outcome.changes.size(); ++i) {
        const Change& c = outcome.changes[i];
        auto [it, fresh] = by_key.emplace(std::make_pair(c.rule, c.created), groups.size());
        if (fresh) groups.push_back(ProvenanceGroup{c.provenance, {}});
        groups[it->second].changes.push_back(i);
    }
    for (auto& g : groups) {
        json::Value targets = json::Value::array();
        for (std::size_t i : g.changes) {
            const json::Value& r = outcome.changes[i].resource;
            json::Value ref = json::Value::object();
            ref.set("reference", json::Value::string(std::string(r.string_at("resourceType").value_or("")) + "/" +
                                                     std::string(r.string_at("id").value_or(""))));
            targets.push_back(std::move(ref));
        }
        g.provenance.set("target", std::move(targets));
    }
    return groups;
}

// The fullUrl of the input entry holding exactly this resource, if it came from there.
static std::optional<std::string> input_full_url(const json::Value* resource, const json::Value& input) {
    const json::Value* entries = input.find("entry");
    if (!entries || !entries->is_array()) return std::nullopt;
    for (const auto& e : entries->items())
        if (e.find("resource") == resource)
            if (auto url = e.string_at("fullUrl")) return std::string(*url);
    return std::nullopt;
}

json::Value message_bundle(const MessageSpec& spec, const fp::Collection& focus, const fp::Collection& include,
                           const json::Value& input) {
    const std::string id = derived_id(spec.message_id, spec.rule, spec.send_index, spec.recipient.id);
    json::Value header = json::Value::object();
    header.set("resourceType", json::Value::string("MessageHeader"));
    header.set("id", json::Value::string(id));
    header.set("eventCoding", coding(spec.event_system, spec.event_code));
    json::Value destination = json::Value::object();
    destination.set("endpoint", json::Value::string(spec.recipient.endpoint.empty() ? "urn:helsebro:recipient:" + spec.recipient.id
                                                                                    : spec.recipient.endpoint));
    if (!spec.recipient.her_ids.empty())
        destination.set("receiver", identifier_reference("Organization", her_system, spec.recipient.her_ids.front()));
    json::Value destinations = json::Value::array();
    destinations.push_back(std::move(destination));
    header.set("destination", std::move(destinations));
    json::Value source = json::Value::object();
    source.set("name", json::Value::string("Helsebro"));
    source.set("endpoint", json::Value::string("urn:helsebro"));
    header.set("source", std::move(source));

    json::Value entries = json::Value::array();
    json::Value focus_refs = json::Value::array();
    auto add = [&](const fp::Item& item, bool is_focus) {
        const fp::Node* n = item.node();
        if (!n || !n->value || !n->value->find("resourceType")) throw ApplyError{"'focus' and 'include' must give resources"};
        const std::string full_url = input_full_url(n->value, input).value_or(
            "urn:uuid:" + derived_id(id, n->type, 0, std::string(n->value->string_at("id").value_or("")) + json::write(*n->value)));
        for (const auto& e : entries.items())
            if (same(*e.find("resource"), *n->value)) return;
        json::Value entry = json::Value::object();
        entry.set("fullUrl", json::Value::string(full_url));
        entry.set("resource", *n->value);
        entries.push_back(std::move(entry));
        if (is_focus) {
            json::Value ref = json::Value::object();
            ref.set("reference", json::Value::string(full_url));
            focus_refs.push_back(std::move(ref));
        }
    };
    for (const auto& f : focus) add(f, true);
    for (const auto& i : include) add(i, false);
    if (!focus_refs.items().empty()) header.set("focus", std::move(focus_refs));

    json::Value header_entry = json::Value::object();
    header_entry.set("fullUrl", json::Value::string("urn:uuid:" + id));
    header_entry.set("resource", std::move(header));
    json::Value all = json::Value::array();
    all.push_back(std::move(header_entry));
    for (auto& e : entries.items()) all.push_back(std::move(e));

    json::Value bundle = json::Value::object();
    bundle.set("resourceType", json::Value::string("Bundle"));
    bundle.set("id", json::Value::string(id));
    bundle.set("type", json::Value::string("message"));
    bundle.set("timestamp", json::Value::string(instant(spec.now)));
    bundle.set("entry", std::move(all));
    return bundle;
}

const Recipient* find_recipient(const fp::Item& item, const std::vector<Recipient>& book, const json::Value& input) {
    const fp::Node* n = item.node();
    if (!n || !n->value || !n->value->is_object()) return nullptr;
    if (n->type == "Identifier") {
        auto system = n->value->string_at("system");
        auto value = n->value->string_at("value");
        return system && value ? by_identifier(*system, *value, book) : nullptr;
    }
    if (const Recipient* r = by_identifiers(*n->value, book)) return r;
    if (n->type == "Reference") {
        auto ref = n->value->string_at("reference");
        const json::Value* target = ref ? in_bundle(*ref, input) : nullptr;
        return target ? by_identifiers(*target, book) : nullptr;
    }
    return nullptr;
}

}  // namespace helsebro::mapping
