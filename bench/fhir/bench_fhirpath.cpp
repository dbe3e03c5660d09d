// fhir/fhirpath on the official FHIRPath suite, timed like bench/fhir/fhirpath_peer.js times
// fhirpath.js: every case that compiles, on its input, compiled once before the clock starts; one
// warm-up round, then ROUNDS timed ones. The pass rate is the conformance test's
// (tests/conformance/fhirpath_suite.cpp judges both).
// Usage: bench_fhirpath SUITE_DIR ROUNDS   -> {"cases","timed","evaluations_per_s","passed"}
//        bench_fhirpath --export SUITE_DIR -> the cases as JSON, for the peer (it reads no XML)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "fhir/fhirpath.hpp"
#include "fhir/json.hpp"
#include "tests/conformance/fhirpath_suite.hpp"

namespace fs = std::filesystem;
namespace fp = helsebro::fhir::fhirpath;
namespace suite = helsebro::conformance::fhirpath_suite;
using helsebro::fhir::json::Value;

namespace {

// The peer gets every input as FHIR JSON (bench/fhirpath.sh converts the XML ones).
Value export_case(const suite::Case& c) {
    Value v = Value::object();
    v.set("group", Value::string(c.group));
    v.set("name", Value::string(c.name));
    v.set("expression", Value::string(c.expression));
    v.set("input", c.input_file.empty() ? Value() : Value::string(fs::path(c.input_file).replace_extension(".json").string()));
    v.set("invalid", Value::string(c.invalid));
    v.set("predicate", Value::boolean(c.predicate));
    v.set("ordered", Value::boolean(c.ordered));
    Value outputs = Value::array();
    for (const auto& o : c.outputs) {
        Value out = Value::object();
        out.set("type", Value::string(o.type));
        out.set("text", Value::string(o.text));
        outputs.push_back(std::move(out));
    }
    v.set("outputs", std::move(outputs));
    return v;
}

struct Timed {
    fp::Expression expression;
    const Value* input;  // nullptr: no input
};

std::vector<Timed> compile_all(const std::vector<suite::Case>& cases, suite::Inputs& inputs) {
    std::vector<Timed> timed;
    for (const auto& c : cases) {
        std::string error;
        const Value* input = c.input_file.empty() ? nullptr : inputs.get(c.input_file, error);
        auto compiled = fp::compile(c.expression, suite::compile_options(input));
        if (error.empty() && compiled.expression) timed.push_back({std::move(*compiled.expression), input});
    }
    return timed;
}

double evaluations_per_second(const std::vector<Timed>& timed, int rounds) {
    const auto env = suite::environment();
    const Value none;
    auto round = [&] {
        for (const auto& t : timed) (void)t.expression.evaluate(t.input ? *t.input : none, env);
    };
    round();  // warm-up, as the peer's JIT gets
    auto t0 = std::chrono::steady_clock::now();
    for (int r = 0; r < rounds; ++r) round();
    std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - t0;
    return static_cast<double>(timed.size()) * rounds / elapsed.count();
}

}  // namespace

int main(int argc, char** argv) {
    bool exporting = argc == 3 && std::string(argv[1]) == "--export";
    if (argc != 3) {
        std::fprintf(stderr, "usage: bench_fhirpath SUITE_DIR ROUNDS | bench_fhirpath --export SUITE_DIR\n");
        return 2;
    }
    fs::path dir = exporting ? argv[2] : argv[1];
    auto loaded = suite::load(dir / "fhirpath" / "tests-fhir-r4.xml");
    if (!loaded.error.empty()) {
        std::fprintf(stderr, "bench_fhirpath: %s\n", loaded.error.c_str());
        return 1;
    }
    if (exporting) {
        Value cases = Value::array();
        for (const auto& c : loaded.cases) cases.push_back(export_case(c));
        std::cout << helsebro::fhir::json::write(cases) << "\n";
        return 0;
    }
    suite::Inputs inputs(dir);
    auto timed = compile_all(loaded.cases, inputs);
    double rate = evaluations_per_second(timed, std::atoi(argv[2]));
    std::size_t passed = 0;
    for (const auto& c : loaded.cases) passed += suite::run(c, inputs).passed;
    std::printf("{\"cases\":%zu,\"timed\":%zu,\"evaluations_per_s\":%.0f,\"passed\":%zu}\n", loaded.cases.size(),
                timed.size(), rate, passed);
}
