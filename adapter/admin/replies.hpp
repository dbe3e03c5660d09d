// Private to the admin room: its answers (JSON for what it reports, OperationOutcome for what goes
// wrong) and its logger.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <vector>

#include "adapter/http/http.hpp"
#include "fhir/json.hpp"
#include "fhir/operation_outcome.hpp"

namespace helsebro::admin::detail {

inline http::Response reply(int status, const fhir::json::Value& body, const char* content_type = "application/json") {
    http::Response r;
    r.status = status;
    r.headers.push_back({"Content-Type", content_type});
    r.body = fhir::json::write(body);
    return r;
}

inline http::Response outcome(int status, std::vector<fhir::Issue> issues) {
    return reply(status, fhir::operation_outcome(issues), "application/fhir+json");
}

inline http::Response problem(int status, std::string code, std::string text) {
    return outcome(status, {fhir::error(std::move(code), std::move(text))});
}

inline std::shared_ptr<spdlog::logger> logger() {
    auto log = spdlog::get("admin");
    return log ? log : spdlog::default_logger();
}

}  // namespace helsebro::admin::detail
