// FHIR OperationOutcome resources, for telling a sender what was wrong with its message.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fhir/json.hpp"

namespace helsebro::fhir {

enum class Severity { fatal, error, warning, information };

struct Issue {
    Severity severity = Severity::error;
    std::string code;         // FHIR issue-type code: invalid, structure, required, value, not-found, not-supported,
                              // security, login, too-long, conflict, duplicate, processing, exception, business-rule, ...
    std::string diagnostics;  // a full sentence for a human
    std::vector<std::string> expression;      // FHIRPath of the element, e.g. "Bundle.entry[2].resource.subject"
    std::optional<std::size_t> line, column;  // for syntax errors
};

// The usual case: one error with a code, a sentence and (when known) the element's path.
Issue error(std::string code, std::string diagnostics, std::string expression = {});

// Errors before warnings before information, each in the order given. An empty list yields one
// "information" issue, since OperationOutcome.issue is 1..*.
json::Value operation_outcome(const std::vector<Issue>& issues);
std::string_view to_string(Severity);

}  // namespace helsebro::fhir
