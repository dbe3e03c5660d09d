// Create, update and read of single resources inside a store transaction: shared by the REST
// interactions and by Bundle entries, so both follow the same rules.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapter/store/store.hpp"
#include "fhir/json.hpp"
#include "fhir/operation_outcome.hpp"

namespace helsebro::ingress {

using fhir::json::Value;

// The structural checks every stored resource passes (the full validation comes with the type
// model). `path` names the resource in messages, e.g. "Bundle.entry[2].resource".
// `check_id` is false for a create, where FHIR says a given id is ignored.
std::vector<fhir::Issue> check_resource(const Value& resource, std::string_view path,
                                        std::string_view expected_type = {}, bool check_id = true);

struct EntryResult {
    int status = 0;
    std::string type;
    std::string id;
    std::int64_t version = 0;
    std::string last_updated;
    std::string body;                 // the stored resource
    std::vector<fhir::Issue> issues;  // why it failed, when status >= 400
    bool ok() const { return status > 0 && status < 400; }
};

EntryResult failure(int status, std::string code, std::string diagnostics, std::string expression = {});

// A resource serialized ahead of its store job (on an HTTP thread, off the single writer), with
// holes for the two values only the commit knows: meta.versionId and meta.lastUpdated.
struct Prepared {
    std::string type;
    std::string id;
    std::string head, middle, tail;  // head "version" middle "lastUpdated" tail
    std::vector<store::Identifier> identifiers;
    store::SearchIndex index;  // what search finds it by: FHIRPath work kept off the writer too
    std::string json(std::int64_t version, std::string_view last_updated) const;
};

// Sets id (and meta's place, in FHIR's element order) and serializes.
Prepared prepare(Value resource, std::string_view type, std::string_view id);

// Stores the resource as version 1 (its id was chosen by the server).
EntryResult create(store::Tx& tx, std::int64_t message_id, const Prepared& resource);

// For If-None-Exist: the one existing match (status 200), an error (400 unsupported search, 412
// several matches), or nullopt when nothing matches and the create should go on.
std::optional<EntryResult> find_existing(store::Tx& tx, std::string_view type, std::string_view query,
                                         std::string_view path);

// Update or create-on-update. `if_match` is an ETag (W/"n") or empty. An update that changes
// nothing but meta keeps the current version (so a resent PUT makes no new version).
EntryResult update(store::Tx& tx, std::int64_t message_id, const Prepared& resource, std::string_view if_match);

EntryResult read(store::Tx& tx, std::string_view type, std::string_view id, std::int64_t version);

// A place in a resource that may point at another resource.
struct Reference {
    const std::string& value;
    const std::string& path;  // e.g. Bundle.entry[1].resource.subject.reference
    bool is_reference;        // Reference.reference, as opposed to a uri element or a narrative link
};

// Returns the replacement, nullopt to leave the value alone, or sets `error` to stop the walk.
using ReferenceResolver = std::function<std::optional<std::string>(const Reference& site,
                                                                   std::optional<EntryResult>& error)>;

// Offers every Reference.reference, uri/url element and narrative link to `resolve`; `path` names
// the resource. A Bundle inside the resource keeps its entries' references. Returns the first error.
std::optional<EntryResult> rewrite_references(Value& resource, std::string path, const ReferenceResolver& resolve);

bool is_placeholder(std::string_view reference);  // urn:uuid: or urn:oid:
// "Patient?identifier=..." as (type, query), when it is one.
std::optional<std::pair<std::string, std::string>> conditional_reference(const std::string& reference);

// Outside a transaction nothing can resolve a urn:uuid or conditional reference: refused (400),
// rather than stored as a reference to nothing. `where` names the interaction in the message.
std::optional<EntryResult> refuse_unresolved_references(Value& resource, std::string path, std::string_view where);

}  // namespace helsebro::ingress
