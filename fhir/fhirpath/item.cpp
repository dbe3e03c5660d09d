// Items: navigating resource nodes through the type model, and their system values.
#include <algorithm>
#include <cctype>

#include "fhir/fhirpath/eval.hpp"
#include "fhir/model/model.hpp"

namespace helsebro::fhir::fhirpath {
namespace {

namespace model = fhir::model;

std::string_view strip_system(std::string_view type) {
    return type.starts_with("System.") ? type.substr(7) : type;
}

bool is_resource_type(std::string_view type) {
    const auto* t = model::type(type);
    return t && t->kind == model::Kind::resource;
}

// The node for one JSON value of a property resolved by the model.
Node make_node(const json::Value* value, const json::Value* extras, const model::Resolved& r) {
    Node n{value, extras, r.type, r.type};
    if (r.type == "BackboneElement" || r.type == "Element") {
        n.model_path = r.element->path;
    } else if (r.type.starts_with("System.")) {
        // Elements the model types as bare system values still carry their FHIR type in FHIRPath.
        const std::string_view name = r.element->name;
        const bool resource_id = name == "id" && is_resource_type(r.element->path.substr(0, r.element->path.find('.')))
                                 && r.element->path.find('.') == r.element->path.rfind('.');
        n.type = resource_id ? "id" : name == "url" ? "uri" : "string";
        n.model_path = n.type;
    } else if (value && value->is_object()) {
        // The resourceType test first: it rules out nearly every object without a type lookup.
        if (auto rt = value->string_at("resourceType");
            rt && (r.type == "Resource" || r.type == "DomainResource" || is_resource_type(r.type)) && model::type(*rt))
            n.type = n.model_path = *rt;
    }
    return n;
}

// Appends one property's values (an array or a single value) with their `_name` extras.
void append_values(const json::Value* value, const json::Value* extras, const model::Resolved& r, Collection& out) {
    if ((value && value->is_array()) || (extras && extras->is_array())) {
        const std::size_t n = std::max(value && value->is_array() ? value->items().size() : 0,
                                       extras && extras->is_array() ? extras->items().size() : 0);
        for (std::size_t i = 0; i < n; ++i) {
            const json::Value* v = value && value->is_array() && i < value->items().size() ? &value->items()[i] : nullptr;
            const json::Value* x = extras && extras->is_array() && i < extras->items().size() ? &extras->items()[i] : nullptr;
            if (v && v->is_null()) v = nullptr;
            if (x && x->is_null()) x = nullptr;
            if (v || x) out.emplace_back(make_node(v, x, r));
        }
        return;
    }
    if (value && value->is_null()) value = nullptr;
    if (value || extras) out.emplace_back(make_node(value, extras, r));
}

// Does JSON property `key` hold FHIRPath name `name` (exactly, or as a choice: valueQuantity)?
std::optional<model::Resolved> matches(const Node& node, std::string_view key, std::string_view name) {
    if (key == name) {
        if (auto r = model::resolve_property(node.model_path, key)) return r;
        return std::nullopt;
    }
    if (key.size() > name.size() && key.starts_with(name) && std::isupper(static_cast<unsigned char>(key[name.size()]))) {
        auto r = model::resolve_property(node.model_path, key);
        if (r && r->element->is_choice() && r->element->choice_base() == name) return r;
    }
    return std::nullopt;
}

Node untyped(const json::Value& v) {
    switch (v.kind()) {
        case json::Value::Kind::string: return Node{&v, nullptr, "string", "string"};
        case json::Value::Kind::boolean: return Node{&v, nullptr, "boolean", "boolean"};
        case json::Value::Kind::number: return Node{&v, nullptr, "decimal", "decimal"};
        default: return Node{&v, nullptr, "", ""};
    }
}

}  // namespace

namespace detail {

bool is_primitive_node(const Node& node) {
    // Every FHIR primitive's name starts in lower case, every other type's in upper case: navigation
    // through complex nodes needs no type lookup.
    if (node.type.empty() || !std::islower(static_cast<unsigned char>(node.type.front()))) return false;
    const auto* t = model::type(node.type);
    return t && t->kind == model::Kind::primitive;
}

std::string_view primitive_value_type(std::string_view fhir_type) {
    const auto* t = model::type(fhir_type);
    if (!t || t->kind != model::Kind::primitive) return {};
    // R4's definitions type positiveInt and unsignedInt values as System.String; they are integers.
    if (derives_from(fhir_type, "integer")) return "System.Integer";
    return t->value_type;
}

void children_named(const Node& node, std::string_view name, Collection& out) {
    if (is_primitive_node(node)) {
        // A primitive's id and extensions live in its `_name` sibling.
        if (!node.extras || !node.extras->is_object()) return;
        Node holder{node.extras, nullptr, "Element", "Element"};
        children_named(holder, name, out);
        return;
    }
    if (!node.value || !node.value->is_object()) return;
    if (node.model_path.empty()) {
        // A value of no FHIR type (type()'s ClassInfo): plain JSON members.
        if (const json::Value* v = node.value->find(name)) out.emplace_back(untyped(*v));
        return;
    }
    const auto& members = node.value->members();
    for (const auto& [key, value] : members) {
        if (key.starts_with('_')) {
            // Only extras without a value sibling; the others are picked up with their value.
            std::string_view bare = std::string_view(key).substr(1);
            if (node.value->find(bare)) continue;
            if (auto r = matches(node, bare, name)) append_values(nullptr, &value, *r, out);
            continue;
        }
        if (auto r = matches(node, key, name)) {
            const json::Value* extras = node.value->find("_" + key);
            append_values(&value, extras, *r, out);
        }
    }
}

void all_children(const Node& node, Collection& out) {
    if (is_primitive_node(node)) {
        if (!node.extras || !node.extras->is_object()) return;
        all_children(Node{node.extras, nullptr, "Element", "Element"}, out);
        return;
    }
    if (!node.value || !node.value->is_object()) return;
    for (const auto& [key, value] : node.value->members()) {
        std::string_view k = key;
        const bool extra = k.starts_with('_');
        if (extra) k.remove_prefix(1);
        if (k == "resourceType" || (extra && node.value->find(k))) continue;
        auto r = model::resolve_property(node.model_path, k);
        if (!r) continue;
        if (extra) {
            append_values(nullptr, &value, *r, out);
        } else {
            append_values(&value, node.value->find("_" + key), *r, out);
        }
    }
}

std::optional<std::string_view> string_of(const Item& item) {
    if (const auto* s = std::get_if<std::string>(&item.value())) return std::string_view(*s);
    const Node* n = item.node();
    if (!n || !n->value || !n->value->is_string()) return std::nullopt;
    const auto vt = primitive_value_type(n->type);
    if (!vt.empty() && vt != "System.String") return std::nullopt;
    return std::string_view(n->value->text());
}

bool derives_from(std::string_view type, std::string_view base) {
    for (int guard = 0; guard < 16 && !type.empty(); ++guard) {
        if (type == base) return true;
        const auto* t = model::type(type);
        if (!t) return false;
        type = t->base;
    }
    return false;
}

bool is_cast_type(const Item& item, const TypeSpec& spec) {
    const Node* n = item.node();
    if (n && is_primitive_node(*n)) return spec.ns != "System" && n->type == spec.name;
    return is_type(item, spec);
}

bool type_exists(const TypeSpec& spec) {
    static constexpr std::string_view system[] = {"Boolean", "Integer", "Decimal", "String", "Date", "DateTime", "Time", "Quantity"};
    const bool is_system = std::find(std::begin(system), std::end(system), spec.name) != std::end(system);
    if (spec.ns == "System") return true;  // System.Patient is a valid name that nothing is
    return model::type(spec.name) != nullptr || (spec.ns.empty() && is_system);
}

bool is_type(const Item& item, const TypeSpec& spec) {
    if (const Node* n = item.node()) {
        if (spec.ns == "System") return false;
        return derives_from(n->type, spec.name);
    }
    if (spec.ns == "FHIR") return false;
    return item.type_name() == spec.name;
}

}  // namespace detail

Item Item::resource(const json::Value& v, std::string_view type) {
    if (type.empty())
        if (auto rt = v.string_at("resourceType")) type = *rt;
    if (const auto* t = model::type(type)) type = t->name;  // keep views into the model's storage
    return Item(Node{&v, nullptr, type, type});
}

std::string_view Item::type_name() const {
    switch (value_.index()) {
        case 0: return "Boolean";
        case 1: return "Integer";
        case 2: return "Decimal";
        case 3: return "String";
        case 4:
            switch (std::get<Temporal>(value_).kind()) {
                case Temporal::Kind::date: return "Date";
                case Temporal::Kind::datetime: return "DateTime";
                case Temporal::Kind::time: return "Time";
            }
            return "DateTime";
        case 5: return "Quantity";
        default: return strip_system(std::get<Node>(value_).type);
    }
}

std::optional<Item> Item::system_value() const {
    const Node* n = node();
    if (!n) return *this;
    const auto* t = model::type(n->type);
    if (t && t->kind == model::Kind::primitive) {
        if (!n->value) return std::nullopt;
        const std::string_view vt = detail::primitive_value_type(n->type);
        const std::string& text = n->value->text();
        if (vt == "System.Boolean") return n->value->kind() == json::Value::Kind::boolean ? std::optional<Item>(Item(n->value->as_bool())) : std::nullopt;
        if (vt == "System.Integer") {
            if (n->value->kind() != json::Value::Kind::number) return std::nullopt;
            auto d = Decimal::parse(text);
            if (!d) return std::nullopt;
            auto i = d->to_integer();
            return i ? std::optional<Item>(Item(*i)) : std::nullopt;
        }
        if (vt == "System.Decimal") {
            auto d = n->value->kind() == json::Value::Kind::number ? Decimal::parse(text) : std::nullopt;
            return d ? std::optional<Item>(Item(*d)) : std::nullopt;
        }
        if (vt == "System.Date" || vt == "System.DateTime" || vt == "System.Time") {
            const auto kind = vt == "System.Date" ? Temporal::Kind::date
                              : vt == "System.Time" ? Temporal::Kind::time : Temporal::Kind::datetime;
            auto parsed = Temporal::parse(kind, text);
            // instant and dateTime share System.DateTime; a bare date in a dateTime stays a date value.
            return parsed ? std::optional<Item>(Item(*parsed)) : std::nullopt;
        }
        if (!n->value->is_string()) return std::nullopt;
        return Item(std::string(text));
    }
    if (n->type == "string" || n->type == "id" || n->type == "uri") {
        if (n->value && n->value->is_string()) return Item(std::string(n->value->text()));
        return std::nullopt;
    }
    if (n->value && n->value->is_object() && detail::derives_from(n->type, "Quantity")) {
        const json::Value* value = n->value->find("value");
        if (!value) return std::nullopt;
        auto d = Decimal::parse(value->text());
        if (!d) return std::nullopt;
        std::string unit;
        if (auto code = n->value->string_at("code")) unit = *code;
        else if (auto u = n->value->string_at("unit")) unit = *u;
        return Item(Quantity(*d, unit.empty() ? "1" : unit));
    }
    return std::nullopt;
}

std::optional<std::string> Item::to_text() const {
    auto v = system_value();
    if (!v) return std::nullopt;
    return std::visit(
        [](const auto& x) -> std::optional<std::string> {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, bool>) return std::string(x ? "true" : "false");
            else if constexpr (std::is_same_v<T, std::int64_t>) return std::to_string(x);
            else if constexpr (std::is_same_v<T, std::string>) return x;
            else if constexpr (std::is_same_v<T, Node>) return std::nullopt;
            else return x.to_string();
        },
        v->value());
}

json::Value Item::to_json() const {
    if (const Node* n = node()) return n->value ? *n->value : json::Value();
    return std::visit(
        [](const auto& x) -> json::Value {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, bool>) return json::Value::boolean(x);
            else if constexpr (std::is_same_v<T, std::int64_t>) return json::Value::number(std::to_string(x));
            else if constexpr (std::is_same_v<T, Decimal>) return json::Value::number(x.to_string());
            else if constexpr (std::is_same_v<T, std::string>) return json::Value::string(x);
            else if constexpr (std::is_same_v<T, Node>) return json::Value();
            else return json::Value::string(x.to_string());
        },
        value_);
}

std::string_view to_string(Error::Kind kind) {
    switch (kind) {
        case Error::Kind::syntax: return "syntax";
        case Error::Kind::semantic: return "semantic";
        case Error::Kind::execution: return "execution";
    }
    return "execution";
}

}  // namespace helsebro::fhir::fhirpath
