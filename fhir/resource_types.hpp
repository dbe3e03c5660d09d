// The FHIR R4 (4.0.1) resource types and the id rule.
#pragma once

#include <span>
#include <string_view>

namespace helsebro::fhir {

bool is_resource_type(std::string_view name);
std::span<const std::string_view> resource_types();  // sorted
// [A-Za-z0-9\-\.]{1,64}
bool is_valid_id(std::string_view id);

}  // namespace helsebro::fhir
