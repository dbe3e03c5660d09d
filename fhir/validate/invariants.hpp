// The FHIRPath invariants of the R4 definitions, compiled for the FHIRPath engine. Each invariant is
// compiled once, on first use, against the context it is defined on, and then shared by every validation
// in every thread. Those validate() checks natively (is_checked_invariant) are never compiled.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "fhir/fhirpath.hpp"
#include "fhir/model/model.hpp"

namespace helsebro::fhir::validation {

class InvariantSet {
public:
    // The element's invariants; expression(i) belongs to invariants()[i].
    std::span<const model::Invariant> invariants() const { return element_->invariants; }
    // Whether validate() checks invariants()[i] natively.
    bool native(std::size_t i) const;
    // The compiled invariants()[i], or nullptr when it is native or the engine cannot compile it.
    const fhirpath::Expression* expression(std::size_t i) const;
    // What the expressions are compiled against: the type's name for a type's root, the element path
    // for an inline element, the datatype for an element of one datatype, "" for a choice.
    std::string_view context_type() const { return context_type_; }

    struct Slot;
    InvariantSet(const model::Element& element, std::string_view context_type, Slot* slots)
        : element_(&element), context_type_(context_type), slots_(slots) {}

private:
    const model::Element* element_;
    std::string_view context_type_;
    Slot* slots_;
};

// The invariants of `element` that are not all checked natively, or nullptr when there are none (most
// elements have only ele-1). `element` must come from the model (model::type, model::children, ...).
const InvariantSet* invariant_set(const model::Element& element);

}  // namespace helsebro::fhir::validation
