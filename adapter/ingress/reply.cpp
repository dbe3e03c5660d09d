#include "adapter/ingress/reply.hpp"

#include <ctime>

namespace helsebro::ingress {

http::Response resource_reply(int status, std::string body) {
    http::Response r;
    r.status = status;
    r.headers.push_back({"Content-Type", std::string(fhir_json)});
    r.body = std::move(body);
    return r;
}

http::Response outcome_reply(int status, const std::vector<fhir::Issue>& issues) {
    return resource_reply(status, fhir::json::write(fhir::operation_outcome(issues)));
}

http::Response outcome_reply(int status, std::string code, std::string diagnostics, std::string expression) {
    fhir::Issue issue;
    issue.severity = status >= 500 ? fhir::Severity::fatal : fhir::Severity::error;
    issue.code = std::move(code);
    issue.diagnostics = std::move(diagnostics);
    if (!expression.empty()) issue.expression.push_back(std::move(expression));
    return outcome_reply(status, {issue});
}

std::string etag(std::int64_t version) { return "W/\"" + std::to_string(version) + "\""; }

std::string versioned_path(std::string_view type, std::string_view id, std::int64_t version) {
    std::string s;
    s.reserve(type.size() + id.size() + 32);
    s.append(type).append("/").append(id).append("/_history/").append(std::to_string(version));
    return s;
}

std::string http_date(std::string_view instant) {
    std::tm tm{};
    std::string s(instant.substr(0, 19));
    if (!strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return {};
    return http::format_date(timegm(&tm));
}

void add_version_headers(http::Response& r, std::string_view base_url, std::string_view type,
                         std::string_view id, std::int64_t version, std::string_view last_updated,
                         bool location) {
    r.headers.push_back({"ETag", etag(version)});
    r.headers.push_back({"Last-Modified", http_date(last_updated)});
    if (location) r.headers.push_back({"Location", std::string(base_url) + "/" + versioned_path(type, id, version)});
}

std::string status_line(int status) {
    const char* reason = "";
    switch (status) {
        case 200: reason = "OK"; break;
        case 201: reason = "Created"; break;
        case 400: reason = "Bad Request"; break;
        case 404: reason = "Not Found"; break;
        case 405: reason = "Method Not Allowed"; break;
        case 409: reason = "Conflict"; break;
        case 410: reason = "Gone"; break;
        case 412: reason = "Precondition Failed"; break;
        case 422: reason = "Unprocessable Entity"; break;
        case 500: reason = "Internal Server Error"; break;
        default: break;
    }
    std::string s = std::to_string(status);
    if (*reason) s.append(" ").append(reason);
    return s;
}

}  // namespace helsebro::ingress
