// Turning rule values into FHIR JSON for an element, and writing them into a record (create, set,
// append). Failures throw ApplyError: they abort the input's processing, which waits for a fix.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "adapter/mapping/rules.hpp"

namespace helsebro::mapping {

struct ApplyError {
    std::string message;  // never quotes values from the input (they may be personal data)
};

// One element from a map of parts.
fhir::json::Value build_object(const Value& value, const fhir::json::Value& input, const fp::Environment& env);

// Evaluates `value` for an element of type `type` whose children are defined at `parent`.
std::vector<fhir::json::Value> build(const Value& value, std::string_view type, std::string_view parent,
                                     const fhir::json::Value& input, const fp::Environment& env);

enum class Mode { set, append };
// Writes the assignment's values at its path in `record`.
void assign(fhir::json::Value& record, const Assignment& a, Mode mode,
            const fhir::json::Value& input, const fp::Environment& env);

// A Reference to a resource as shared records hold them: by its Norwegian identifier when it has
// one (fødselsnummer, D-nummer, HPR-nummer, HER-id, organisasjonsnummer), else "Type/id".
fhir::json::Value reference_to(const fhir::json::Value& resource);

// JSON equality that ignores member order.
bool same(const fhir::json::Value& a, const fhir::json::Value& b);

}  // namespace helsebro::mapping
