// The path of every write: an idempotency check, the received message kept as received, the
// interaction's work, all in one store job; the answer only once that job is committed.
#pragma once

#include <spdlog/logger.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "adapter/http/http.hpp"
#include "adapter/store/store.hpp"
#include "fhir/json.hpp"

namespace helsebro::ingress {

struct WriteState {
    http::Request request;
    std::string kind;  // transaction, batch, message, collection, document, create, update
    std::string key;   // idempotency key; empty when the request has none
    std::optional<http::Response> reply;  // set only by a job that ran to its end
};

// Returns the answer; sets keep=false to roll back everything the request did.
using Work = std::function<http::Response(store::Tx& tx, std::int64_t message_id, bool& keep)>;

void submit_write(store::Store& store, std::shared_ptr<WriteState> state, Work work, http::Respond respond,
                  spdlog::logger& log);

// The key for Bundle.identifier, or empty. Length-prefixed, so no system|value pair can pass
// for another.
std::string identifier_key(const fhir::json::Value& bundle);
std::string message_key(const std::string& header_id);

}  // namespace helsebro::ingress
