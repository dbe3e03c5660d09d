// The FHIRPath function table: one row per function with its arity and how its arguments are
// evaluated, for the parser, checker and evaluator.
#pragma once

#include <cstdint>
#include <string_view>

#include "fhir/fhirpath.hpp"
#include "fhir/fhirpath/ast.hpp"

namespace helsebro::fhir::fhirpath::detail {

class Evaluator;
struct AstNode;
struct Frame;

// What a function needs to know about the input's static type (for the checker).
enum class InputKind : unsigned char { any, string, number, boolean, temporal, quantity_or_number_or_temporal };

struct FunctionDef {
    std::string_view name;
    std::uint8_t min_args = 0, max_args = 0;
    // Bit i set: argument i is evaluated once per input item with $this, $index (and $total) bound,
    // like where()'s criteria. Otherwise arguments are evaluated once, on the caller's $this.
    std::uint8_t per_item_args = 0;
    bool takes_type = false;      // is(T), as(T), ofType(T)
    bool needs_order = false;     // meaningless on an unordered input (first, skip, [..])
    InputKind input = InputKind::any;
    Collection (*call)(Evaluator& ev, const AstNode& call, const Collection& input, Frame& frame) = nullptr;
};

const FunctionDef* find_function(std::string_view name);

// nullptr when the pattern is no valid regular expression.
std::shared_ptr<const re2::RE2> compile_regex(std::string_view pattern);

}  // namespace helsebro::fhir::fhirpath::detail
