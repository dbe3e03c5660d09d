// The generated FHIR R4 tables in a translation unit of their own, so that changes to the model's
// code do not recompile ~600 KB of data.
#include "fhir/model/tables.hpp"

namespace helsebro::fhir::model::detail {

namespace {

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverlength-strings"  // the string table is one literal, by design
#include "fhir/model/r4_model.inc"
#pragma GCC diagnostic pop

}  // namespace

const Tables& r4_tables() {
    static constexpr Tables tables{
        std::string_view(strings, sizeof strings - 1),  // without the literal's own terminating NUL
        types, elements, type_lists, string_lists, invariants, invariant_lists, bindings, code_lists,
    };
    return tables;
}

}  // namespace helsebro::fhir::model::detail
