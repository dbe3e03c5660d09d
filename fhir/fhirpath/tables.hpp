// The function tables of functions_*.cpp, merged by find_function().
#pragma once

#include <span>

#include "fhir/fhirpath/functions.hpp"

namespace helsebro::fhir::fhirpath::detail {

std::span<const FunctionDef> collection_functions();
std::span<const FunctionDef> string_functions();
std::span<const FunctionDef> conversion_functions();
std::span<const FunctionDef> math_functions();
std::span<const FunctionDef> tree_functions();

}  // namespace helsebro::fhir::fhirpath::detail
