#include "fhir/resource_types.hpp"

#include <algorithm>

#include "fhir/model/model.hpp"

namespace helsebro::fhir {

// The concrete resource types come from the type model generated from the official R4
// StructureDefinitions (fhir/model/); abstract Resource/DomainResource are not among them.
bool is_resource_type(std::string_view name) {
    const model::TypeDef* t = model::type(name);
    return t != nullptr && t->kind == model::Kind::resource && !t->is_abstract;
}

std::span<const std::string_view> resource_types() { return model::resource_names(); }

bool is_valid_id(std::string_view id) {
    if (id.empty() || id.size() > 64) return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    });
}

}  // namespace helsebro::fhir
