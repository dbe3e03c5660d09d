// Building the HTTP answers of the FHIR API: resources, OperationOutcomes, version headers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "adapter/http/http.hpp"
#include "fhir/json.hpp"
#include "fhir/operation_outcome.hpp"

namespace helsebro::ingress {

inline constexpr std::string_view fhir_json = "application/fhir+json; charset=utf-8";

http::Response resource_reply(int status, std::string body);
http::Response outcome_reply(int status, const std::vector<fhir::Issue>& issues);
http::Response outcome_reply(int status, std::string code, std::string diagnostics,
                             std::string expression = {});

// ETag, Last-Modified and (when `location`) Location for one stored version.
void add_version_headers(http::Response& r, std::string_view base_url, std::string_view type,
                         std::string_view id, std::int64_t version, std::string_view last_updated,
                         bool location);

std::string etag(std::int64_t version);  // W/"3"
// "Type/id/_history/v"
std::string versioned_path(std::string_view type, std::string_view id, std::int64_t version);
// FHIR instant (UTC, as written by the store) to an HTTP date.
std::string http_date(std::string_view instant);
// The reason phrase FHIR uses in Bundle.entry.response.status, e.g. "201 Created".
std::string status_line(int status);

}  // namespace helsebro::ingress
