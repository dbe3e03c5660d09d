// The raw tables of the generated FHIR R4 model (fhir/model/r4_model.inc), for model.cpp only.
// Everything is an index: into `strings` (NUL-separated, index 0 = ""), or an offset into one of the
// flat list arrays, where a list is its item count followed by its items (offset 0 = empty list).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace helsebro::fhir::model::detail {

// Row strides and column meanings; tools/generate-fhir-model.js writes the rows in this order.
enum TypeColumn : unsigned { t_name, t_kind, t_flags, t_base, t_regex, t_value_type, t_first, t_count, type_stride };
enum ElementColumn : unsigned {
    e_path, e_min, e_max, e_type_list, e_content_reference, e_binding /* index + 1, 0 = none */,
    e_invariant_list, e_flags, element_stride
};
enum InvariantColumn : unsigned { i_key, i_severity, i_human, i_expression, invariant_stride };
enum BindingColumn : unsigned { b_value_set, b_codes_known, b_code_list, binding_stride };
inline constexpr unsigned type_ref_stride = 3;  // type list items: code, profile, target (string) list
inline constexpr unsigned code_stride = 2;      // code list items: system, code

inline constexpr std::uint32_t type_abstract = 1, type_constraint = 2;                      // t_flags
inline constexpr std::uint32_t el_modifier = 1, el_summary = 2, el_xml_attr = 4, el_xhtml = 8;  // e_flags
inline constexpr std::uint32_t max_unbounded = 0xffffffff;                                  // e_max

struct Tables {
    std::string_view strings;
    std::span<const std::uint32_t> types, elements, type_lists, string_lists, invariants, invariant_lists,
        bindings, code_lists;
};

const Tables& r4_tables();

}  // namespace helsebro::fhir::model::detail
