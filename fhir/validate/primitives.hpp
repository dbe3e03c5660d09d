// The FHIR R4 primitive types: how each is written in JSON and what its values may look like.
// Hand-written checkers for every regex of the model (fhir/model): the same language as the regex,
// plus the rules the regex cannot say (dates SHALL be valid dates, integers are 32-bit, base64 padding
// only at the end). No std::regex: these run for every value of every resource.
#pragma once

#include <cstddef>
#include <string_view>

namespace helsebro::fhir::validation {

enum class Primitive : unsigned char {
    boolean,
    integer,
    unsigned_int,
    positive_int,
    decimal,
    string,
    markdown,
    code,
    id,
    uri,
    url,
    canonical,
    oid,
    uuid,
    base64_binary,
    date,
    date_time,
    instant,
    time,
    xhtml,
    element_id,     // Element.id: a System.String attribute, "any string value that does not contain spaces"
    extension_url,  // Extension.url: a System.String attribute with the format of a uri
    resource_id,    // Resource.id: System.String in the snapshot, the id type on resource.html
};

enum class JsonKind : unsigned char { boolean, number, string };

// The primitive for a type code of the model ("date", "positiveInt"); false when it names no primitive.
bool primitive_of(std::string_view type, Primitive& out);
std::string_view name_of(Primitive);
JsonKind json_kind(Primitive);

// Whether the value's text (a JSON string, or a JSON number's text) is valid for the primitive.
// On failure returns a short reason for a sentence ("is not a valid date: ..."); empty when valid.
// Never quotes the value: values may be personal data.
std::string_view check_format(Primitive, std::string_view text);

// Strings hold at most this many characters (string.value maxLength in the R4 definitions).
inline constexpr std::size_t max_string_characters = 1024 * 1024;

// True when the text has a character below U+0020 other than tab, CR and LF, which strings SHOULD NOT have.
bool has_control_characters(std::string_view text);

// True when the text is only spaces, tabs and line breaks: strings SHOULD always contain non-whitespace
// content (XML processing may trim them to nothing).
bool is_blank(std::string_view text);

}  // namespace helsebro::fhir::validation
