// Validates every official FHIR R4 example (npm package hl7.fhir.r4.examples@4.0.1, fetched into
// .cache/fhir by scripts/fetch-fhir-package.sh; never committed) and expects no errors, except for the
// examples in invalid-examples.txt: each of those breaks a rule of the specification, and the list
// holds the exact errors we report for it. Any other error is a validator bug to fix. Invariants the
// engine could not evaluate on an example (warnings "<key>: could not be evaluated") are counted and
// listed by key: on the official examples each would be an engine or definition problem to look at.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "fhir/json.hpp"
#include "tests/conformance/examples.hpp"
#include "fhir/validate.hpp"

namespace fs = std::filesystem;
using helsebro::conformance::example_files;
using helsebro::conformance::package_dir;
using helsebro::conformance::read_file;
using helsebro::fhir::Issue;
using helsebro::fhir::Severity;

namespace {

// One error as the list writes it: "expression | code | diagnostics".
std::string describe(const Issue& issue) {
    return (issue.expression.empty() ? std::string() : issue.expression.front()) + " | " + issue.code + " | " +
           issue.diagnostics;
}

struct Exceptions {
    std::map<std::string, std::multiset<std::string>> errors;  // file -> expected errors
    std::vector<std::string> problems;                         // malformed lines
};

// invalid-examples.txt: "file | expression | code | diagnostics" lines, each group of lines for a file
// preceded by '#' comment lines that name the rule it breaks.
Exceptions read_exceptions(const fs::path& list) {
    Exceptions ex;
    std::ifstream in(list);
    std::string line;
    bool commented = false;
    std::size_t number = 0;
    std::string last_file;
    while (std::getline(in, line)) {
        ++number;
        if (line.empty()) {
            commented = false;
            continue;
        }
        if (line.starts_with('#')) {
            commented = true;
            continue;
        }
        const auto bar = line.find(" | ");
        if (bar == std::string::npos) {
            ex.problems.push_back("line " + std::to_string(number) +
                                  ": expected 'file | expression | code | diagnostics'");
            continue;
        }
        const std::string file = line.substr(0, bar);
        if (!commented && file != last_file) {
            ex.problems.push_back("line " + std::to_string(number) + ": " + file +
                                  " has no comment saying which rule it breaks");
        }
        last_file = file;
        ex.errors[file].insert(line.substr(bar + 3));
    }
    return ex;
}

}  // namespace

TEST(OfficialExamples, ValidateWithoutUnexplainedErrors) {
    const fs::path dir = package_dir();
    if (!fs::exists(dir / "Bundle-resources.json")) {
        GTEST_SKIP() << "The FHIR R4 examples are not in " << dir
                     << "; run scripts/fetch-fhir-package.sh (npm pack hl7.fhir.r4.examples@4.0.1) to validate them.";
    }
    const Exceptions exceptions = read_exceptions(fs::path(HELSEBRO_CONFORMANCE_DIR) / "invalid-examples.txt");
    for (const auto& p : exceptions.problems) ADD_FAILURE() << "invalid-examples.txt " << p;

    const auto files = example_files(dir);
    EXPECT_EQ(files.size(), 5306u) << "hl7.fhir.r4.examples 4.0.1 has 5,306 examples; is the package in " << dir
                                   << " complete?";
    std::size_t passed = 0, listed = 0, warnings = 0, unexplained_files = 0;
    std::map<std::string, std::size_t> not_evaluated;  // invariant key -> how often
    std::set<std::string> seen;
    std::chrono::steady_clock::duration parse_time{}, validate_time{};
    std::ostringstream failures;
    for (const auto& path : files) {
        const std::string name = path.filename().string();
        seen.insert(name);
        const std::string text = read_file(path);
        const auto t0 = std::chrono::steady_clock::now();
        const auto parsed = helsebro::fhir::json::parse(text);
        const auto t1 = std::chrono::steady_clock::now();
        parse_time += t1 - t0;
        if (!parsed.value) {
            failures << name << ": does not parse: " << parsed.error.message << "\n";
            ++unexplained_files;
            continue;
        }
        const auto issues = helsebro::fhir::validate(*parsed.value);
        validate_time += std::chrono::steady_clock::now() - t1;

        std::multiset<std::string> errors;
        for (const auto& issue : issues) {
            if (issue.severity == Severity::error || issue.severity == Severity::fatal) {
                errors.insert(describe(issue));
            } else {
                ++warnings;
                if (issue.code == "exception") {
                    not_evaluated[issue.diagnostics.substr(0, issue.diagnostics.find(':'))] += 1;
                    failures << name << ": invariant not evaluated: " << describe(issue) << "\n";
                }
            }
        }
        const auto expected_it = exceptions.errors.find(name);
        const std::multiset<std::string> expected =
            expected_it == exceptions.errors.end() ? std::multiset<std::string>{} : expected_it->second;
        if (errors == expected) {
            ++(expected.empty() ? passed : listed);
            continue;
        }
        ++unexplained_files;
        for (const auto& e : std::set<std::string>(errors.begin(), errors.end())) {
            for (auto n = expected.count(e); n < errors.count(e); ++n)
                failures << name << ": unexpected error: " << e << "\n";
        }
        for (const auto& e : std::set<std::string>(expected.begin(), expected.end())) {
            for (auto n = errors.count(e); n < expected.count(e); ++n) {
                failures << name << ": listed error not reported: " << e << "\n";
            }
        }
    }
    for (const auto& [file, errs] : exceptions.errors) {
        if (!seen.count(file)) failures << file << ": listed in invalid-examples.txt but not in the package\n";
    }

    const auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
    std::cout << "[ examples ] " << files.size() << " examples: " << passed << " valid, " << listed
              << " invalid as listed in invalid-examples.txt, " << unexplained_files << " with unexplained errors; "
              << warnings << " warnings\n"
              << "[ fhirpath ] invariants that could not be evaluated: " << not_evaluated.size() << " keys";
    for (const auto& [key, n] : not_evaluated) std::cout << ", " << key << " " << n << "x";
    std::cout << "\n"
              << "[ timing   ] parse " << ms(parse_time) << " ms, validate " << ms(validate_time) << " ms\n";
    RecordProperty("examples", static_cast<int>(files.size()));
    RecordProperty("validate_ms", static_cast<int>(ms(validate_time)));
    const std::string report = failures.str();
    EXPECT_TRUE(report.empty()) << report;
    EXPECT_EQ(unexplained_files, 0u);
}
