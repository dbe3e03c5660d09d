#include "adapter/cli/validate.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "fhir/json.hpp"
#include "fhir/operation_outcome.hpp"
#include "fhir/validate.hpp"

namespace helsebro::cli {

namespace {

using fhir::json::Value;

struct Checked {
    std::vector<fhir::Issue> issues;
    bool valid = false;
};

Checked check(const std::string& text) {
    // Files are trusted more than network input, but a hostile one must still not blow the stack.
    fhir::json::ParseLimits limits;
    limits.max_depth = 512;
    auto parsed = fhir::json::parse(text, limits);
    if (!parsed.value) {
        const auto& e = parsed.error;
        auto issue = fhir::error("structure", "Not valid JSON at line " + std::to_string(e.line) + ", column " +
                                                  std::to_string(e.column) + ": " + e.message,
                                 e.path);
        issue.line = e.line;
        issue.column = e.column;
        return {{issue}, false};
    }
    Checked c;
    c.issues = fhir::validate(*parsed.value);
    c.valid = !fhir::has_errors(c.issues);
    if (c.issues.empty()) {
        fhir::Issue ok;
        ok.severity = fhir::Severity::information;
        ok.code = "informational";
        ok.diagnostics = "Valid FHIR R4 (structure, types, cardinality, formats, required bindings; FHIRPath "
                         "invariants are not evaluated yet).";
        c.issues.push_back(ok);
    }
    return c;
}

}  // namespace

int validate_files(const std::vector<std::string>& files) {
    int status = 0;
    std::vector<std::pair<std::string, Value>> outcomes;
    for (const auto& file : files) {
        std::ifstream in(file, std::ios::binary);
        if (!in) {
            std::cerr << "helsebro validate: cannot read " << file << "\n";
            return 2;
        }
        std::ostringstream text;
        text << in.rdbuf();
        if (file.ends_with(".xml")) {
            std::cerr << "helsebro validate: " << file << ": FHIR XML is not supported yet; convert it to JSON\n";
            return 2;
        }
        auto checked = check(text.str());
        if (!checked.valid) status = 1;
        outcomes.emplace_back(file, fhir::operation_outcome(checked.issues));
    }
    if (outcomes.size() == 1) {
        std::cout << fhir::json::write(outcomes.front().second) << "\n";
        return status;
    }
    Value bundle = Value::object();
    bundle.set("resourceType", Value::string("Bundle"));
    bundle.set("type", Value::string("collection"));
    Value entries = Value::array();
    for (auto& [file, outcome] : outcomes) {
        Value entry = Value::object();
        entry.set("fullUrl", Value::string("file://" + std::filesystem::absolute(file).string()));
        entry.set("resource", std::move(outcome));
        entries.push_back(std::move(entry));
    }
    bundle.set("entry", std::move(entries));
    std::cout << fhir::json::write(bundle) << "\n";
    return status;
}

}  // namespace helsebro::cli
