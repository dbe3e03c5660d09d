// What the type model says about one element, as far as XML <-> JSON mapping cares.
#pragma once

#include <string_view>

#include "fhir/model/model.hpp"

namespace helsebro::fhir::xml::detail {

inline constexpr const char* fhir_namespace = "http://hl7.org/fhir";
inline constexpr const char* xhtml_namespace = "http://www.w3.org/1999/xhtml";

enum class Shape : unsigned char { primitive, xhtml, resource, complex };
enum class JsonKind : unsigned char { string, number, boolean };

struct Slot {
    Shape shape = Shape::complex;
    std::string_view type;    // "date", "Quantity", "Resource", "BackboneElement"
    std::string_view parent;  // where its children resolve: a type name or an element path
};

// `type` is the element's type for this occurrence (a choice's chosen type).
Slot classify(const model::Element& element, std::string_view type);

// How a primitive's value is written in JSON: integer, decimal, positiveInt, unsignedInt are numbers,
// boolean a boolean, everything else a string.
JsonKind json_kind(std::string_view primitive_type);

// A concrete resource type ("Patient"; not "Resource" or "DomainResource").
bool is_resource_name(std::string_view name);


}  // namespace helsebro::fhir::xml::detail
