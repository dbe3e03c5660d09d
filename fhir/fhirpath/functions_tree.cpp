// Tree navigation, FHIR-specific functions (extension, resolve, hasValue, conformsTo), type()
// and the clock.
#include <deque>
#include <unordered_set>

#include "fhir/fhirpath/eval.hpp"
#include "fhir/fhirpath/functions.hpp"
#include "fhir/fhirpath/tables.hpp"
#include "fhir/model/model.hpp"

namespace helsebro::fhir::fhirpath::detail {
namespace {

Collection fn_children(Evaluator& ev, const AstNode& call, const Collection& in, Frame&) {
    Collection out;
    for (const Item& item : in)
        if (const Node* n = item.node()) all_children(*n, out);
    ev.count(call, out.size());
    return out;
}

Collection fn_descendants(Evaluator& ev, const AstNode& call, const Collection& in, Frame&) {
    Collection out;
    Collection level = in;
    while (!level.empty()) {
        Collection next;
        for (const Item& item : level)
            if (const Node* n = item.node()) all_children(*n, next);
        ev.count(call, next.size());
        out.insert(out.end(), next.begin(), next.end());
        level = std::move(next);
    }
    return out;
}

Collection fn_extension(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    auto url = single_string(call, ev.arg(call, 0, frame), "The extension url");
    if (!url) return {};
    Collection extensions;
    for (const Item& item : in)
        if (const Node* n = item.node()) children_named(*n, "extension", extensions);
    Collection out;
    for (const Item& e : extensions) {
        const Node* n = e.node();
        if (n && n->value && n->value->string_at("url") == std::string_view(*url)) out.push_back(e);
    }
    return out;
}

Collection fn_has_value(Evaluator&, const AstNode&, const Collection& in, Frame&) {
    if (in.size() != 1) return {Item(false)};
    const Node* n = in[0].node();
    if (!n) return {Item(true)};
    return {Item(is_primitive_node(*n) && n->value != nullptr)};
}

Collection fn_get_value(Evaluator&, const AstNode&, const Collection& in, Frame&) {
    if (in.size() != 1) return {};
    const Node* n = in[0].node();
    if (n && !is_primitive_node(*n)) return {};
    auto v = in[0].system_value();
    return v ? Collection{*v} : Collection{};
}

const json::Value* find_by_id(const json::Value* resource, std::string_view type, std::string_view id) {
    if (!resource || !resource->is_object()) return nullptr;
    if (resource->string_at("resourceType") == type && resource->string_at("id") == id) return resource;
    return nullptr;
}

// A reference in the resource itself (#contained), in the root Bundle, or through env.resolve.
const json::Value* resolve_reference(Evaluator& ev, std::string_view ref) {
    if (ref.starts_with('#')) {
        const json::Value* container = ev.resource();
        const json::Value* contained = container ? container->find("contained") : nullptr;
        if (contained && contained->is_array())
            for (const auto& c : contained->items())
                if (c.string_at("id") == ref.substr(1)) return &c;
        return nullptr;
    }
    const json::Value* root = ev.root_resource();
    const json::Value* entries = root ? root->find("entry") : nullptr;
    if (entries && entries->is_array()) {
        // Type/id, possibly at the end of an absolute URL ([base]/Patient/123).
        std::string_view tail = ref;
        if (auto h = tail.find("/_history/"); h != std::string_view::npos) tail = tail.substr(0, h);
        const auto slash = tail.rfind('/');
        const auto type_start = slash == std::string_view::npos ? slash : tail.rfind('/', slash - 1);
        const std::string_view type = slash == std::string_view::npos ? std::string_view{}
                                      : tail.substr(type_start == std::string_view::npos ? 0 : type_start + 1,
                                                    slash - (type_start == std::string_view::npos ? 0 : type_start + 1));
        const std::string_view id = slash == std::string_view::npos ? std::string_view{} : tail.substr(slash + 1);
        for (const auto& entry : entries->items()) {
            const json::Value* resource = entry.find("resource");
            if (!resource) continue;
            if (entry.string_at("fullUrl") == ref) return resource;
            if (!type.empty() && find_by_id(resource, type, id)) return resource;
        }
    }
    if (ev.env().resolve) return ev.env().resolve(ref);
    return nullptr;
}

Collection fn_resolve(Evaluator& ev, const AstNode&, const Collection& in, Frame&) {
    Collection out;
    for (const Item& item : in) {
        std::optional<std::string_view> ref = string_of(item);
        if (!ref) {
            const Node* n = item.node();
            if (n && n->value && n->value->is_object()) ref = n->value->string_at("reference");
        }
        if (!ref) continue;
        if (const json::Value* target = resolve_reference(ev, *ref)) out.push_back(Item::resource(*target));
    }
    return out;
}

Collection fn_type(Evaluator& ev, const AstNode&, const Collection& in, Frame&) {
    Collection out;
    for (const Item& item : in) {
        json::Value info = json::Value::object();
        const Node* n = item.node();
        const bool system = !n || n->type.starts_with("System.");
        info.set("namespace", json::Value::string(system ? "System" : "FHIR"));
        info.set("name", json::Value::string(std::string(item.type_name())));
        out.push_back(Item(Node{&ev.keep(std::move(info)), nullptr, "", ""}));
    }
    return out;
}

Collection fn_conforms_to(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    auto url = single_string(call, ev.arg(call, 0, frame), "The profile");
    const Item* item = single(call, in, "The input of conformsTo()");
    if (!url || !item) return {};
    constexpr std::string_view base = "http://hl7.org/fhir/StructureDefinition/";
    if (!url->starts_with(base) || !model::type(std::string_view(*url).substr(base.size())))
        fail(call, "conformsTo() knows only the base FHIR R4 definitions.");
    const Node* n = item->node();
    return {Item(n && derives_from(n->type, std::string_view(*url).substr(base.size())))};
}

Collection fn_today(Evaluator& ev, const AstNode&, const Collection&, Frame&) { return {Item(ev.now().as_date())}; }
Collection fn_now(Evaluator& ev, const AstNode&, const Collection&, Frame&) { return {Item(ev.now())}; }
Collection fn_time_of_day(Evaluator& ev, const AstNode&, const Collection&, Frame&) {
    const Temporal& now = ev.now();
    char text[16];
    std::snprintf(text, sizeof text, "%02d:%02d:%02d.%03d", now.hour(), now.minute(), now.second(), now.millisecond());
    auto t = Temporal::parse(Temporal::Kind::time, text);
    return t ? Collection{Item(*t)} : Collection{};
}

constexpr auto A = InputKind::any;

}  // namespace

std::span<const FunctionDef> tree_functions() {
    static constexpr FunctionDef table[] = {
        {"children", 0, 0, 0, false, false, A, fn_children},
        {"descendants", 0, 0, 0, false, false, A, fn_descendants},
        {"extension", 1, 1, 0, false, false, A, fn_extension},
        {"hasValue", 0, 0, 0, false, false, A, fn_has_value},
        {"getValue", 0, 0, 0, false, false, A, fn_get_value},
        {"resolve", 0, 0, 0, false, false, A, fn_resolve},
        {"type", 0, 0, 0, false, false, A, fn_type},
        {"conformsTo", 1, 1, 0, false, false, A, fn_conforms_to},
        {"today", 0, 0, 0, false, false, A, fn_today},
        {"now", 0, 0, 0, false, false, A, fn_now},
        {"timeOfDay", 0, 0, 0, false, false, A, fn_time_of_day},
    };
    return table;
}

const FunctionDef* find_function(std::string_view name) {
    for (auto table : {collection_functions(), string_functions(), conversion_functions(), math_functions(), tree_functions()})
        for (const FunctionDef& f : table)
            if (f.name == name) return &f;
    return nullptr;
}

}  // namespace helsebro::fhir::fhirpath::detail
