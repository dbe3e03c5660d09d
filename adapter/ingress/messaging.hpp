// FHIR messaging: a message Bundle's checks and the response message that acknowledges it.
#pragma once

#include <string>
#include <vector>

#include "fhir/json.hpp"
#include "fhir/operation_outcome.hpp"

namespace helsebro::ingress {

struct MessageInfo {
    std::string header_id;        // MessageHeader.id: what the response refers to
    std::string event_key;        // "eventCoding" or "eventUri"
    fhir::json::Value event;
    std::string source_endpoint;  // where the response message goes
};

// MessageHeader first, with an id, an event and source.endpoint (R4 requires them).
std::vector<fhir::Issue> check_message(const fhir::json::Value& bundle, MessageInfo& out);

std::string response_message(const MessageInfo& m, const std::string& base_url, const std::string& now);

}  // namespace helsebro::ingress
