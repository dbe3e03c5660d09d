// Where the validator is in the document and what it found there. The path is kept as a stack of
// segments (no string building while walking) and only rendered when an issue is reported:
// "Bundle.entry[2].resource.subject".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fhir/operation_outcome.hpp"

namespace helsebro::fhir::validation {

class Reporter {
public:
    Reporter(std::vector<Issue>& out, std::size_t max_issues) : out_(out), max_issues_(max_issues) {}

    // Segments point into the document or the model; they must outlive their time on the stack.
    void push(std::string_view name, std::int64_t index = no_index) { path_.push_back({name, index}); }
    void pop() { path_.pop_back(); }
    void set_index(std::int64_t index) { path_.back().index = index; }
    std::size_t depth() const { return path_.size(); }

    // The current path, with `child` appended when given.
    std::string path(std::string_view child = {}) const;

    // Reports at the current path (plus `child`). After max_issues errors, one last error says so and
    // nothing more is reported; warnings beyond max_issues are left out.
    void report(Severity severity, std::string_view code, std::string diagnostics, std::string_view child = {});
    void report_at(Severity severity, std::string_view code, std::string diagnostics, std::string expression);
    void error(std::string_view code, std::string diagnostics, std::string_view child = {}) {
        report(Severity::error, code, std::move(diagnostics), child);
    }
    bool full() const { return full_; }

    static constexpr std::int64_t no_index = -1;

private:
    struct Segment {
        std::string_view name;
        std::int64_t index;
    };
    std::vector<Issue>& out_;
    std::size_t max_issues_;
    std::size_t errors_ = 0;
    std::size_t warnings_ = 0;
    bool full_ = false;
    std::vector<Segment> path_;
};

// RAII for one path segment.
class PathScope {
public:
    PathScope(Reporter& r, std::string_view name, std::int64_t index = Reporter::no_index) : r_(r) {
        r_.push(name, index);
    }
    ~PathScope() { r_.pop(); }
    PathScope(const PathScope&) = delete;
    PathScope& operator=(const PathScope&) = delete;

private:
    Reporter& r_;
};

}  // namespace helsebro::fhir::validation
