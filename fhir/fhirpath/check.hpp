// Compile-time checks of a parsed expression against the type model: unknown elements, type
// filters that can never match, functions applied to the wrong type. They find in the editor what
// would otherwise silently evaluate to empty on every message.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fhir/fhirpath/ast.hpp"

namespace helsebro::fhir::fhirpath::detail {

// A semantic error, or nullopt. With no context type only what literals reveal is checked.
// `result_types` receives the possible types of the result (empty: unknown).
std::optional<Error> check(const AstNode& root, const CompileOptions& options, std::vector<std::string>& result_types);

}  // namespace helsebro::fhir::fhirpath::detail
