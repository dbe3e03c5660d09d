// FHIR R4 XML <-> the JSON value tree (fhir/json.hpp), driven by the type model (fhir/model/model.hpp).
// parse() gives exactly the tree that the same resource in FHIR JSON gives: primitives' `value`
// attributes become JSON values (numbers and booleans typed by the model, numbers keeping their text),
// their `id` and extensions the `_name` object, repeating elements arrays (with null placeholders
// aligned to `_name`), choice elements their typed names, nested resources objects with resourceType,
// and the xhtml narrative the exact markup string. write() is the inverse, in definition order.
//
// Reading is hardened: libxml2 without DTD loading, entity substitution or network; any DOCTYPE is
// refused; size and depth limits; XML comments are dropped. No network, no storage.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "fhir/json.hpp"

namespace helsebro::fhir::xml {

struct ParseLimits {
    std::size_t max_depth = 64;         // element nesting (the root resource is depth 1)
    std::size_t max_bytes = 64u << 20;  // input size
};

struct ParseError {
    std::size_t line = 0;    // 1-based; 0 when unknown
    std::size_t column = 0;  // 1-based; 0 when unknown (libxml2 keeps no column for tree nodes, so
                             // errors found after parsing, such as an unknown element, carry the line only)
    std::string path;        // FHIR-style element path, e.g. "Bundle.entry[2].resource.subject"
    std::string message;     // a full sentence, never quoting values (they may be personal data)
};

struct ParseResult {
    std::optional<json::Value> value;  // set on success
    ParseError error;                  // meaningful when !value
};

// FHIR XML (one resource, namespace http://hl7.org/fhir) -> the tree its FHIR JSON gives.
ParseResult parse(std::string_view xml, const ParseLimits& limits = {});

struct WriteResult {
    std::optional<std::string> xml;  // set on success
    std::string path;                // where the tree could not be written
    std::string message;
};

// Tree -> FHIR XML (UTF-8, with XML declaration, default namespace http://hl7.org/fhir), elements in
// definition order. Fails on members the model does not know, values of the wrong JSON kind, a
// narrative div that is not well-formed XHTML, and a tree nested deeper than max_depth.
WriteResult write_checked(const json::Value& resource, std::size_t max_depth = 64);

// As write_checked, for a tree known to be valid (e.g. one that passed validate()); an empty string
// when it cannot be written.
std::string write(const json::Value& resource);

}  // namespace helsebro::fhir::xml
