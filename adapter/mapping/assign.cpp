#include "adapter/mapping/assign.hpp"

#include <algorithm>

#include "adapter/mapping/paths.hpp"

namespace helsebro::mapping {
namespace {

namespace json = fhir::json;
namespace model = fhir::model;

// The Norwegian identifier systems a reference is best made by, most specific first.
constexpr std::string_view identifier_priority[] = {
    "urn:oid:2.16.578.1.12.4.1.4.1",    // fødselsnummer
    "urn:oid:2.16.578.1.12.4.1.4.2",    // D-nummer
    "urn:oid:2.16.578.1.12.4.1.4.4",    // HPR-nummer
    "urn:oid:2.16.578.1.12.4.1.2",      // HER-id
    "urn:oid:2.16.578.1.12.4.1.4.101",  // organisasjonsnummer
};

bool is_primitive(std::string_view type) {
    const auto* t = model::type(type);
    return t && t->kind == model::Kind::primitive;
}

bool numeric(std::string_view type) {
    return type == "integer" || type == "decimal" || type == "positiveInt" || type == "unsignedInt";
}

json::Value primitive(const fp::Item& item, std::string_view type) {
    auto v = item.system_value();
    if (!v) throw ApplyError{"a " + std::string(item.type_name()) + " cannot be written to a " + std::string(type) + " element"};
    const auto& x = v->value();
    if (const bool* b = std::get_if<bool>(&x)) {
        if (type == "boolean") return json::Value::boolean(*b);
        return json::Value::string(*b ? "true" : "false");
    }
    if (std::holds_alternative<fp::Quantity>(x)) throw ApplyError{"a Quantity cannot be written to a " + std::string(type) + " element"};
    auto text = v->to_text();
    if (!text) throw ApplyError{"the value cannot be written to a " + std::string(type) + " element"};
    if (numeric(type)) {
        if (!json::is_number_text(*text)) throw ApplyError{"a " + std::string(v->type_name()) + " cannot be written to a " + std::string(type) + " element"};
        return json::Value::number(*text);
    }
    if (type == "boolean") throw ApplyError{"a " + std::string(v->type_name()) + " cannot be written to a boolean element"};
    return json::Value::string(*text);
}

json::Value quantity(const fp::Quantity& q) {
    static constexpr std::pair<std::string_view, std::string_view> calendar[] = {
        {"year", "a"}, {"years", "a"}, {"month", "mo"}, {"months", "mo"}, {"week", "wk"}, {"weeks", "wk"},
        {"day", "d"}, {"days", "d"}, {"hour", "h"}, {"hours", "h"}, {"minute", "min"}, {"minutes", "min"},
        {"second", "s"}, {"seconds", "s"}, {"millisecond", "ms"}, {"milliseconds", "ms"}};
    std::string code = q.unit();
    for (const auto& [word, ucum] : calendar)
        if (code == word) code = std::string(ucum);
    json::Value out = json::Value::object();
    out.set("value", json::Value::number(q.value().to_string()));
    out.set("unit", json::Value::string(q.unit()));
    out.set("system", json::Value::string("http://unitsofmeasure.org"));
    out.set("code", json::Value::string(code));
    return out;
}

json::Value complex(const fp::Item& item, std::string_view type) {
    if (const auto* q = std::get_if<fp::Quantity>(&item.value())) {
        if (type == "Quantity" || type == "Duration" || type == "Age" || type == "SimpleQuantity" || type == "Distance")
            return quantity(*q);
    }
    const fp::Node* n = item.node();
    if (!n || !n->value) throw ApplyError{"a " + std::string(item.type_name()) + " cannot be written to a " + std::string(type) + " element"};
    const auto* def = model::type(n->type);
    const bool is_resource = def && def->kind == model::Kind::resource;
    if (type == "Reference" && is_resource) return reference_to(*n->value);
    if (type == "Reference" && n->type == "Identifier") {
        json::Value ref = json::Value::object();
        ref.set("identifier", *n->value);
        return ref;
    }
    if (type == "CodeableConcept" && n->type == "Coding") {
        json::Value cc = json::Value::object();
        json::Value codings = json::Value::array();
        codings.push_back(*n->value);
        cc.set("coding", std::move(codings));
        return cc;
    }
    if (n->type == type || (def && def->base == type) || (type == "Resource" && is_resource)) return *n->value;
    throw ApplyError{"a " + std::string(n->type) + " cannot be written to a " + std::string(type) + " element"};
}

json::Value convert(const fp::Item& item, std::string_view type) {
    return is_primitive(type) ? primitive(item, type) : complex(item, type);
}

// Sets `values` at `name` of `object`: an array for a repeating element, else a single value.
void put(json::Value& object, std::string_view name, std::vector<json::Value> values, bool repeats) {
    if (values.empty()) {
        object.erase(name);
        return;
    }
    if (!repeats) {
        if (values.size() > 1)
            throw ApplyError{"'" + std::string(name) + "' takes one value but the rule gives " + std::to_string(values.size())};
        object.set(name, std::move(values.front()));
        return;
    }
    json::Value array = json::Value::array();
    for (auto& v : values) array.push_back(std::move(v));
    object.set(name, std::move(array));
}

// The identify_by key of one element, as text ("" when it has none).
std::string element_key(const fp::Expression& identify_by, const json::Value& element, const ResolvedPath& r,
                        const fp::Environment& env) {
    const fp::Item item(fp::Node{&element, nullptr, r.type == "BackboneElement" || r.type == "Element" ? "BackboneElement" : r.type,
                                 r.parent});
    auto result = identify_by.evaluate(item, env);
    if (!result.items) throw ApplyError{"evaluating identify_by '" + identify_by.text() + "' failed: " + result.error.message};
    std::string key;
    for (const auto& k : *result.items) key += json::write(k.to_json()) + "\n";
    return key;
}

}  // namespace

json::Value build_object(const Value& value, const json::Value& input, const fp::Environment& env) {
    json::Value object = json::Value::object();
    for (const auto& [r, part] : value.parts) {  // Part: path, value
        json::Value* at = &object;
        for (std::size_t i = 0; i + 1 < r.names.size(); ++i) {
            json::Value* next = at->find(r.names[i]);
            at = next ? next : &at->set(r.names[i], json::Value::object());
        }
        put(*at, r.names.back(), build(part, r.type, r.parent, input, env), r.repeats);
    }
    return object;
}

bool same(const json::Value& a, const json::Value& b) {
    if (a.kind() != b.kind()) return false;
    switch (a.kind()) {
        case json::Value::Kind::object: {
            if (a.members().size() != b.members().size()) return false;
            for (const auto& [key, value] : a.members()) {
                const json::Value* other = b.find(key);
                if (!other || !same(value, *other)) return false;
            }
            return true;
        }
        case json::Value::Kind::array:
            if (a.items().size() != b.items().size()) return false;
            for (std::size_t i = 0; i < a.items().size(); ++i)
                if (!same(a.items()[i], b.items()[i])) return false;
            return true;
        case json::Value::Kind::boolean: return a.as_bool() == b.as_bool();
        default: return a.text() == b.text();
    }
}

json::Value reference_to(const json::Value& resource) {
    json::Value ref = json::Value::object();
    const auto type = resource.string_at("resourceType").value_or("");
    ref.set("type", json::Value::string(std::string(type)));
    if (const json::Value* ids = resource.find("identifier"); ids && ids->is_array()) {
        for (auto system : identifier_priority) {
            for (const auto& id : ids->items()) {
                if (id.string_at("system") != system || !id.string_at("value")) continue;
                json::Value identifier = json::Value::object();
                identifier.set("system", json::Value::string(std::string(system)));
                identifier.set("value", json::Value::string(std::string(*id.string_at("value"))));
                ref.set("identifier", std::move(identifier));
                return ref;
            }
        }
    }
    if (auto id = resource.string_at("id")) {
        ref.set("reference", json::Value::string(std::string(type) + "/" + std::string(*id)));
        return ref;
    }
    throw ApplyError{"a " + std::string(type) + " without a Norwegian identifier or id cannot be referenced"};
}

std::vector<json::Value> build(const Value& value, std::string_view type, std::string_view parent,
                               const json::Value& input, const fp::Environment& env) {
    std::vector<json::Value> out;
    switch (value.kind) {
        case Value::Kind::literal: out.push_back(value.literal); break;
        case Value::Kind::list:
            for (const auto& item : value.items) {
                auto built = build(item, type, parent, input, env);
                out.insert(out.end(), std::make_move_iterator(built.begin()), std::make_move_iterator(built.end()));
            }
            break;
        case Value::Kind::object: {
            if (!value.for_each) {
                if (auto object = build_object(value, input, env); !object.members().empty()) out.push_back(std::move(object));
                break;
            }
            auto items = value.for_each->evaluate(input, env);
            if (!items.items) throw ApplyError{"evaluating for_each '" + value.for_each->text() + "' failed: " + items.error.message};
            for (const auto& item : *items.items) {
                fp::Environment each = env;
                each.variables.emplace_back("item", fp::Collection{item});
                if (auto object = build_object(value, input, each); !object.members().empty()) out.push_back(std::move(object));
            }
            break;
        }
        case Value::Kind::expression: {
            auto result = value.expression->evaluate(input, env);
            if (!result.items) throw ApplyError{"evaluating '" + value.expression->text() + "' failed: " + result.error.message};
            for (const auto& item : *result.items) out.push_back(convert(item, type));
            break;
        }
    }
    return out;
}

void assign(json::Value& record, const Assignment& a, Mode mode,
            const json::Value& input, const fp::Environment& env) {
    const ResolvedPath& r = a.path;
    std::vector<json::Value> values = build(a.value, r.type, r.parent, input, env);
    json::Value* at = &record;
    for (std::size_t i = 0; i + 1 < r.names.size(); ++i) {
        json::Value* next = at->find(r.names[i]);
        if (!next && values.empty()) return;
        at = next ? next : &at->set(r.names[i], json::Value::object());
    }
    const std::string& name = r.names.back();
    if (mode == Mode::set) {
        put(*at, name, std::move(values), r.repeats);
        return;
    }
    json::Value* existing = at->find(name);
    if (!existing) existing = &at->set(name, json::Value::array());
    const auto* identify_by = a.value.kind == Value::Kind::object && a.value.identify_by ? &*a.value.identify_by : nullptr;
    for (auto& v : values) {
        auto& items = existing->items();
        if (std::any_of(items.begin(), items.end(), [&](const json::Value& e) { return same(e, v); })) continue;
        if (identify_by) {
            const std::string key = element_key(*identify_by, v, r, env);
            auto same_key = std::find_if(items.begin(), items.end(),
                                         [&](const json::Value& e) { return element_key(*identify_by, e, r, env) == key; });
            if (!key.empty() && same_key != items.end()) {
                *same_key = std::move(v);
                continue;
            }
        }
        existing->push_back(std::move(v));
    }
    if (existing->items().empty()) at->erase(name);
}

}  // namespace helsebro::mapping
