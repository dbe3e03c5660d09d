// FHIR R4 search parameters (the official SearchParameter definitions, generated into
// fhir/model/r4_search.inc by tools/generate-search-params.js) and what a resource is found by:
// each parameter's FHIRPath expression evaluated on the resource, its results turned into index
// values (tokens, references, date ranges, normalized strings, uris, numbers, quantities).
//
// Pure computation, thread-safe: the expressions are compiled once each, on first use, and then
// shared by every thread.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fhir/json.hpp"

namespace helsebro::fhir::search {

enum class Kind : unsigned char { number, date, string, token, reference, composite, quantity, uri, special };
std::string_view to_string(Kind kind);

struct Param {
    std::string_view type;        // a resource type, or "Resource"/"DomainResource" for the common ones
    std::string_view code;        // the name used in a query: "patient", "_lastUpdated"
    Kind kind;
    std::string_view expression;  // the official FHIRPath, only this type's branches; may be empty
    std::string_view url;         // the SearchParameter's canonical url
};

// Every parameter of `type`, its own and those it inherits from Resource and DomainResource, sorted
// by code. Empty for an unknown type.
std::vector<const Param*> params(std::string_view type);
// nullptr when `type` has no parameter `code`.
const Param* find(std::string_view type, std::string_view code);
// Whether extract() produces values for it: the kinds above but composite and special, with an
// expression. _id and _lastUpdated are not among them: a store keeps those with every version.
bool indexed(const Param& p);

// The indexed parameters whose expression does not compile (their values are never extracted).
// Compiles every one: for tests and diagnostics, not for the request path.
std::vector<const Param*> uncompiled();

// One value a resource is found by. `param` is the parameter's code, except for the identifier of a
// Reference, which is a token under "<code>:identifier" (what the :identifier modifier searches;
// how a shared record names the patient by national identifier alone).
struct Entry {
    std::string param;
    Kind kind = Kind::token;
    // token: a = code, b = system ("" when none).
    // reference: a = id, b = type for a relative "Type/id"; a = the whole url, b = "" for absolute
    //   urls (another server's, urn:uuid) and canonicals.
    // date: a = low, b = high: UTC instants "YYYY-MM-DDThh:mm:ss.sssZ", both inclusive.
    // string: a = normalize(text), b = the text as written.
    // uri: a = the uri.
    // number, quantity: `number`; quantity also a = code, b = system.
    std::string a, b;
    double number = 0;
};

// Every value of every indexed parameter of `resource` (of type `type`). Values the data gives twice
// come once. Expressions that fail on odd data are skipped: the rest of the resource is still
// indexed. `failed`, when given, counts the failures (for a log line; never the content).
std::vector<Entry> extract(const json::Value& resource, std::string_view type, std::size_t* failed = nullptr);

// How string parameters compare: lower case, accents kept ("Ærlig Øst" -> "ærlig øst"); covers
// ASCII, Latin-1 and Latin Extended-A, other characters stay as they are.
std::string normalize(std::string_view text);

// A FHIR date, dateTime or instant as the range of UTC instants it stands for ("2024" is the whole
// year). A value without a zone is read as UTC. nullopt when the text is no valid date.
struct Range {
    std::string low, high;
};
std::optional<Range> date_range(std::string_view text);

// A reference as indexed: "Patient/1" or "Patient/1/_history/2" -> {"Patient", "1"}; an absolute
// url -> {"", url}; nullopt for a local (#) or empty reference.
struct Target {
    std::string type, id;  // type empty: `id` holds a url
};
std::optional<Target> reference_target(std::string_view reference);

}  // namespace helsebro::fhir::search
