// The official FHIRPath test suite (fhir-test-cases r4/fhirpath/tests-fhir-r4.xml): reading it, and
// judging fhir/fhirpath's answer to one of its cases. Shared by the conformance test and
// bench/fhir/bench_fhirpath.cpp, so the benchmark's pass rate is the test's.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fhir/fhirpath.hpp"
#include "fhir/json.hpp"

namespace helsebro::conformance::fhirpath_suite {

struct Output {
    std::string type;  // "boolean", "date", "Quantity", ...; empty when the suite gives none
    std::string text;  // as written: "true", "@1974-12-25", "4.5 'mg'"
};

struct Case {
    std::string group;
    std::string name;
    std::string expression;
    std::string input_file;  // in the suite's r4/ directory; empty: evaluated on no input
    std::string invalid;     // "syntax", "semantic", "execution", "true" (any error), or empty
    bool predicate = false;  // the result is turned into a boolean, as exists() would
    bool ordered = true;     // ordered="false": the outputs may come in any order
    std::vector<Output> outputs;
};

struct Suite {
    std::vector<Case> cases;
    std::string error;  // set when the file cannot be read
};

// Reads the suite with libxml2: no network, no DTD. Commented-out tests are no tests.
Suite load(const std::filesystem::path& file);

// The cases' inputs, parsed once: XML with fhir::xml::parse, JSON with fhir::json::parse.
class Inputs {
public:
    explicit Inputs(std::filesystem::path dir) : dir_(std::move(dir)) {}
    // nullptr (and `error` set) when the file cannot be read or parsed.
    const fhir::json::Value* get(const std::string& file, std::string& error);

private:
    struct Parsed {
        std::optional<fhir::json::Value> value;
        std::string error;
    };
    static Parsed parse(const std::filesystem::path& path);

    std::filesystem::path dir_;
    std::map<std::string, Parsed> parsed_;
};

// How the suite is evaluated: always against the input's resourceType (as a caller evaluating an
// invariant on a known resource would compile it), with the clock fixed so runs are reproducible;
// today()/now() cases compare relative to the clock, so any fixed instant passes them.
fhir::fhirpath::CompileOptions compile_options(const fhir::json::Value* input);
fhir::fhirpath::Environment environment();

struct Verdict {
    bool passed = false;
    std::string expected;  // both rendered for the failure report
    std::string got;
};

// Compiles and evaluates `c` on its input and compares with its outputs. An input that cannot be
// read fails the case.
Verdict run(const Case& c, Inputs& inputs);

}  // namespace helsebro::conformance::fhirpath_suite
