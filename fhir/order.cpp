#include "fhir/order.hpp"

#include <algorithm>
#include <string>

#include "fhir/model/model.hpp"

namespace helsebro::fhir {

namespace {

using json::Value;

// Where to descend for a member: a resource by its own type, an inline group by its path, a
// datatype by its type name (as model::resolve_property describes).
std::string child_parent(const model::Resolved& r) {
    if (r.type == "BackboneElement" || r.type == "Element") return std::string(r.element->path);
    return std::string(r.type);
}

// An empty parent means "a resource": its type is its resourceType member. (Only there is
// resourceType special: ExampleScenario.instance has an element of that name.)
void order_object(Value& object, const std::string& parent, std::size_t depth);

void order_value(Value& v, const std::string& parent, std::size_t depth) {
    if (depth > 512) return;  // parse limits keep real input far below this
    if (v.is_array()) {
        for (auto& item : v.items()) order_value(item, parent, depth + 1);
    } else if (v.is_object()) {
        order_object(v, parent, depth);
    }
}

void order_object(Value& object, const std::string& parent_in, std::size_t depth) {
    const bool is_resource = parent_in.empty();
    std::string parent = parent_in;
    if (is_resource) parent = std::string(object.string_at("resourceType").value_or(""));
    auto kids = model::children(parent);
    constexpr std::size_t unknown = static_cast<std::size_t>(-1) / 4;
    auto rank = [&](const std::string& name) -> std::size_t {
        if (is_resource && name == "resourceType") return 0;
        std::string_view base = name;
        bool extra = !base.empty() && base.front() == '_';
        if (extra) base.remove_prefix(1);
        auto r = model::resolve_property(parent, base);
        if (!r) return unknown;
        auto index = static_cast<std::size_t>(r->element - kids.data());
        if (index >= kids.size()) return unknown;
        // What XML writes as attributes (Extension.url) comes first, as FHIR's own JSON has it.
        std::size_t group = r->element->xml_attribute ? 0 : kids.size();
        return 2 + 2 * (group + index) + (extra ? 1 : 0);
    };
    auto& members = object.members();
    std::stable_sort(members.begin(), members.end(),
                     [&](const Value::Member& a, const Value::Member& b) { return rank(a.first) < rank(b.first); });
    for (auto& [name, child] : members) {
        if ((is_resource && name == "resourceType") || name == "div") continue;
        std::string_view base = name;
        if (!base.empty() && base.front() == '_') base.remove_prefix(1);
        auto r = model::resolve_property(parent, base);
        if (!r) continue;
        if (name.front() == '_') {
            order_value(child, "Element", depth + 1);  // a primitive's id and extensions
        } else if (r->type == "Resource") {
            order_value(child, "", depth + 1);
        } else {
            order_value(child, child_parent(*r), depth + 1);
        }
    }
}

}  // namespace

void order_by_definition(Value& resource) { order_object(resource, "", 0); }

}  // namespace helsebro::fhir
