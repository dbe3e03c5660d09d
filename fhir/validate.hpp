// Structural validation of FHIR R4 JSON against the type model (fhir/model): resource types, known
// elements, JSON kinds, cardinality, primitive formats, required bindings the model can enumerate,
// references, contained resources and the Bundle rules. The FHIRPath invariants are not evaluated
// yet, except those this validator checks natively (see is_checked_invariant).
//
// Issues carry a severity, an issue-type code and the element's FHIRPath-style path
// ("Bundle.entry[2].resource.subject", "Patient.name[0].given[1]", "Observation.valueQuantity"; what is
// inside a primitive's `_birthDate` is at "Patient.birthDate.extension[0]"):
//   structure     wrong JSON (unknown element, array where a single value belongs, null, empty value),
//                 or more values than the element's maximum
//   required      a required element is missing
//   value         a primitive value or a reference has the wrong format, or a reference the wrong target
//   code-invalid  a code outside its required value set
//   invariant     a constraint with a key (dom-3, bdl-7, ref-1, ext-1, ...), named in the diagnostics
//   too-long      a string over 1 MiB characters
//   too-costly    validation stopped (max_issues reached, or nesting beyond 512 objects)
// Warnings: strings with control characters or only whitespace (SHOULD rules). Diagnostics never quote
// values from the document (they may be personal data); property names are quoted.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "fhir/json.hpp"
#include "fhir/model/model.hpp"
#include "fhir/operation_outcome.hpp"

namespace helsebro::fhir {

struct ValidationOptions {
    bool check_bindings = true;     // codes against required bindings whose codes the model knows
    bool check_references = true;   // Reference.reference format, target types, "#id" to contained (ref-1)
    std::size_t max_issues = 1000;  // stop after this many issues; a last issue says so
};

// Validates a parsed resource (an object with resourceType). Never throws on bad input; the
// document's nesting is bounded by json::ParseLimits::max_depth, and the validator recurses with it.
std::vector<Issue> validate(const json::Value& resource, const ValidationOptions& options = {});

// True when any issue is an error or fatal.
bool has_errors(const std::vector<Issue>& issues);

// An invariant of an element definition, e.g. {"Patient", dom-6} or {"Patient.contact", pat-1}.
struct InvariantUse {
    std::string_view element;  // the element definition's path; the type's name for its root
    const model::Invariant* invariant;
};

// Whether validate() evaluates this invariant itself (the structural ones: ele-1, ext-1, dom-2..dom-5,
// ref-1, sqty-1, bdl-1..bdl-12, inv-1 of Parameters.parameter).
bool is_checked_invariant(std::string_view element, std::string_view key);

// The invariants that apply to the elements present in `resource` (nested resources included) and that
// validate() does not evaluate, each once, in the order first met. Empty for a document that is no resource.
std::vector<InvariantUse> unchecked_invariants(const json::Value& resource);

}  // namespace helsebro::fhir
