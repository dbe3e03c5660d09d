#include "fhir/operation_outcome.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>

namespace helsebro::fhir {

namespace {

constexpr std::string_view line_extension = "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-line";
constexpr std::string_view column_extension = "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-col";

json::Value integer_extension(std::string_view url, std::size_t n) {
    // valueInteger is a signed 32-bit FHIR integer.
    const auto clamped = std::min<std::size_t>(n, static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()));
    json::Value ext = json::Value::object();
    ext.set("url", json::Value::string(std::string(url)));
    ext.set("valueInteger", json::Value::number(std::to_string(clamped)));
    return ext;
}

// FHIR forbids empty strings and empty arrays, so empty entries are dropped rather than written.
json::Value string_array(const std::vector<std::string>& strings) {
    json::Value a = json::Value::array();
    for (const auto& s : strings)
        if (!s.empty()) a.push_back(json::Value::string(s));
    return a;
}

json::Value issue_object(const Issue& issue) {
    json::Value o = json::Value::object();
    // Element order follows the definition of OperationOutcome.issue (extension first).
    if (issue.line || issue.column) {
        json::Value ext = json::Value::array();
        if (issue.line) ext.push_back(integer_extension(line_extension, *issue.line));
        if (issue.column) ext.push_back(integer_extension(column_extension, *issue.column));
        o.set("extension", std::move(ext));
    }
    o.set("severity", json::Value::string(std::string(to_string(issue.severity))));
    // code is 1..1; a missing one is a caller bug, but the resource must still be valid.
    o.set("code", json::Value::string(issue.code.empty() ? std::string("processing") : issue.code));
    if (!issue.diagnostics.empty()) o.set("diagnostics", json::Value::string(issue.diagnostics));
    json::Value expression = string_array(issue.expression);
    if (!expression.items().empty()) {
        // location is deprecated in R4 but older clients still read it for syntax errors.
        if (issue.line || issue.column) o.set("location", expression);
        o.set("expression", std::move(expression));
    }
    return o;
}

}  // namespace

Issue error(std::string code, std::string diagnostics, std::string expression) {
    Issue i;
    i.code = std::move(code);
    i.diagnostics = std::move(diagnostics);
    if (!expression.empty()) i.expression.push_back(std::move(expression));
    return i;
}

std::string_view to_string(Severity s) {
    switch (s) {
        case Severity::fatal: return "fatal";
        case Severity::error: return "error";
        case Severity::warning: return "warning";
        case Severity::information: return "information";
    }
    return "error";
}

json::Value operation_outcome(const std::vector<Issue>& issues) {
    json::Value oo = json::Value::object();
    oo.set("resourceType", json::Value::string("OperationOutcome"));
    json::Value list = json::Value::array();
    list.items().reserve(std::max<std::size_t>(issues.size(), 1));
    // Errors first, in the order found: what refused the request is what a reader sees first.
    std::vector<const Issue*> ordered;
    for (const auto& issue : issues) ordered.push_back(&issue);
    std::stable_sort(ordered.begin(), ordered.end(),
                     [](const Issue* a, const Issue* b) { return a->severity < b->severity; });
    for (const Issue* issue : ordered) list.push_back(issue_object(*issue));
    if (issues.empty()) {
        Issue ok;
        ok.severity = Severity::information;
        ok.code = "informational";
        ok.diagnostics = "No issues were found.";
        list.push_back(issue_object(ok));
    }
    oo.set("issue", std::move(list));
    return oo;
}

}  // namespace helsebro::fhir
