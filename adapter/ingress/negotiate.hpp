// Content negotiation and Prefer: what the client sends and wants back.
#pragma once

#include <optional>
#include <string_view>

namespace helsebro::ingress {

// application/fhir+json, application/json or the _format shorthand json; with `allow_wildcards`
// also */* and application/* (for Accept).
bool is_json_media(std::string_view media, bool allow_wildcards);
// A charset parameter, when present, is UTF-8 (FHIR JSON is always UTF-8).
bool charset_is_utf8(std::string_view content_type);

enum class Format { json, xml };

// application/fhir+json, application/json, json -> json; application/fhir+xml, application/xml,
// text/xml, xml -> xml; anything else nullopt. Parameters (charset) are ignored here.
std::optional<Format> media_format(std::string_view media);
// What to answer in: _format wins over Accept (FHIR http.html#mime); JSON when either allows
// anything; nullopt when nothing acceptable is offered.
std::optional<Format> response_format(std::string_view format_param, std::string_view accept);

enum class Return { minimal, representation, outcome };
Return preferred_return(std::string_view prefer, Return fallback);

}  // namespace helsebro::ingress
