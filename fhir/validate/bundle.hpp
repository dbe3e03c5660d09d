// The Bundle invariants that need no FHIRPath: bdl-1, bdl-2, bdl-3, bdl-4, bdl-5, bdl-7, bdl-8, bdl-9,
// bdl-10, bdl-11 and bdl-12 (R4 Bundle), checked on the JSON as their expressions say.
#pragma once

#include "fhir/json.hpp"
#include "fhir/validate/reporter.hpp"

namespace helsebro::fhir::validation {

// `bundle` is a Bundle resource object; the reporter's path is at the Bundle.
void check_bundle(const json::Value& bundle, Reporter& r);

// Whether an element is present: its value (not null) or its primitive extension (`_name`).
bool present(const json::Value& object, std::string_view name);

}  // namespace helsebro::fhir::validation
