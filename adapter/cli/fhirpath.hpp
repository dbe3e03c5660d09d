#pragma once

#include <string>
#include <vector>

namespace helsebro::cli {

// `helsebro fhirpath --input FILE|- [--var NAME=EXPRESSION]... EXPRESSION`: evaluates EXPRESSION on
// the resource in FILE (JSON or XML, told from its first character), compiled against its
// resourceType, and prints the result as a JSON array of {"type", "value"}. Each variable is an
// expression too, evaluated on the same input (seeing the variables before it); its result is
// %NAME. 0 on success; 1 when the input cannot be read or is no FHIR; 2 when an expression is
// wrong (syntax, or not possible for the resource type); 3 when evaluation fails.
int evaluate_fhirpath(const std::string& input_file, const std::vector<std::string>& variables,
                      const std::string& expression);

}  // namespace helsebro::cli
