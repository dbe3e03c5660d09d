// What a request to the FHIR base asks for, from its method and target.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace helsebro::ingress {

enum class Op {
    capabilities,     // GET  /fhir/metadata
    bundle,           // POST /fhir
    process_message,  // POST /fhir/$process-message
    create,           // POST /fhir/{type}
    update,           // PUT  /fhir/{type}/{id}
    read,             // GET  /fhir/{type}/{id}
    vread,            // GET  /fhir/{type}/{id}/_history/{vid}
    search,           // GET  /fhir/{type}?...
    history,          // GET  /fhir/{type}/{id}/_history
    health,           // GET  /health/live, /health/ready
};

struct Route {
    Op op{};
    std::string type;
    std::string id;
    std::int64_t version = 0;
    std::vector<std::pair<std::string, std::string>> query;  // percent-decoded
};

// A refusal: the HTTP status and a sentence saying why.
struct RouteError {
    int status = 404;
    std::string code;  // FHIR issue type
    std::string message;
    std::string allow;  // for 405
};

struct RouteResult {
    std::optional<Route> route;
    RouteError error;
};

RouteResult route(std::string_view method, std::string_view target);

std::string percent_decode(std::string_view s);
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query);

// A FHIR url inside a Bundle entry (request.url): "Patient", "Patient/1", "Patient/1/_history/2",
// possibly with a query; `base` prefixes such as "http://host/fhir/" are not accepted there.
struct EntryUrl {
    std::string type;
    std::string id;
    std::int64_t version = 0;
    std::string query;
};
std::optional<EntryUrl> parse_entry_url(std::string_view url);

}  // namespace helsebro::ingress
