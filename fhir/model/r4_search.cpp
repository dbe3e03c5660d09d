// The generated FHIR R4 search parameters in a translation unit of their own, so that changes to
// fhir/search_params.cpp do not recompile ~250 KB of data.
#include <span>

#include "fhir/search_params.hpp"

namespace helsebro::fhir::search::detail {

namespace {

using Row = Param;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverlength-strings"
#include "fhir/model/r4_search.inc"
#pragma GCC diagnostic pop

}  // namespace

std::span<const Param> r4_rows() { return rows; }

}  // namespace helsebro::fhir::search::detail
