#include "adapter/processing/inputs.hpp"

#include <algorithm>
#include <ctime>

#include "fhir/xml.hpp"

namespace helsebro::processing {
namespace {

namespace json = fhir::json;

constexpr std::string_view fnr_system = "urn:oid:2.16.578.1.12.4.1.4.1";
constexpr std::string_view dnr_system = "urn:oid:2.16.578.1.12.4.1.4.2";

// The instant the message was accepted: the rules' "now", so processing it again gives the same
// dates and ids.
std::chrono::system_clock::time_point parse_instant(const std::string& text) {
    std::tm tm{};
    int millis = 0;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                    &tm.tm_sec, &millis) < 6)
        return std::chrono::system_clock::now();
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return std::chrono::system_clock::from_time_t(timegm(&tm)) + std::chrono::milliseconds(millis);
}

std::optional<json::Value> parse_body(const store::InboxEntry& e) {
    if (e.content_type.find("xml") != std::string::npos) return fhir::xml::parse(e.body).value;
    json::ParseLimits limits;
    limits.max_depth = 512;  // accepted once with the configured depth; reading back must not refuse it
    return json::parse(e.body, limits).value;
}

void add_key(mapping::PatientKey k, std::vector<mapping::PatientKey>& out) {
    if (std::none_of(out.begin(), out.end(), [&](const auto& x) { return x.system == k.system && x.value == k.value; }))
        out.push_back(std::move(k));
}

// National identifiers anywhere in the resource: its own (a Patient) and those of references.
void find_patients(const json::Value& v, std::vector<mapping::PatientKey>& out) {
    if (v.is_array()) {
        for (const auto& x : v.items()) find_patients(x, out);
        return;
    }
    if (!v.is_object()) return;
    auto system = v.string_at("system");
    auto value = v.string_at("value");
    if (system && value && (*system == fnr_system || *system == dnr_system))
        add_key(mapping::PatientKey{std::string(*system), std::string(*value)}, out);
    for (const auto& [key, member] : v.members()) find_patients(member, out);
}

// "Patient/<id>" references, as a transaction leaves them: the patient's identifiers are in the store.
void find_patient_references(const json::Value& v, std::vector<std::string>& ids) {
    if (v.is_array()) {
        for (const auto& x : v.items()) find_patient_references(x, ids);
        return;
    }
    if (!v.is_object()) return;
    if (auto ref = v.string_at("reference"); ref && ref->starts_with("Patient/")) {
        std::string id(ref->substr(8));
        if (auto h = id.find('/'); h != std::string::npos) id.resize(h);
        ids.push_back(std::move(id));
    }
    for (const auto& [key, member] : v.members()) find_patient_references(member, ids);
}

std::vector<mapping::PatientKey> patients_of(const store::Store& store, const json::Value& resource) {
    std::vector<mapping::PatientKey> keys;
    find_patients(resource, keys);
    std::vector<std::string> ids;
    find_patient_references(resource, ids);
    for (const auto& id : ids) {
        auto patient = store.read("Patient", id);
        if (!patient || patient->deleted) continue;
        auto parsed = json::parse(patient->json, {512});
        const json::Value* identifiers = parsed.value ? parsed.value->find("identifier") : nullptr;
        if (identifiers) find_patients(*identifiers, keys);
    }
    return keys;
}

}  // namespace

StoredInputs inputs_of(const store::Store& store, const store::InboxEntry& entry) {
    StoredInputs out;
    mapping::Input base;
    base.sender = entry.sender;
    base.message_id = std::to_string(entry.message_id);
    base.now = parse_instant(entry.received_at);
    auto body = parse_body(entry);
    if (!body) {
        out.error = "the stored request cannot be parsed again";
        return out;
    }
    const json::Value& request = *out.owned.emplace_back(std::make_unique<json::Value>(std::move(*body)));
    if (entry.kind == "message") {
        base.kind = mapping::Input::Kind::message;
        base.resource = &request;
        out.inputs.push_back(base);
        find_patients(request, out.patients);
        return out;
    }
    const bool bundle = entry.kind == "transaction" || entry.kind == "batch";
    for (auto& version : store.written_by(entry.message_id)) {
        if (version.deleted) continue;
        auto parsed = json::parse(version.json, {512});
        if (!parsed.value) continue;
        const json::Value& resource = *out.owned.emplace_back(std::make_unique<json::Value>(std::move(*parsed.value)));
        mapping::Input in = base;
        in.kind = mapping::Input::Kind::resource;
        in.resource = &resource;
        in.bundle = bundle ? &request : nullptr;
        out.inputs.push_back(in);
        for (auto& key : patients_of(store, resource)) {
            out.links.push_back(StoredInputs::Link{version.type, version.id, key});
            add_key(std::move(key), out.patients);
        }
    }
    return out;
}

}  // namespace helsebro::processing
