// Element paths of the rules ("scheduledPeriod.end") against the FHIR definitions, and the scope of
// names an expression may use; shared by loading and applying.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fhir/model/model.hpp"

namespace helsebro::mapping {

// The variables visible to an expression, with their static types ("" when unknown).
struct Scope {
    std::string context;  // the input's type
    std::vector<std::pair<std::string, std::string>> variables;
    void add(const std::string& name, const std::string& type) { variables.emplace_back(name, type); }
    bool has(const std::string& name) const {
        for (const auto& v : variables)
            if (v.first == name) return true;
        return false;
    }
};

struct ResolvedPath {
    std::vector<std::string> names;              // JSON names, in order
    const fhir::model::Element* element = nullptr;  // the last one's definition
    std::string type;                            // its type: "code", "Period", "BackboneElement"
    std::string parent;                          // where its children are defined (type or element path)
    bool repeats = false;                        // the last element repeats
    bool through_repeating = false;              // an earlier element repeats
    std::string error, hint;                     // set when the path is not valid
};

// `dotted` under `parent` (a type name or element path): "scheduledPeriod.end" under
// "CarePlan.activity.detail". A path may not pass through a repeating element: build it as a map.
ResolvedPath resolve_path(std::string_view parent, std::string_view dotted);

bool is_resource_type(std::string_view name);
std::string resource_hint(std::string_view name);  // "did you mean 'CarePlan'?" or ""

}  // namespace helsebro::mapping
