#include "adapter/ingress/resource_ops.hpp"

#include <charconv>

#include "adapter/ingress/route.hpp"
#include "adapter/store/store.hpp"
#include "fhir/order.hpp"
#include "fhir/resource_types.hpp"

namespace helsebro::ingress {

namespace {

std::size_t index_of(const Value& object, std::string_view key) {
    const auto& m = object.members();
    for (std::size_t i = 0; i < m.size(); ++i)
        if (m[i].first == key) return i;
    return static_cast<std::size_t>(-1);
}

// Stand-ins for versionId and lastUpdated while serializing: random per process, so no input
// can contain them. `text` is how each appears in the output, quotes included.
struct Holes {
    Value version, updated;
    std::string version_text, updated_text;
};

const Holes& holes() {
    static const Holes h = [] {
        std::string nonce = store::new_id();
        Holes x{Value::string("\x01version " + nonce + "\x01"), Value::string("\x01updated " + nonce + "\x01"), {}, {}};
        x.version_text = fhir::json::write(x.version);
        x.updated_text = fhir::json::write(x.updated);
        return x;
    }();
    return h;
}

// Moves the member `key` (when present) to `position`.
void move_member(Value& object, std::string_view key, std::size_t position) {
    auto& m = object.members();
    auto at = index_of(object, key);
    if (at == static_cast<std::size_t>(-1) || at == position || position >= m.size()) return;
    auto member = std::move(m[at]);
    m.erase(m.begin() + static_cast<std::ptrdiff_t>(at));
    m.insert(m.begin() + static_cast<std::ptrdiff_t>(std::min(position, m.size())), std::move(member));
}

// Sets id and meta.versionId/lastUpdated, in FHIR's element order: resourceType, id, meta first;
// in meta: id, extension, versionId, lastUpdated, source, profile, security, tag.
void stamp(Value& r, std::string_view id, Value version, Value last_updated) {
    move_member(r, "resourceType", 0);
    r.set("id", Value::string(std::string(id)));
    move_member(r, "id", 1);
    if (const Value* m = r.find("meta"); !m || !m->is_object()) r.set("meta", Value::object());
    move_member(r, "meta", 2);
    Value* meta = r.find("meta");  // found again: moving members moved it
    meta->set("versionId", std::move(version));
    meta->set("lastUpdated", std::move(last_updated));
    std::size_t pos = 0;
    for (const char* key : {"id", "extension", "versionId", "lastUpdated", "source", "profile", "security", "tag"})
        if (meta->find(key)) move_member(*meta, key, pos++);
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

EntryResult put(store::Tx& tx, std::int64_t message_id, const Prepared& resource, std::int64_t version, int status) {
    store::ResourceVersion v{resource.type, resource.id, version, tx.now(), false, resource.json(version, tx.now())};
    tx.put_version(v, message_id, resource.identifiers, &resource.index);
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

// Elements that hold a uri/url by name; until the type model knows every element's type, these
// and Reference.reference are where a transaction's fullUrls are rewritten.
bool is_uri_element(std::string_view key) {
    return key == "url" || key.ends_with("Uri") || key.ends_with("Url") || key.ends_with("Canonical");
}

struct Walker {
    const ReferenceResolver& resolve;
    std::optional<EntryResult> error;

    bool visit(Reference site, Value& target) {
        auto replacement = resolve(site, error);
        if (error) return false;
        if (replacement) target = Value::string(std::move(*replacement));
        return true;
    }

    // Narrative links (href="urn:uuid:...", src='urn:uuid:...') point at entries too.
    bool visit_div(Value& div, const std::string& path) {
        std::string text = div.text();
        bool changed = false;
        for (std::size_t at = text.find("urn:uuid:"); at != std::string::npos; at = text.find("urn:uuid:", at + 1)) {
            char quote = at > 0 ? text[at - 1] : 0;
            if (quote != '"' && quote != '\'') continue;
            auto end = text.find(quote, at);
            if (end == std::string::npos) break;
            std::string ref = text.substr(at, end - at);
            auto replacement = resolve(Reference{ref, path, false}, error);
            if (error) return false;
            if (replacement) {
                text.replace(at, ref.size(), *replacement);
                changed = true;
            }
        }
        if (changed) div = Value::string(std::move(text));
        return true;
    }

    bool visit_member(const std::string& key, Value& child, std::string& path) {
        if (child.is_string() && (key == "reference" || is_uri_element(key)))
            return visit(Reference{child.text(), path, key == "reference"}, child);
        if (child.is_string() && key == "div") return visit_div(child, path);
        if (child.is_array() && is_uri_element(key)) {  // e.g. CarePlan.instantiatesCanonical
            auto base = path.size();
            for (std::size_t i = 0; i < child.items().size(); ++i) {
                if (!child.items()[i].is_string()) continue;
                path.append("[").append(std::to_string(i)).append("]");
                bool ok = visit(Reference{child.items()[i].text(), path, false}, child.items()[i]);
                path.resize(base);
                if (!ok) return false;
            }
            return true;
        }
        if (child.is_object() || child.is_array()) return walk(child, path);
        return true;
    }

    bool walk(Value& v, std::string& path) {
        auto base = path.size();
        if (v.is_object()) {
            // A Bundle inside a resource resolves its entries' references within itself.
            bool nested_bundle = v.string_at("resourceType") == "Bundle";
            for (auto& [key, child] : v.members()) {
                if (nested_bundle && key == "entry") continue;
                path.append(".").append(key);
                bool ok = visit_member(key, child, path);
                path.resize(base);
                if (!ok) return false;
            }
        } else if (v.is_array()) {
            for (std::size_t i = 0; i < v.items().size(); ++i) {
                path.append("[").append(std::to_string(i)).append("]");
                bool ok = walk(v.items()[i], path);
                path.resize(base);
                if (!ok) return false;
            }
        }
        return true;
    }
};

}  // namespace

std::vector<fhir::Issue> check_resource(const Value& resource, std::string_view path,
                                        std::string_view expected_type, bool check_id) {
    auto issue = [](std::string code, std::string text, std::string where) {
        return std::vector<fhir::Issue>{fhir::error(std::move(code), std::move(text), std::move(where))};
    };
    // Where the resource is named in messages: its path, else the type the URL expects.
    std::string at(path.empty() ? expected_type : path);
    if (!resource.is_object())
        return issue("structure", "A FHIR resource is a JSON object.", at);
    const Value* type_value = resource.find("resourceType");
    if (!type_value || !type_value->is_string()) {
        return issue("required",
                     type_value ? "resourceType must be a string."
                                : "The object has no resourceType, so it is no FHIR resource.",
                     at.empty() ? "resourceType" : at + ".resourceType");
    }
    const std::string& name = type_value->text();
    std::string element = path.empty() ? name : std::string(path);
    if (!fhir::is_resource_type(name))
        return issue("invalid", "'" + name + "' is not a FHIR R4 resource type.", element + ".resourceType");
    if (!expected_type.empty() && name != expected_type)
        return issue("invalid",
                     "The resource is a " + name + " but the request is for " + std::string(expected_type) + ".",
                     element + ".resourceType");
    if (const Value* id = resource.find("id"); id && check_id) {
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
    e.issues.push_back(fhir::error(std::move(code), std::move(diagnostics), std::move(expression)));
    return e;
}

std::string Prepared::json(std::int64_t version, std::string_view last_updated) const {
    std::string v = std::to_string(version);
    std::string out;
    out.reserve(head.size() + middle.size() + tail.size() + v.size() + last_updated.size() + 4);
    out.append(head).append("\"").append(v).append("\"").append(middle);
    out.append("\"").append(last_updated).append("\"").append(tail);
    return out;
}

Prepared prepare(Value resource, std::string_view type, std::string_view id) {
    const Holes& h = holes();
    Prepared p;
    p.type = std::string(type);
    p.id = std::string(id);
    p.identifiers = identifiers_of(resource);
    p.index = store::make_search_index(resource, type);
    fhir::order_by_definition(resource);  // stored and served in FHIR's element order
    stamp(resource, id, h.version, h.updated);
    std::string text = fhir::json::write(resource);
    auto v = text.find(h.version_text);
    auto u = text.find(h.updated_text, v);
    p.head = text.substr(0, v);
    p.middle = text.substr(v + h.version_text.size(), u - v - h.version_text.size());
    p.tail = text.substr(u + h.updated_text.size());
    return p;
}

EntryResult create(store::Tx& tx, std::int64_t message_id, const Prepared& resource) {
    return put(tx, message_id, resource, 1, 201);
}

std::optional<EntryResult> find_existing(store::Tx& tx, std::string_view type, std::string_view query,
                                         std::string_view path) {
    // Clients often send "Patient?identifier=..." where FHIR asks for the query alone.
    if (auto q = query.find('?'); q != std::string_view::npos && query.substr(0, q) == type) query.remove_prefix(q + 1);
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

EntryResult update(store::Tx& tx, std::int64_t message_id, const Prepared& resource, std::string_view if_match) {
    auto current = tx.current(resource.type, resource.id);
    if (!if_match.empty()) {
        auto wanted = version_of_etag(if_match);
        if (!wanted) return failure(400, "value", "If-Match must be an ETag such as W/\"3\".");
        if (!current || current->version != *wanted)
            return failure(412, "conflict",
                           "The resource is at version " + (current ? std::to_string(current->version) : "none") +
                               ", not the one given in If-Match.");
    }
    if (!current) return put(tx, message_id, resource, 1, 201);
    if (!current->deleted && resource.json(current->version, current->last_updated) == current->json)
        return stored(200, std::move(*current));
    return put(tx, message_id, resource, current->version + 1, 200);
}

EntryResult read(store::Tx& tx, std::string_view type, std::string_view id, std::int64_t version) {
    auto current = tx.current(type, id);
    if (!current || current->deleted)
        return failure(404, "not-found", std::string(type) + "/" + std::string(id) + " is not known here.");
    if (version != 0 && version != current->version)
        return failure(400, "not-supported", "Only the current version can be read inside a Bundle.");
    return stored(200, std::move(*current));
}

bool is_placeholder(std::string_view ref) { return ref.starts_with("urn:uuid:") || ref.starts_with("urn:oid:"); }

std::optional<std::pair<std::string, std::string>> conditional_reference(const std::string& ref) {
    auto q = ref.find('?');
    if (q == std::string::npos || ref.find('/') < q || !fhir::is_resource_type(std::string_view(ref).substr(0, q)))
        return std::nullopt;
    return std::make_pair(ref.substr(0, q), ref.substr(q + 1));
}

std::optional<EntryResult> refuse_unresolved_references(Value& resource, std::string path, std::string_view where) {
    return rewrite_references(resource, std::move(path),
                              [&](const Reference& site, std::optional<EntryResult>& err) -> std::optional<std::string> {
                                  if (!site.is_reference) return std::nullopt;
                                  if (is_placeholder(site.value))
                                      err = failure(400, "invalid",
                                                    "A urn:uuid reference resolves only inside a transaction; " +
                                                        std::string(where) + " cannot resolve it.",
                                                    site.path);
                                  else if (conditional_reference(site.value))
                                      err = failure(400, "not-supported",
                                                    "Conditional references are resolved only in transactions.", site.path);
                                  return std::nullopt;
                              });
}

std::optional<EntryResult> rewrite_references(Value& resource, std::string path, const ReferenceResolver& resolve) {
    Walker w{resolve, std::nullopt};
    w.walk(resource, path);
    return std::move(w.error);
}

}  // namespace helsebro::ingress
