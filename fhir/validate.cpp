#include "fhir/validate.hpp"

#include <algorithm>
#include <array>

#include "fhir/validate/reporter.hpp"
#include "fhir/validate/walker.hpp"

namespace helsebro::fhir {

std::vector<Issue> validate(const json::Value& resource, const ValidationOptions& options) {
    std::vector<Issue> issues;
    validation::Reporter reporter(issues, std::max<std::size_t>(options.max_issues, 1));
    validation::Walker walker(reporter, options);
    walker.root(resource);
    return issues;
}

bool has_errors(const std::vector<Issue>& issues) {
    return std::any_of(issues.begin(), issues.end(),
                       [](const Issue& i) { return i.severity == Severity::error || i.severity == Severity::fatal; });
}

bool is_checked_invariant(std::string_view element, std::string_view key) {
    // On every element: ele-1 (a value or children), ext-1 (on every extension element).
    if (key == "ele-1" || key == "ext-1") return true;
    const bool resource_root = element.find('.') == std::string_view::npos && model::type(element) != nullptr &&
                               model::type(element)->kind == model::Kind::resource;
    if (resource_root && (key == "dom-2" || key == "dom-3" || key == "dom-4" || key == "dom-5")) return true;
    if (element == "Reference") return key == "ref-1";
    if (element == "SimpleQuantity") return key == "sqty-1";  // SimpleQuantity.comparator has maximum 0
    if (element == "Parameters.parameter") return key == "inv-1";
    if (element == "Bundle") {
        constexpr std::array<std::string_view, 9> bundle{"bdl-1", "bdl-2",  "bdl-3",  "bdl-4", "bdl-7",
                                                         "bdl-9", "bdl-10", "bdl-11", "bdl-12"};
        return std::find(bundle.begin(), bundle.end(), key) != bundle.end();
    }
    if (element == "Bundle.entry") return key == "bdl-5" || key == "bdl-8";
    return false;
}

std::vector<InvariantUse> unchecked_invariants(const json::Value& resource) {
    std::vector<Issue> ignored;
    std::vector<InvariantUse> out;
    validation::Reporter reporter(ignored, static_cast<std::size_t>(-1));
    const ValidationOptions options;
    validation::Walker walker(reporter, options, &out);
    walker.root(resource);
    return out;
}

}  // namespace helsebro::fhir
