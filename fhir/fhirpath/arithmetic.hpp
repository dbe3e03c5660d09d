// FHIRPath arithmetic (+ - * / div mod &, unary + -) on Integer, Decimal, Quantity, String and
// date/time values, for the evaluator.
#pragma once

#include "fhir/fhirpath/eval.hpp"

namespace helsebro::fhir::fhirpath::detail {

Collection unary_arithmetic(const AstNode& node, const Collection& operand);
Collection binary_arithmetic(const AstNode& node, const Collection& left, const Collection& right);

}  // namespace helsebro::fhir::fhirpath::detail
