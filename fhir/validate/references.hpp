// The literal reference of a Reference (Reference.reference) in its R4 forms (references.html):
//   #id                       a contained resource ("#" alone: the containing resource)
//   Type/id[/_history/vid]    relative to the service base
//   Type?query                a conditional reference (transactions)
//   scheme:...                an absolute URI: http(s) URLs (RESTful ones end in /Type/id), urn:uuid:, urn:oid:
#pragma once

#include <span>
#include <string_view>

namespace helsebro::fhir::validation {

struct ReferenceForm {
    enum class Kind : unsigned char { local, relative, conditional, absolute, invalid };
    Kind kind = Kind::invalid;
    std::string_view type;     // the resource type when the form tells it (relative, conditional, RESTful URL)
    std::string_view id;       // local: the contained resource's id (empty for "#")
    std::string_view problem;  // invalid: why, for a sentence
};

ReferenceForm parse_reference(std::string_view reference);

// Whether a reference to `type` is allowed by an element's target types (empty or "Resource": any).
bool target_allowed(std::span<const std::string_view> targets, std::string_view type);

// "Patient, Group or Device" for a message.
std::string join_targets(std::span<const std::string_view> targets);

}  // namespace helsebro::fhir::validation
