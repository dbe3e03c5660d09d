// The official FHIRPath test suite (fhir-test-cases r4/fhirpath/tests-fhir-r4.xml, in ../shared) against
// fhir/fhirpath. Every case runs, the 2.1.0 ones too: they are in the R4 file and the engine
// implements the 2.1 functions they test. Each failure is printed (group, name, expression, expected,
// got) with the pass rate, which must stay at or above 97%; a case that cannot run (its input does
// not parse) counts as failed, never as skipped.
//
// Evaluation follows fhirpath_suite.hpp: compiled against the input's resourceType for every case,
// not only the mode="strict" ones, because that is how Helsebro evaluates invariants; the
// non-strict cases must pass that way too.
#include <gtest/gtest.h>

#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/conformance/fhirpath_suite.hpp"

namespace suite = helsebro::conformance::fhirpath_suite;

namespace {

const std::filesystem::path suite_dir = HELSEBRO_FHIRPATH_SUITE_DIR;

struct Run {
    suite::Case c;
    suite::Verdict verdict;
};

// Loads and runs the suite once for all tests here; nullptr (after a test failure) when it cannot
// be read.
const std::vector<Run>* run_suite() {
    static const auto runs = [] {
        auto loaded = suite::load(suite_dir / "fhirpath" / "tests-fhir-r4.xml");
        std::optional<std::vector<Run>> out;
        if (!loaded.error.empty()) {
            ADD_FAILURE() << loaded.error;
            return out;
        }
        suite::Inputs inputs(suite_dir);
        out.emplace();
        for (auto& c : loaded.cases) {
            auto verdict = suite::run(c, inputs);
            out->push_back({std::move(c), std::move(verdict)});
        }
        return out;
    }();
    return runs ? &*runs : nullptr;
}

void print_failure(const Run& r) {
    std::cout << "FAIL " << r.c.group << "/" << r.c.name << ": " << r.c.expression << "\n"
              << "  expected: " << r.verdict.expected << "\n"
              << "  got:      " << r.verdict.got << "\n";
}

TEST(FhirPathSuite, PassesAtLeast97Percent) {
    const auto* runs = run_suite();
    ASSERT_NE(runs, nullptr);
    // 937 <test> elements, two of them inside comments: a different count means the reader is wrong.
    ASSERT_EQ(runs->size(), 935u);
    std::map<std::string, std::pair<int, int>> groups;  // name -> passed, total
    std::size_t passed = 0;
    for (const auto& r : *runs) {
        auto& [group_passed, group_total] = groups[r.c.group];
        ++group_total;
        if (r.verdict.passed) {
            ++passed, ++group_passed;
            continue;
        }
        print_failure(r);
    }
    for (const auto& [name, counts] : groups)
        if (counts.first != counts.second)
            std::cout << "group " << name << ": " << counts.first << " of " << counts.second << " passed\n";
    double rate = 100.0 * static_cast<double>(passed) / static_cast<double>(runs->size());
    std::cout << "FHIRPath suite: " << passed << " of " << runs->size() << " passed (" << std::fixed
              << std::setprecision(1) << rate << "%)\n";
    EXPECT_GE(rate, 97.0);
}

TEST(FhirPathSuite, EveryInvalidExpressionFailsWithItsKind) {
    const auto* runs = run_suite();
    ASSERT_NE(runs, nullptr);
    for (const auto& r : *runs) {
        if (r.c.invalid.empty()) continue;
        EXPECT_TRUE(r.verdict.passed) << r.c.name << ": " << r.c.expression << "\n  expected " << r.verdict.expected
                                      << ", got " << r.verdict.got;
    }
}

}  // namespace
