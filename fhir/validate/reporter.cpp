#include "fhir/validate/reporter.hpp"

#include <utility>

namespace helsebro::fhir::validation {

std::string Reporter::path(std::string_view child) const {
    std::string p;
    for (const auto& s : path_) {
        if (!p.empty()) p += '.';
        p += s.name;
        if (s.index != no_index) {
            p += '[';
            p += std::to_string(s.index);
            p += ']';
        }
    }
    if (!child.empty()) {
        if (!p.empty()) p += '.';
        p += child;
    }
    return p;
}

void Reporter::report(Severity severity, std::string_view code, std::string diagnostics, std::string_view child) {
    if (full_) return;
    report_at(severity, code, std::move(diagnostics), path(child));
}

void Reporter::report_at(Severity severity, std::string_view code, std::string diagnostics, std::string expression) {
    if (full_) return;
    const bool is_error = severity == Severity::error || severity == Severity::fatal;
    // Warnings do not stop the validation (a valid Bundle may well have a thousand), but the list of
    // them stays bounded.
    if (!is_error && warnings_ >= max_issues_) return;
    Issue issue;
    issue.severity = severity;
    issue.code = std::string(code);
    issue.diagnostics = std::move(diagnostics);
    if (!expression.empty()) issue.expression.push_back(std::move(expression));
    out_.push_back(std::move(issue));
    if (!is_error) {
        ++warnings_;
        return;
    }
    if (++errors_ < max_issues_) return;
    full_ = true;
    Issue stop;
    stop.severity = Severity::error;
    stop.code = "too-costly";
    stop.diagnostics = "Validation stopped after " + std::to_string(max_issues_) + " errors; there may be more.";
    out_.push_back(std::move(stop));
}

}  // namespace helsebro::fhir::validation
