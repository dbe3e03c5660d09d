#include "fhir/validate/walker.hpp"

#include <algorithm>
#include <string>
#include <unordered_set>

#include "fhir/validate/bundle.hpp"
#include "fhir/validate/invariants.hpp"
#include "fhir/validate/references.hpp"

namespace helsebro::fhir::validation {

namespace {

using json::Value;
using model::Element;

// Objects nested deeper than this are not walked (json::parse stops at 64 levels by default; a tree
// built in code may be deeper). Bounds the recursion.
constexpr std::size_t max_object_depth = 512;

std::string quoted(std::string_view name) { return "'" + std::string(name) + "'"; }

std::string_view kind_name(Value::Kind k) {
    switch (k) {
        case Value::Kind::null: return "null";
        case Value::Kind::boolean: return "a boolean";
        case Value::Kind::number: return "a number";
        case Value::Kind::string: return "a string";
        case Value::Kind::array: return "an array";
        case Value::Kind::object: return "an object";
    }
    return "a value";
}

std::string_view json_kind_name(JsonKind k) {
    switch (k) {
        case JsonKind::boolean: return "a JSON boolean (true or false)";
        case JsonKind::number: return "a JSON number";
        case JsonKind::string: return "a JSON string";
    }
    return "a JSON string";
}

bool kind_matches(JsonKind expected, Value::Kind actual) {
    switch (expected) {
        case JsonKind::boolean: return actual == Value::Kind::boolean;
        case JsonKind::number: return actual == Value::Kind::number;
        case JsonKind::string: return actual == Value::Kind::string;
    }
    return false;
}

// "Quantity" matches "Quantity", "DateTime" matches "dateTime": the type with its first letter uppercased.
bool matches_choice_type(std::string_view suffix, std::string_view type) {
    if (suffix.size() != type.size() || suffix.empty()) return false;
    const char first =
        type.front() >= 'a' && type.front() <= 'z' ? static_cast<char>(type.front() - 'a' + 'A') : type.front();
    return suffix.front() == first && suffix.substr(1) == type.substr(1);
}

// The child for a JSON property name (without '_'), with the chosen type for a choice.
bool resolve(std::span<const Element> kids, std::string_view name, std::uint32_t& index, std::string_view& type,
             const model::TypeRef*& ref) {
    for (std::uint32_t i = 0; i < kids.size(); ++i) {
        const Element& e = kids[i];
        if (!e.is_choice()) {
            if (e.name != name) continue;
            index = i;
            type = e.types.size() == 1 ? e.types.front() : std::string_view{};
            ref = e.type_refs.size() == 1 ? &e.type_refs.front() : nullptr;
            return true;
        }
        const std::string_view base = e.choice_base();
        if (name.size() <= base.size() || !name.starts_with(base)) continue;
        const std::string_view suffix = name.substr(base.size());
        for (std::size_t t = 0; t < e.types.size(); ++t) {
            if (!matches_choice_type(suffix, e.types[t])) continue;
            index = i;
            type = e.types[t];
            ref = &e.type_refs[t];
            return true;
        }
    }
    return false;
}

// The children of a complex value: an inline group's own, or its datatype's (the profile's when the
// type is constrained, SimpleQuantity for a Quantity).
std::string_view children_key(const Element& e, std::string_view type, const model::TypeRef* ref) {
    if (!e.content_reference.empty() || type.empty() || type == "BackboneElement" || type == "Element") return e.path;
    if (ref != nullptr && !ref->profile.empty() && model::type(ref->profile) != nullptr) return ref->profile;
    return type;
}

std::string display_name(const Element& e) { return std::string(e.is_choice() ? e.choice_base() : e.name); }

// Characters (code points) of UTF-8 text, which json::parse has validated.
std::size_t utf8_length(std::string_view s) {
    return static_cast<std::size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool holds(const fhirpath::Collection& result) {
    if (result.empty()) return false;
    if (result.size() > 1) return true;
    const auto value = result.front().system_value();
    const bool* b = value ? std::get_if<bool>(&value->value()) : nullptr;
    return b == nullptr || *b;
}

void index_entries(const Value& bundle, std::unordered_map<std::string_view, std::string_view>& full_urls) {
    const Value* entries = bundle.find("entry");
    if (entries == nullptr || !entries->is_array()) return;
    for (const Value& entry : entries->items()) {
        const Value* full_url = entry.is_object() ? entry.find("fullUrl") : nullptr;
        const Value* resource = entry.is_object() ? entry.find("resource") : nullptr;
        const Value* type = resource != nullptr && resource->is_object() ? resource->find("resourceType") : nullptr;
        if (full_url != nullptr && full_url->is_string() && type != nullptr && type->is_string()) {
            full_urls.emplace(full_url->text(), type->text());
        }
    }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Resources

void Walker::root(const Value& v) { resource(v, false); }

void Walker::resource(const Value& v, bool contained) {
    if (!v.is_object()) {
        r_.error("structure", "A resource must be a JSON object, not " + std::string(kind_name(v.kind())) + ".");
        return;
    }
    const Value* rt = v.find("resourceType");
    const model::TypeDef* t = rt != nullptr && rt->is_string() ? model::type(rt->text()) : nullptr;
    if (t == nullptr || t->kind != model::Kind::resource || t->is_abstract) {
        if (rt == nullptr) {
            r_.error("structure", "A resource must have a resourceType.");
        } else {
            r_.error("structure", "The resourceType is not a known FHIR R4 resource type.", "resourceType");
        }
        // Still known by its id, so that references to it do not add errors of their own.
        const Value* id = v.find("id");
        if (contained && id != nullptr && id->is_string()) {
            frame_->contained_list.push_back({id->text(), {}, r_.path(), true});
        }
        return;
    }
    const bool top = r_.depth() == 0;
    if (top) r_.push(t->name);
    Frame f;
    f.parent = frame_;
    f.contained = contained;
    std::unordered_map<std::string_view, std::string_view> full_urls;
    if (t->name == "Bundle") {
        index_entries(v, full_urls);
        f.full_urls = &full_urls;
    }
    f.environment.resource = &v;
    f.environment.root_resource = contained && frame_ != nullptr ? frame_->environment.root_resource : &v;
    frame_ = &f;
    collect(*t->root);

    members(v, t->name, true);
    evaluate(*t->root, fhirpath::Node{&v, nullptr, t->name, t->name});
    if (t->name == "Bundle") check_bundle(v, r_);
    if (contained) {
        finish_contained(v, f);
    } else {
        finish_root(f);
    }
    frame_ = f.parent;
    if (top) r_.pop();
}

// dom-2, dom-4, dom-5, and hands what dom-3 and ref-1 need to the container.
void Walker::finish_contained(const Value& v, Frame& f) {
    Frame& container = *f.parent;
    if (present(v, "contained")) {
        r_.error("invariant", "dom-2: A contained resource SHALL NOT contain nested resources.", "contained");
    }
    if (const Value* meta = v.find("meta"); meta != nullptr && meta->is_object()) {
        PathScope scope(r_, "meta");
        for (std::string_view name : {"versionId", "lastUpdated"}) {
            if (present(*meta, name)) {
                r_.error("invariant",
                         "dom-4: A contained resource SHALL NOT have a meta.versionId or a meta.lastUpdated.", name);
            }
        }
        if (present(*meta, "security")) {
            r_.error("invariant", "dom-5: A contained resource SHALL NOT have a security label.", "security");
        }
    }
    Contained c;
    if (const Value* id = v.find("id"); id != nullptr && id->is_string()) c.id = id->text();
    if (const Value* rt = v.find("resourceType")) c.type = rt->text();
    c.path = r_.path();
    c.refers_to_container = f.refers_to_container;
    container.contained_list.push_back(std::move(c));
    container.hash_references.insert(container.hash_references.end(), f.hash_references.begin(),
                                     f.hash_references.end());
}

// dom-3 for each contained resource, ref-1 for each "#id" reference of this resource and its contained ones.
void Walker::finish_root(Frame& f) {
    if (f.contained_list.empty() && f.local_references.empty()) return;
    const std::unordered_set<std::string_view> referenced(f.hash_references.begin(), f.hash_references.end());
    std::unordered_map<std::string_view, const Contained*> by_id;
    for (const Contained& c : f.contained_list) {
        if (c.id.empty()) continue;  // '#'+id is empty: dom-3 holds, and nothing can refer to it
        by_id.emplace(c.id, &c);
        if (!c.refers_to_container && referenced.count(c.id) == 0) {
            r_.report_at(Severity::error, "invariant",
                         "dom-3: A contained resource SHALL be referred to from elsewhere in the resource or SHALL "
                         "refer to the containing resource.",
                         c.path);
        }
    }
    for (const LocalReference& ref : f.local_references) {
        const auto it = by_id.find(ref.id);
        if (it == by_id.end()) {
            r_.report_at(Severity::error, "invariant",
                         "ref-1: A local reference (#id) SHALL point to a contained resource; there is none with "
                         "this id.",
                         ref.path);
        } else if (const std::string_view type = it->second->type;
                   !type.empty() && !target_allowed(ref.targets, type)) {
            r_.report_at(Severity::error, "value",
                         "The contained resource is of type " + std::string(type) + "; this reference allows " +
                             join_targets(ref.targets) + ".",
                         ref.path);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Objects and their elements

void Walker::members(const Value& object, std::string_view children_key, bool is_resource) {
    if (r_.full()) return;
    if (++depth_ > max_object_depth) {
        r_.error("too-costly", "The content is nested too deeply to validate.");
        --depth_;
        return;
    }
    const auto kids = model::children(children_key);
    const std::size_t slot_base = slots_.size(), order_base = order_.size();
    slots_.resize(slot_base + kids.size());
    for (const auto& [name, value] : object.members()) {
        if (is_resource && name == "resourceType") continue;
        if (name == "fhir_comments") {
            r_.error("structure", "fhir_comments is not allowed in FHIR R4 JSON.", name);
            continue;
        }
        const bool is_ext = name.size() > 1 && name[0] == '_';
        const std::string_view prop = is_ext ? std::string_view(name).substr(1) : std::string_view(name);
        std::uint32_t i = 0;
        std::string_view type;
        const model::TypeRef* ref = nullptr;
        if (!resolve(kids, prop, i, type, ref)) {
            r_.error("structure",
                     name == "resourceType" ? std::string("resourceType is only allowed on a resource.")
                                            : "Unknown element " + quoted(name) + ".",
                     name);
            continue;
        }
        const Element& e = kids[i];
        if (is_ext) {
            const TypeInfo t = classify(e, type);
            if (t.kind != TypeInfo::Kind::primitive || t.primitive == Primitive::xhtml ||
                t.primitive == Primitive::element_id || t.primitive == Primitive::extension_url ||
                t.primitive == Primitive::resource_id) {
                r_.error("structure",
                         "Unknown element " + quoted(name) + ": " + quoted(prop) +
                             " is no primitive that can have extensions.",
                         name);
                continue;
            }
        }
        Slot& s = slots_[slot_base + i];
        if (!s.json_name.empty() && s.json_name != prop) {
            r_.error("structure",
                     "Only one of " + quoted(s.json_name) + " and " + quoted(prop) + " (" + display_name(e) +
                         "[x]) may be present.",
                     name);
            continue;
        }
        if (s.json_name.empty()) order_.push_back(i);
        s.json_name = prop;
        s.type = type;
        s.ref = ref;
        (is_ext ? s.ext : s.value) = &value;
    }
    for (std::size_t k = order_base; k < order_.size(); ++k) {
        const std::uint32_t i = order_[k];
        const Slot s = slots_[slot_base + i];  // a copy: the recursion may grow slots_
        element(kids[i], s);
    }
    for (std::size_t i = 0; i < kids.size(); ++i) {
        if (kids[i].min > 0 && slots_[slot_base + i].json_name.empty()) {
            r_.error("required",
                     "The element " + quoted(display_name(kids[i])) + " is required (minimum " +
                         std::to_string(kids[i].min) + ").",
                     display_name(kids[i]));
        }
    }
    slots_.resize(slot_base);
    order_.resize(order_base);
    --depth_;
}

void Walker::element(const Element& e, const Slot& s) {
    PathScope scope(r_, s.json_name);
    if (invariants_ != nullptr) {
        collect(e);
        // Questionnaire.item.item follows Questionnaire.item, with its constraints (que-1 ...).
        if (const Element* target =
                e.content_reference.empty() ? nullptr : model::element(e.content_reference.substr(1))) {
            collect(*target);
        }
    }
    if (e.max == 0) {
        r_.error("structure", "The element " + quoted(e.name) + " is not allowed here (maximum 0).");
        return;
    }
    const TypeInfo t = classify(e, s.type);
    const bool is_primitive = t.kind == TypeInfo::Kind::primitive;
    if (!e.repeats()) {
        for (const Value* v : {s.value, s.ext}) {
            if (v == nullptr) continue;
            if (v->is_array()) {
                r_.error("structure",
                         "The element " + quoted(e.name) + " has at most one value: it must not be an array.");
                return;
            }
            if (v->is_null()) {
                r_.error("structure", "null is not allowed here: leave the property out instead.");
                return;
            }
        }
        single(e, s, t, s.value, s.ext);
        return;
    }
    std::size_t count = 0;
    for (const Value* v : {s.value, s.ext}) {
        if (v == nullptr) continue;
        if (!v->is_array()) {
            r_.error("structure", "The element " + quoted(e.name) + " repeats: its value must be an array.");
            return;
        }
        if (v->items().empty()) {
            r_.error("structure", "Arrays must not be empty: leave the property out instead.");
            return;
        }
        if (count != 0 && v->items().size() != count) {
            r_.error("structure", "The arrays " + quoted(s.json_name) + " and " +
                                      quoted("_" + std::string(s.json_name)) + " must have the same length.");
            return;
        }
        count = v->items().size();
    }
    if (count > e.max) {
        r_.error("structure", "The element " + quoted(e.name) + " has " + std::to_string(count) + " values; at most " +
                                  std::to_string(e.max) + " are allowed.");
    }
    if (count < e.min) {
        r_.error("required", "The element " + quoted(e.name) + " has " + std::to_string(count) + " values; at least " +
                                 std::to_string(e.min) + " are required.");
    }
    for (std::size_t k = 0; k < count && !r_.full(); ++k) {
        r_.set_index(static_cast<std::int64_t>(k));
        const Value* v = s.value ? &s.value->items()[k] : nullptr;
        const Value* x = s.ext ? &s.ext->items()[k] : nullptr;
        if (v != nullptr && v->is_null()) v = nullptr;
        if (x != nullptr && x->is_null()) x = nullptr;
        if (v == nullptr && x == nullptr) {
            r_.error("structure", is_primitive && s.value != nullptr && s.ext != nullptr
                                      ? "null is only allowed where the other array has a value at the same position."
                                      : "null is not allowed here.");
            continue;
        }
        single(e, s, t, v, x);
    }
}

void Walker::single(const Element& e, const Slot& s, TypeInfo t, const Value* v, const Value* ext) {
    if (t.kind == TypeInfo::Kind::primitive) {
        if (v != nullptr) primitive(e, t.primitive, *v);
        if (ext != nullptr) primitive_extension(*ext, v != nullptr);
    } else if (v == nullptr) {
        return;
    } else if (!v->is_object()) {
        r_.error("structure", "Expected a JSON object for " +
                                  std::string(t.kind == TypeInfo::Kind::resource ? "a resource" : "this element") +
                                  ", not " + std::string(kind_name(v->kind())) + ".");
        return;
    } else if (t.kind == TypeInfo::Kind::resource) {
        resource(*v, e.name == "contained");
    } else {
        complex(e, s, *v);
    }
    element_invariants(e, s, t, v, ext);
}

void Walker::complex(const Element& e, const Slot& s, const Value& v) {
    if (v.members().empty()) {
        r_.error("structure", "Objects must not be empty: leave the property out instead.");
        return;
    }
    if (std::all_of(v.members().begin(), v.members().end(), [](const Value::Member& m) { return m.first == "id"; })) {
        r_.error("invariant", "ele-1: All FHIR elements must have a @value or children (other than id).");
    }
    const std::string_view key = children_key(e, s.type, s.ref);
    const model::TypeDef* datatype =
        key == s.type || (s.ref != nullptr && key == s.ref->profile) ? model::type(key) : nullptr;
    if (datatype != nullptr) collect(*datatype->root);
    members(v, key, false);
    if (datatype != nullptr) evaluate(*datatype->root, fhirpath::Node{&v, nullptr, s.type, key});
    if (s.type == "Reference" && options_.check_references) {
        reference(v, s.ref != nullptr ? s.ref->targets : e.targets);
    } else if (s.type == "Extension") {
        extension(v);
    } else if ((s.type == "CodeableConcept" || s.type == "Coding") && e.binding != nullptr) {
        coded(e, s.type, v);
    } else if (e.path == "Parameters.parameter" || e.content_reference == "#Parameters.parameter") {
        parameter(v);
    }
}

// ---------------------------------------------------------------------------------------------
// Primitives

void Walker::primitive(const Element& e, Primitive p, const Value& v) {
    const JsonKind expected = json_kind(p);
    if (!kind_matches(expected, v.kind())) {
        r_.error("structure", "A " + std::string(name_of(p)) + " must be " + std::string(json_kind_name(expected)) +
                                  ", not " + std::string(kind_name(v.kind())) + ".");
        return;
    }
    if (expected == JsonKind::boolean) return;
    const std::string& text = v.text();
    if (expected == JsonKind::string) {
        if (text.empty()) {
            r_.error("structure", "Strings must not be empty: leave the property out instead.");
            return;
        }
        if ((p == Primitive::string || p == Primitive::markdown) && text.size() > max_string_characters &&
            utf8_length(text) > max_string_characters) {
            r_.error("too-long", "A string SHALL NOT exceed 1,048,576 characters.");
        }
    }
    if (const std::string_view reason = check_format(p, text); !reason.empty()) {
        r_.error("value", "Invalid " + std::string(name_of(p)) + ": " + std::string(reason) + ".");
        return;
    }
    if (p == Primitive::string || p == Primitive::markdown) {
        if (has_control_characters(text)) {
            r_.report(Severity::warning, "value",
                      "Strings SHOULD NOT contain control characters other than tab, carriage return and line feed.");
        }
        if (is_blank(text)) r_.report(Severity::warning, "value", "Strings SHOULD contain non-whitespace content.");
    }
    if (e.binding != nullptr && e.binding->codes_known && options_.check_bindings && !e.binding->allows(text)) {
        r_.error("code-invalid", "The code is not in the value set " + std::string(e.binding->value_set) +
                                     ", which the element's required binding demands.");
    }
    // dom-3 looks for '#'+id among the values of every `reference` and every canonical, uri and url.
    if (!text.empty() && text.front() == '#' &&
        (e.name == "reference" || p == Primitive::canonical || p == Primitive::uri || p == Primitive::url)) {
        if (text.size() > 1) {
            frame_->hash_references.push_back(std::string_view(text).substr(1));
        } else if (e.name == "reference" || p == Primitive::canonical) {
            frame_->refers_to_container = true;  // "#": the containing resource
        }
    }
}

// `_name`: {id, extension}, and an element must have a value or extensions (ele-1).
void Walker::primitive_extension(const Value& ext, bool has_value) {
    if (!ext.is_object()) {
        r_.error("structure", "A primitive's extensions (_name) must be a JSON object, not " +
                                  std::string(kind_name(ext.kind())) + ".");
        return;
    }
    if (ext.members().empty()) {
        r_.error("structure", "Objects must not be empty: leave the property out instead.");
        return;
    }
    if (!has_value && !present(ext, "extension")) {
        r_.error("invariant", "ele-1: All FHIR elements must have a @value or children (other than id).");
    }
    members(ext, "Element", false);
}

Walker::TypeInfo Walker::classify(const Element& e, std::string_view type) const {
    TypeInfo t;
    if (type.starts_with("System.")) {
        t.kind = TypeInfo::Kind::primitive;
        t.primitive = e.path == "Extension.url" ? Primitive::extension_url
                      : e.xml_attribute         ? Primitive::element_id
                                                : Primitive::resource_id;
        return t;
    }
    if (primitive_of(type, t.primitive)) {
        t.kind = TypeInfo::Kind::primitive;
        return t;
    }
    const model::TypeDef* def = type.empty() ? nullptr : model::type(type);
    t.kind = def != nullptr && def->kind == model::Kind::resource ? TypeInfo::Kind::resource : TypeInfo::Kind::complex;
    return t;
}

// ---------------------------------------------------------------------------------------------
// Datatypes with rules of their own

void Walker::reference(const Value& v, std::span<const std::string_view> targets) {
    const Value* ref = v.find("reference");
    if (ref == nullptr || !ref->is_string() || ref->text().empty()) return;
    const ReferenceForm form = parse_reference(ref->text());
    switch (form.kind) {
        case ReferenceForm::Kind::invalid:
            r_.error("value", "Invalid reference: " + std::string(form.problem) + ".", "reference");
            return;
        case ReferenceForm::Kind::local:
            if (!form.id.empty()) {
                Frame* root = frame_;
                while (root->contained && root->parent != nullptr) root = root->parent;
                root->local_references.push_back({form.id, targets, r_.path("reference")});
            }
            return;
        default: break;
    }
    // An absolute reference without a type in its URL (urn:uuid:...) has the type of the Bundle entry
    // whose fullUrl it is, when there is one.
    const std::string_view target_type =
        !form.type.empty() || form.kind != ReferenceForm::Kind::absolute ? form.type : bundle_entry_type(ref->text());
    if (!target_type.empty() && !target_allowed(targets, target_type)) {
        r_.error("value",
                 "A reference to " + std::string(target_type) +
                     " is not allowed here; allowed: " + join_targets(targets) + ".",
                 "reference");
    }
    // Reference.type: "If both Reference.type and Reference.reference are populated and Reference.reference
    // is a FHIR URL, both SHALL be consistent."
    const Value* type = v.find("type");
    if (!form.type.empty() && type != nullptr && type->is_string()) {
        std::string_view t = type->text();
        constexpr std::string_view core = "http://hl7.org/fhir/StructureDefinition/";
        if (t.starts_with(core)) t.remove_prefix(core.size());
        if (t != form.type) {
            r_.error("value", "Reference.type and the type in Reference.reference SHALL be consistent.", "type");
        }
    }
}

std::string_view Walker::bundle_entry_type(std::string_view full_url) const {
    for (const Frame* f = frame_; f != nullptr; f = f->parent) {
        if (f->full_urls == nullptr) continue;
        const auto it = f->full_urls->find(full_url);
        return it == f->full_urls->end() ? std::string_view{} : it->second;
    }
    return {};
}

// A required binding on a Coding: its system and code from the value set. On a CodeableConcept: at
// least one of its codings from the value set (text alone does not meet a required binding).
void Walker::coded(const Element& e, std::string_view type, const Value& v) {
    const model::Binding& b = *e.binding;
    if (!b.codes_known || !options_.check_bindings) return;
    const auto in_value_set = [&](const Value& coding) {
        if (!coding.is_object()) return false;
        const Value* system = coding.find("system");
        const Value* code = coding.find("code");
        return system != nullptr && code != nullptr && system->is_string() && code->is_string() &&
               b.allows(system->text(), code->text());
    };
    if (type == "Coding") {
        if (!in_value_set(v)) {
            r_.error("code-invalid", "The coding is not in the value set " + std::string(b.value_set) +
                                         ", which the element's required binding demands.");
        }
        return;
    }
    const Value* codings = v.find("coding");
    const bool any = codings != nullptr && codings->is_array() &&
                     std::any_of(codings->items().begin(), codings->items().end(), in_value_set);
    if (!any) {
        r_.error("code-invalid", "None of the codings is from the value set " + std::string(b.value_set) +
                                     ", which the element's required binding demands.");
    }
}

// ext-1: an extension has either extensions or a value[x], not both.
void Walker::extension(const Value& v) {
    bool has_extensions = false, has_value = false;
    for (const auto& [name, value] : v.members()) {
        if (value.is_null()) continue;
        if (name == "extension") has_extensions = true;
        const std::string_view n = name.starts_with('_') ? std::string_view(name).substr(1) : std::string_view(name);
        if (n.size() > 5 && n.starts_with("value")) has_value = true;
    }
    if (has_extensions == has_value) {
        r_.error("invariant", "ext-1: An extension must have either extensions or a value[x], not both.");
    }
}

// Parameters.parameter inv-1: one and only one of value[x], resource and part.
void Walker::parameter(const Value& v) {
    bool has_value = false;
    for (const auto& [name, value] : v.members()) {
        const std::string_view n = name.starts_with('_') ? std::string_view(name).substr(1) : std::string_view(name);
        if (!value.is_null() && n.size() > 5 && n.starts_with("value")) has_value = true;
    }
    const bool has_resource = present(v, "resource"), has_part = present(v, "part");
    if (has_part ? (has_value || has_resource) : has_value == has_resource) {
        r_.error("invariant", "inv-1: A parameter must have one and only one of (value, resource, part).");
    }
}

void Walker::collect(const Element& e) {
    if (invariants_ == nullptr) return;
    const InvariantSet* set = invariant_set(e);
    if (set == nullptr) return;
    for (std::size_t i = 0; i < set->invariants().size(); ++i) {
        const model::Invariant& inv = set->invariants()[i];
        if (set->native(i) || set->expression(i) != nullptr) continue;
        if (seen_invariants_.emplace(e.path, inv.key).second) invariants_->push_back({e.path, &inv});
    }
}

// The node an element's own invariants (not its datatype's) are evaluated on.
void Walker::element_invariants(const Element& e, const Slot& s, TypeInfo t, const Value* v, const Value* ext) {
    if (invariants_ != nullptr || r_.full()) return;
    const Element* target = e.content_reference.empty() ? nullptr : model::element(e.content_reference.substr(1));
    const InvariantSet* own = invariant_set(e);
    const InvariantSet* referenced = target != nullptr ? invariant_set(*target) : nullptr;
    if (own == nullptr && referenced == nullptr) return;
    fhirpath::Node node{v, nullptr, s.type, s.type};
    if (t.kind == TypeInfo::Kind::primitive) {
        node.extras = ext;
        // Element.id, Extension.url and Resource.id are System types in the model, FHIR ones in FHIRPath.
        if (s.type.starts_with("System.")) node.type = node.model_path = e.path == "Extension.url" ? "uri" : "string";
    } else if (t.kind == TypeInfo::Kind::resource) {
        node = *fhirpath::Item::resource(*v).node();
    } else if (target != nullptr) {
        node.type = target->types.empty() ? "BackboneElement" : target->types.front();
        node.model_path = target->path;
    } else if (s.type == "BackboneElement" || s.type == "Element") {
        node.model_path = e.path;
    }
    if (own != nullptr) evaluate(*own, node);
    if (referenced != nullptr) evaluate(*referenced, node);
}

void Walker::evaluate(const Element& e, const fhirpath::Node& node) {
    if (invariants_ != nullptr) return;
    if (const InvariantSet* set = invariant_set(e)) evaluate(*set, node);
}

// Only a result of true (or, as in the HL7 validator, anything but empty or a single false) passes: an
// empty result means the rule could not be shown to hold, and both reference validators fail it.
void Walker::evaluate(const InvariantSet& set, const fhirpath::Node& node) {
    const fhirpath::Item context(node);
    for (std::size_t i = 0; i < set.invariants().size() && !r_.full(); ++i) {
        const fhirpath::Expression* expression = set.expression(i);
        if (expression == nullptr) continue;
        const model::Invariant& inv = set.invariants()[i];
        const fhirpath::Result result = expression->evaluate(context, frame_->environment);
        if (!result.items) {
            r_.report(Severity::warning, "exception",
                      std::string(inv.key) + ": could not be evaluated here: " + result.error.message);
            continue;
        }
        if (holds(*result.items)) continue;
        r_.report(inv.severity == "warning" ? Severity::warning : Severity::error, "invariant",
                  std::string(inv.key) + ": " + std::string(inv.human));
    }
}

}  // namespace helsebro::fhir::validation
