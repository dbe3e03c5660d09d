#include "adapter/ingress/resource_ops.hpp"

#include <charconv>

#include "adapter/ingress/route.hpp"
#include "fhir/resource_types.hpp"

namespace helsebro::ingress {

namespace {

std::size_t index_of(const Value& object, std::string_view key) {
    const auto& m = object.members();
    for (std::size_t i = 0; i < m.size(); ++i)
        if (m[i].first == key) return i;
    return static_cast<std::size_t>(-1);
}

// Sets id and meta.versionId/lastUpdated where FHIR's element order puts them.
void stamp(Value& r, std::string_view id, std::int64_t version, std::string_view last_updated) {
    r.erase("id");
    r.set("id", Value::string(std::string(id)), index_of(r, "resourceType") + 1);
    Value* meta = r.find("meta");
    if (!meta || !meta->is_object()) {
        r.erase("meta");
        meta = &r.set("meta", Value::object(), index_of(r, "id") + 1);
    }
    meta->erase("versionId");
    meta->erase("lastUpdated");
    std::size_t pos = 0;
    const auto& m = meta->members();
    while (pos < m.size() && (m[pos].first == "id" || m[pos].first == "extension")) ++pos;
    meta->set("versionId", Value::string(std::to_string(version)), pos);
    meta->set("lastUpdated", Value::string(std::string(last_updated)), pos + 1);
}

std::vector<store::Identifier> identifiers_of(const Value& r) {
    std::vector<store::Identifier> out;
    auto add = [&](const Value& ident) {
        auto value = ident.string_at("value");
        if (!value) return;
        auto system = ident.string_at("system");
        out.push_back({std::string(system.value_or("")), std::string(*value)});
    };
    if (const Value* ident = r.find("identifier")) {
        if (ident->is_array())
            for (const auto& i : ident->items()) add(i);
        else if (ident->is_object())
            add(*ident);
    }
    return out;
}

EntryResult stored(int status, store::ResourceVersion v) {
    EntryResult e;
    e.status = status;
    e.type = std::move(v.type);
    e.id = std::move(v.id);
    e.version = v.version;
    e.last_updated = std::move(v.last_updated);
    e.body = std::move(v.json);
    return e;
}

EntryResult put(store::Tx& tx, std::int64_t message_id, Value& resource, std::string_view type,
                std::string_view id, std::int64_t version, int status) {
    stamp(resource, id, version, tx.now());
    store::ResourceVersion v{std::string(type), std::string(id), version, tx.now(), false,
                             fhir::json::write(resource)};
    tx.put_version(v, message_id, identifiers_of(resource));
    return stored(status, std::move(v));
}

std::optional<std::int64_t> version_of_etag(std::string_view etag) {
    if (etag.starts_with("W/")) etag.remove_prefix(2);
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(etag.data(), etag.data() + etag.size(), v);
    if (ec != std::errc() || p != etag.data() + etag.size()) return std::nullopt;
    return v;
}

std::optional<EntryResult> walk_references(Value& v, const ReferenceResolver& resolve) {
    if (v.is_object()) {
        for (auto& [key, child] : v.members()) {
            if (key == "reference" && child.is_string()) {
                std::optional<EntryResult> error;
                auto replacement = resolve(child.text(), error);
                if (error) return error;
                if (replacement) child = Value::string(std::move(*replacement));
            } else if (child.is_object() || child.is_array()) {
                if (auto e = walk_references(child, resolve)) return e;
            }
        }
    } else if (v.is_array()) {
        for (auto& item : v.items())
            if (auto e = walk_references(item, resolve)) return e;
    }
    return std::nullopt;
}

}  // namespace

std::vector<fhir::Issue> check_resource(const Value& resource, std::string_view path,
                                        std::string_view expected_type) {
    auto issue = [&](std::string code, std::string text, std::string where) {
        fhir::Issue i;
        i.code = std::move(code);
        i.diagnostics = std::move(text);
        i.expression.push_back(std::move(where));
        return std::vector<fhir::Issue>{i};
    };
    std::string at(path);
    if (!resource.is_object())
        return issue("structure", "A FHIR resource is a JSON object.", at);
    auto type = resource.string_at("resourceType");
    if (!type) {
        return issue("required",
                     resource.find("resourceType") ? "resourceType must be a string."
                                                   : "The object has no resourceType, so it is no FHIR resource.",
                     at.empty() ? "resourceType" : at + ".resourceType");
    }
    std::string name(*type);
    std::string element = at.empty() ? name : at;
    if (!fhir::is_resource_type(name))
        return issue("invalid", "'" + name + "' is not a FHIR R4 resource type.", element + ".resourceType");
    if (!expected_type.empty() && name != expected_type)
        return issue("invalid",
                     "The resource is a " + name + " but the request is for " + std::string(expected_type) + ".",
                     element + ".resourceType");
    if (const Value* id = resource.find("id")) {
        if (!id->is_string() || !fhir::is_valid_id(id->text()))
            return issue("value", "id must be a FHIR id: 1 to 64 of A-Z a-z 0-9 - and . only.", element + ".id");
    }
    if (const Value* meta = resource.find("meta"); meta && !meta->is_object())
        return issue("structure", "meta must be an object.", element + ".meta");
    return {};
}

EntryResult failure(int status, std::string code, std::string diagnostics, std::string expression) {
    EntryResult e;
    e.status = status;
    fhir::Issue i;
    i.code = std::move(code);
    i.diagnostics = std::move(diagnostics);
    if (!expression.empty()) i.expression.push_back(std::move(expression));
    e.issues.push_back(std::move(i));
    return e;
}

EntryResult create(store::Tx& tx, std::int64_t message_id, Value resource, std::string_view type,
                   std::string_view id) {
    return put(tx, message_id, resource, type, id, 1, 201);
}

std::optional<EntryResult> find_existing(store::Tx& tx, std::string_view type, std::string_view query,
                                         std::string_view path) {
    auto params = parse_query(query);
    if (params.size() != 1)
        return failure(400, "not-supported",
                       "A condition must be exactly one search parameter: identifier=system|value or _id=id.",
                       std::string(path));
    const auto& [name, value] = params.front();
    std::vector<std::string> ids;
    if (name == "_id") {
        if (auto current = tx.current(type, value); current && !current->deleted) ids.push_back(value);
    } else if (name == "identifier") {
        auto bar = value.find('|');
        if (bar == std::string::npos || bar + 1 == value.size())
            return failure(400, "not-supported", "Give the identifier as system|value.", std::string(path));
        ids = tx.ids_by_identifier(type, std::string_view(value).substr(0, bar),
                                   std::string_view(value).substr(bar + 1));
    } else {
        return failure(400, "not-supported",
                       "Search parameter '" + name + "' is not supported in conditions; use identifier or _id.",
                       std::string(path));
    }
    if (ids.empty()) return std::nullopt;
    if (ids.size() > 1)
        return failure(412, "multiple-matches",
                       "The condition matches " + std::to_string(ids.size()) + " resources, not one.",
                       std::string(path));
    auto current = tx.current(type, ids.front());
    if (!current) return failure(500, "exception", "An indexed resource is missing.", std::string(path));
    return stored(200, std::move(*current));
}

EntryResult update(store::Tx& tx, std::int64_t message_id, Value resource, std::string_view type,
                   std::string_view id, std::string_view if_match) {
    auto current = tx.current(type, id);
    if (!if_match.empty()) {
        auto wanted = version_of_etag(if_match);
        if (!wanted) return failure(400, "value", "If-Match must be an ETag such as W/\"3\".");
        if (!current || current->version != *wanted)
            return failure(412, "conflict",
                           "The resource is at version " + (current ? std::to_string(current->version) : "none") +
                               ", not the one given in If-Match.");
    }
    if (!current) return put(tx, message_id, resource, type, id, 1, 201);

    Value unchanged_probe = resource;
    stamp(unchanged_probe, id, current->version, current->last_updated);
    if (!current->deleted && fhir::json::write(unchanged_probe) == current->json) return stored(200, std::move(*current));
    return put(tx, message_id, resource, type, id, current->version + 1, 200);
}

EntryResult read(store::Tx& tx, std::string_view type, std::string_view id, std::int64_t version) {
    auto current = tx.current(type, id);
    if (!current || current->deleted)
        return failure(404, "not-found", std::string(type) + "/" + std::string(id) + " is not known here.");
    if (version != 0 && version != current->version)
        return failure(400, "not-supported", "Only the current version can be read inside a Bundle.");
    return stored(200, std::move(*current));
}

std::optional<EntryResult> rewrite_references(Value& resource, const ReferenceResolver& resolve) {
    return walk_references(resource, resolve);
}

}  // namespace helsebro::ingress
