#include "fhir/order.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "fhir/model/model.hpp"

namespace helsebro::fhir {

namespace {

using json::Value;

// Where to descend for a member: a resource by its own type, an inline group by its path, a
// datatype by its type name (as model::resolve_property describes). Model strings live for the
// whole program, so views of them are safe to keep.
std::string_view child_parent(const model::Resolved& r) {
    if (r.type == "BackboneElement" || r.type == "Element") return r.element->path;
    return r.type;
}

// An empty parent means "a resource": its type is its resourceType member. (Only there is
// resourceType special: ExampleScenario.instance has an element of that name.)
void order_object(Value& object, std::string_view parent, std::size_t depth);

void order_value(Value& v, std::string_view parent, std::size_t depth) {
    if (depth > 512) return;  // parse limits keep real input far below this
    if (v.is_array()) {
        for (auto& item : v.items()) order_value(item, parent, depth + 1);
    } else if (v.is_object()) {
        order_object(v, parent, depth);
    }
}

void order_object(Value& object, std::string_view parent_in, std::size_t depth) {
    const bool is_resource = parent_in.empty();
    // The resourceType member moves during the sort: keep the type's name by value.
    std::string resource_type;
    if (is_resource) resource_type = std::string(object.string_at("resourceType").value_or(""));
    const std::string_view parent = is_resource ? std::string_view(resource_type) : parent_in;
    auto kids = model::children(parent);
    constexpr std::size_t unknown = static_cast<std::size_t>(-1) / 4;
    auto& members = object.members();
    // Each member's rank and definition, looked up once: the sort would otherwise resolve each
    // name O(log n) times, and most objects are already in order.
    struct Slot {
        std::size_t rank;
        std::optional<model::Resolved> resolved;
    };
    std::vector<Slot> slots;
    slots.reserve(members.size());
    for (const auto& [name, child] : members) {
        Slot s{unknown, std::nullopt};
        if (is_resource && name == "resourceType") {
            s.rank = 0;
        } else {
            std::string_view base = name;
            const bool extra = !base.empty() && base.front() == '_';
            if (extra) base.remove_prefix(1);
            s.resolved = model::resolve_property(parent, base);
            if (s.resolved) {
                auto index = static_cast<std::size_t>(s.resolved->element - kids.data());
                // What XML writes as attributes (Extension.url) comes first, as FHIR's own JSON has it.
                std::size_t group = s.resolved->element->xml_attribute ? 0 : kids.size();
                if (index < kids.size()) s.rank = 2 + 2 * (group + index) + (extra ? 1 : 0);
            }
        }
        slots.push_back(s);
    }
    if (!std::is_sorted(slots.begin(), slots.end(), [](const Slot& a, const Slot& b) { return a.rank < b.rank; })) {
        std::vector<std::size_t> order(members.size());
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return slots[a].rank < slots[b].rank; });
        std::vector<Value::Member> sorted;
        std::vector<Slot> sorted_slots;
        sorted.reserve(members.size());
        sorted_slots.reserve(members.size());
        for (auto i : order) {
            sorted.push_back(std::move(members[i]));
            sorted_slots.push_back(slots[i]);
        }
        members = std::move(sorted);
        slots = std::move(sorted_slots);
    }
    for (std::size_t i = 0; i < members.size(); ++i) {
        auto& [name, child] = members[i];
        const auto& r = slots[i].resolved;
        if (!r || name == "div") continue;
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
