// FHIR JSON in the definitions' element order: resourceType first, then each object's members in
// the order its type defines them, `_name` right after `name`. Members the model does not know
// keep their relative order at the end (validation reports them; ordering does not drop data).
#pragma once

#include "fhir/json.hpp"

namespace helsebro::fhir {

void order_by_definition(json::Value& resource);

}  // namespace helsebro::fhir
