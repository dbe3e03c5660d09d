// The syntax tree of a compiled FHIRPath expression, for the parser, checker and evaluator only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fhir/fhirpath.hpp"

namespace re2 {
class RE2;
}

namespace helsebro::fhir::fhirpath::detail {

enum class Op : unsigned char {
    literal,     // `literal`
    bad_literal, // lexes, but evaluating it is an error (`message`), e.g. @T14:34:28Z
    empty,       // {}
    this_, index, total,
    variable,    // %name
    member,      // name: a child element, or at the start of a path a type filter (Patient.name)
    function,    // name(args); `function` points into the function table
    invoke,      // args[0] . args[1]
    indexer,     // args[0] [ args[1] ]
    negate, plus_sign,
    multiply, divide, div, mod, add, subtract, concatenate,
    is, as,      // args[0] is/as `type`
    union_,
    less, greater, less_equal, greater_equal,
    equal, equivalent, not_equal, not_equivalent,
    in, contains,
    and_, or_, xor_, implies,
};

struct TypeSpec {
    std::string ns;    // "FHIR", "System", or "" when unqualified
    std::string name;  // "Quantity", "Patient", "string"
    std::string text() const { return ns.empty() ? name : ns + "." + name; }
};

struct FunctionDef;

struct AstNode {
    Op op = Op::empty;
    std::uint32_t line = 0, column = 0;
    std::string name;                 // member, function, variable; bad_literal's message
    std::optional<Item> literal;
    TypeSpec type;                    // is, as
    const FunctionDef* function = nullptr;
    std::shared_ptr<const re2::RE2> regex;  // matches()/replaceMatches() with a literal pattern: compiled once
    bool starts_path = false;         // member: written first in a path, so a type name filters (Patient.name)
    std::vector<std::unique_ptr<AstNode>> args;
};

struct ParseOutcome {
    std::unique_ptr<AstNode> root;
    Error error;
};
ParseOutcome parse(std::string_view text, std::size_t max_depth);

}  // namespace helsebro::fhir::fhirpath::detail
