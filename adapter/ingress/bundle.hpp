// transaction and batch Bundles: checked whole before anything is stored, then run in one store job.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "adapter/ingress/resource_ops.hpp"
#include "adapter/ingress/route.hpp"

namespace helsebro::ingress {

struct PlannedEntry {
    std::size_t index = 0;
    std::string method;  // POST, PUT or GET
    EntryUrl url;
    std::string full_url;
    std::string id;                    // POST: assigned when planned; PUT/GET: from request.url
    std::optional<Value> resource;     // still a tree only when a reference waits for the store
    std::optional<Prepared> prepared;  // serialized when planned, off the writer thread
    std::string if_none_exist;
    std::string if_match;
    std::vector<fhir::Issue> issues;  // in a batch, a refused entry carries its reasons here
    int refused_status = 0;
};

struct Plan {
    bool transaction = false;
    std::vector<PlannedEntry> entries;
    std::vector<fhir::Issue> issues;  // problems with the Bundle as a whole (transaction: any entry's)
    int status = 400;
};

// For Bundles stored or processed whole (message, collection, document): every entry is an
// object, its resource passes check_resource, fullUrls are unique.
std::vector<fhir::Issue> check_entries(const Value& bundle);

// Takes the entries out of the bundle and checks each one. Everything that does not need the
// store happens here, on the HTTP thread: ids for new resources, references between entries,
// serialization. Only conditional references and ifNoneExist wait for the store job.
Plan plan_bundle(Value& bundle, bool transaction);

struct BundleOutcome {
    bool keep = false;  // false: roll back everything
    int status = 200;
    std::string body;   // the response Bundle or an OperationOutcome
};

BundleOutcome run_transaction(store::Tx& tx, std::int64_t message_id, Plan& plan, bool representation,
                              const std::string& base_url);
BundleOutcome run_batch(store::Tx& tx, std::int64_t message_id, Plan& plan, bool representation,
                        const std::string& base_url);

}  // namespace helsebro::ingress
