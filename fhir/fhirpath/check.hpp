// Compile-time checks of a parsed expression against the type model: unknown elements, type
// filters that can never match, functions applied to the wrong type. They find in the editor what
// would otherwise silently evaluate to empty on every message.
#pragma once

#include <optional>
#include <string_view>

#include "fhir/fhirpath/ast.hpp"

namespace helsebro::fhir::fhirpath::detail {

// A semantic error, or nullopt. With no context type only what literals reveal is checked.
std::optional<Error> check(const AstNode& root, std::string_view context_type);

}  // namespace helsebro::fhir::fhirpath::detail
