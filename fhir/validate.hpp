// Validation of FHIR R4 JSON against the type model (fhir/model): resource types, known elements, JSON
// kinds, cardinality, primitive formats, required bindings the model can enumerate, references, contained
// resources, the Bundle rules, and the FHIRPath invariants (constraints) of every element present.
//
// Invariants. The structural ones are checked natively, with better messages (is_checked_invariant); all
// others are evaluated with fhir/fhirpath, each compiled once (lazily, shared by all threads) against the
// context it is defined on, and evaluated on each occurrence of its element:
//   - the context ($this, %context) is the element's node: the resource, the backbone element, or the
//     datatype value (a primitive with its `_name` extensions);
//   - %resource is the nearest resource: a contained resource and a Bundle entry's resource are their own;
//   - %rootResource is the container of a contained resource, otherwise %resource itself (FHIRPath in
//     FHIR R4, fhirpath.html#variables; a Bundle entry's resource is not contained, so the HL7 validator
//     too makes it its own root);
//   - an empty result fails, like false: a constraint is met only when it evaluates to true (the HL7
//     Java validator's convertToBoolean is false for an empty collection, Firely's validator uses
//     IsTrue). As in the HL7 validator, a non-empty result other than a single false passes;
//   - a few R4 expressions contradict their own rule; they are evaluated as later official versions and
//     the HL7 validator (FHIRPathExpressionFixer) correct them: que-7, ras-2, que-12, the *-0 name
//     rules, dom-6 on contained resources (fhir/validate/invariants.cpp).
// A failing invariant is an issue with code "invariant", its definition's severity, and diagnostics
// "<key>: <human text of the definition>". An invariant the engine fails to evaluate on the input (an
// execution error) is a warning with code "exception", "<key>: could not be evaluated here: ...". Those
// the engine cannot compile are listed by unchecked_invariants().
//
// Issues carry a severity, an issue-type code and the element's FHIRPath-style path
// ("Bundle.entry[2].resource.subject", "Patient.name[0].given[1]", "Observation.valueQuantity"; what is
// inside a primitive's `_birthDate` is at "Patient.birthDate.extension[0]"):
//   structure     wrong JSON (unknown element, array where a single value belongs, null, empty value),
//                 or more values than the element's maximum
//   required      a required element is missing
//   value         a primitive value or a reference has the wrong format, or a reference the wrong target
//   code-invalid  a code outside its required value set
//   invariant     a constraint with a key (dom-3, bdl-7, ref-1, pat-1, ...), named in the diagnostics
//   exception     (warning) an invariant that could not be evaluated on this input
//   too-long      a string over 1 MiB characters
//   too-costly    validation stopped (max_issues errors reached, or nesting beyond 512 objects)
// Warnings: strings with control characters or only whitespace (SHOULD rules), invariants of severity
// warning (dom-6 narrative, ...). Diagnostics never quote values from the document (they may be personal
// data); property names are quoted, invariants are described by their definitions' own text.
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
    std::size_t max_issues = 1000;  // stop after this many errors (a last one says so); keep at most this many warnings
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

// Whether validate() checks this invariant natively instead of with FHIRPath (the structural ones: ele-1,
// ext-1, dom-2..dom-5, ref-1, sqty-1, bdl-1..bdl-12, inv-1 of Parameters.parameter).
bool is_checked_invariant(std::string_view element, std::string_view key);

// The invariants that apply to the elements present in `resource` (nested resources included) and that
// validate() cannot evaluate, because the FHIRPath engine cannot compile them against their context
// (htmlChecks() of txt-1/txt-2; cid-0, which names an element ChargeItemDefinition lacks). Each once, in
// the order first met. Empty for a document that is no resource.
std::vector<InvariantUse> unchecked_invariants(const json::Value& resource);

}  // namespace helsebro::fhir
