// The FHIR R4 (4.0.1) type model: every resource, datatype and primitive with the elements of its
// snapshot, generated from the official StructureDefinitions (tools/generate-fhir-model.js writes
// fhir/model/r4_model.inc). Read-only, built once on first use (thread-safe), no allocation after that.
//
// Paths are the definitions' own paths: "Patient.contact.name", "Observation.value[x]". An element
// whose type is a datatype has no child paths of its own: its children are those of the type
// (children("Patient.contact.name") gives HumanName.id, HumanName.extension, HumanName.use, ...).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string_view>

namespace helsebro::fhir::model {

enum class Kind : unsigned char { primitive, complex, resource };

inline constexpr std::uint32_t unbounded = std::numeric_limits<std::uint32_t>::max();  // max "*"

// A required binding. `codes_known` is false when its value set cannot be enumerated from the
// definitions alone (mime types, UCUM units, ISO 4217 currencies, a LOINC answer list): such a
// binding cannot be checked without a terminology server, and `codes` is empty.
struct Binding {
    std::string_view value_set;                  // canonical with version, "http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1"
    bool codes_known = false;
    std::span<const std::string_view> codes;     // the allowed codes, in definition order
    std::span<const std::string_view> systems;   // systems[i] is the code system of codes[i]
    bool allows(std::string_view code) const;    // any system; for a `code` element the system is implied
    bool allows(std::string_view system, std::string_view code) const;
};

// A constraint with its FHIRPath expression (evaluated once FHIRPath exists).
struct Invariant {
    std::string_view key;         // "bdl-7"; keys are not unique across resources (inv-1 means three things)
    std::string_view severity;    // "error" or "warning"
    std::string_view human;
    std::string_view expression;  // FHIRPath
};

// One allowed type of an element.
struct TypeRef {
    std::string_view code;                       // "Quantity", "Reference", "System.String" (see Element::types)
    std::string_view profile;                    // a constraint profile the value must meet ("SimpleQuantity"), or empty
    std::span<const std::string_view> targets;   // for Reference/canonical: allowed target types ("Resource" = any)
};

struct Element {
    std::string_view path;     // "Patient.contact.name"; the root element's path is the type's name
    std::string_view name;     // last segment; "value[x]" for a choice
    std::uint32_t min = 0;
    std::uint32_t max = 0;     // `unbounded` for '*'
    // Type codes in definition order, e.g. {"HumanName"}; "BackboneElement" (or "Element") for inline
    // groups. Elements that are no FHIR primitive in JSON/XML (Element.id, Extension.url, a primitive's
    // value, Resource.id) have the FHIRPath system type, e.g. "System.String". Empty for the root
    // and for elements with a content_reference.
    std::span<const std::string_view> types;
    std::span<const TypeRef> type_refs;          // parallel to `types`, with profiles and targets
    // For Reference/canonical: the allowed target types of all of them together ("Resource" = any).
    // One element in R4 allows both with different targets (EvidenceVariable.characteristic.definition[x]);
    // type_refs keeps them apart.
    std::span<const std::string_view> targets;
    std::string_view content_reference;          // "#Questionnaire.item" or empty
    const Binding* binding = nullptr;            // a required binding, else nullptr
    std::span<const Invariant> invariants;
    bool is_modifier = false;
    bool is_summary = false;
    bool xml_attribute = false;                  // written as an XML attribute (id, url, a primitive's value)

    bool is_choice() const { return name.ends_with("[x]"); }
    bool repeats() const { return max > 1; }
    // A choice's name without "[x]" ("value" for value[x]); its JSON names append the type with the
    // first letter uppercased (valueQuantity, valueDateTime). Empty when this is no choice.
    std::string_view choice_base() const { return is_choice() ? name.substr(0, name.size() - 3) : std::string_view{}; }
};

struct TypeDef {
    std::string_view name;        // "Patient", "HumanName", "dateTime", "SimpleQuantity"
    Kind kind;
    bool is_abstract;             // Resource, DomainResource, Element, BackboneElement
    bool is_constraint;           // a profile on its base (SimpleQuantity, MoneyQuantity on Quantity)
    std::string_view base;        // "DomainResource", "Element", "Quantity"; empty for Resource and Element
    std::string_view regex;       // primitives: the value's regex, where R4 defines one
    std::string_view value_type;  // primitives: FHIRPath type of the value, "System.DateTime"
    const Element* root;          // the element with path == name
};

// nullptr when unknown. Names are case-sensitive ("string" is a primitive, "String" is nothing).
const TypeDef* type(std::string_view name);

// Exact path ("Patient.contact.name", or a type name for its root element); nullptr when unknown.
const Element* element(std::string_view path);

// The direct child elements, in definition order, of
//   a type name: its own elements ("HumanName": id, extension, use, text, family, ...);
//   an inline element path: "Patient.contact";
//   an element with a content_reference: the referenced element's ("Questionnaire.item.item");
//   an element with exactly one type and no own children: that type's ("Patient.contact.name").
// Includes the inherited id/extension/modifierExtension as in the snapshot. Empty for a choice
// element (pick the type first) and for unknown paths.
std::span<const Element> children(std::string_view path);

// Resolves a JSON property name under a parent (a type name or element path as for children()):
// "valueQuantity" under "Observation" gives Observation.value[x] and the type "Quantity";
// "gender" under "Patient" gives Patient.gender and "code". Properties starting with '_' (primitive
// extensions) are the caller's to strip. For a content_reference element `type` is the referenced
// element's type (BackboneElement). To descend further, pass `type` as the next parent for a datatype
// and `element->path` for an inline group (children() of a choice element is empty).
struct Resolved {
    const Element* element;
    std::string_view type;
};
std::optional<Resolved> resolve_property(std::string_view parent, std::string_view json_name);

// The 146 concrete resource types, sorted bytewise.
std::span<const std::string_view> resource_names();

// Every type in the model in definition order (primitives, datatypes, profiles, resources).
std::span<const TypeDef> types();

}  // namespace helsebro::fhir::model
