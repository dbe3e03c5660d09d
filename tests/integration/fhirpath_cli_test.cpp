// `helsebro fhirpath`: the built binary on files and standard input, its output and exit codes.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/daemon.hpp"

namespace helsebro::testing {
namespace {

const char* const patient_json =
    R"({"resourceType":"Patient","name":[{"family":"Nordmann","given":["Kari","Ingrid"]}],"birthDate":"1980-02-29"})";
const char* const patient_xml =
    R"(<Patient xmlns="http://hl7.org/fhir"><name><family value="Nordmann"/><given value="Kari"/>)"
    R"(<given value="Ingrid"/></name><birthDate value="1980-02-29"/></Patient>)";

class FhirPathCommand : public ::testing::Test {
protected:
    void SetUp() override {
        std::filesystem::create_directories(dir);
        std::ofstream(dir / "patient.json") << patient_json;
    }
    void TearDown() override { std::filesystem::remove_all(dir); }

    CommandResult on_patient(const std::string& expression) {
        return run_command({"fhirpath", "--input", (dir / "patient.json").string(), expression});
    }

    std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("helsebro-fhirpath-" + std::to_string(::getpid()));
};

TEST_F(FhirPathCommand, PrintsEachItemWithItsType) {
    auto nodes = on_patient("Patient.name.given | Patient.birthDate");
    ASSERT_EQ(nodes.exit_code, 0) << nodes.err;
    EXPECT_EQ(nodes.out, R"([{"type":"string","value":"Kari"},{"type":"string","value":"Ingrid"},)"
                         R"({"type":"date","value":"1980-02-29"}])"
                         "\n");
    auto system = on_patient("Patient.name.given.count() + 0.5");
    ASSERT_EQ(system.exit_code, 0) << system.err;
    EXPECT_EQ(system.out, R"([{"type":"Decimal","value":2.5}])"
                          "\n");
    auto none = on_patient("Patient.deceased");
    EXPECT_EQ(none.out, "[]\n");
}

TEST_F(FhirPathCommand, ReadsXmlFromStdinAndBindsVariablesInOrder) {
    auto r = run_command({"fhirpath", "--input", "-", "--var", "given=Patient.name.given", "--var=n=%given.count()",
                          "--var", "greeting='Hei'", "%greeting + ' ' + %given.first() + ', ' + (%n * 2).toString()"},
                         std::chrono::seconds(10), patient_xml);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, R"([{"type":"String","value":"Hei Kari, 4"}])"
                     "\n");
}

TEST_F(FhirPathCommand, AWrongExpressionExits2AndPointsAtTheError) {
    auto syntax = on_patient("Patient.name.where(given = 'Kari'");
    EXPECT_EQ(syntax.exit_code, 2);
    EXPECT_EQ(syntax.out, "");
    EXPECT_NE(syntax.err.find("syntax error at 1:"), std::string::npos) << syntax.err;
    EXPECT_NE(syntax.err.find("  Patient.name.where(given = 'Kari'\n  "), std::string::npos) << syntax.err;
    EXPECT_NE(syntax.err.find("^\n"), std::string::npos) << syntax.err;

    auto semantic = on_patient("Patient.nmae");  // no such element on Patient
    EXPECT_EQ(semantic.exit_code, 2);
    EXPECT_NE(semantic.err.find("semantic error at 1:"), std::string::npos) << semantic.err;

    auto var = run_command({"fhirpath", "--input", (dir / "patient.json").string(), "--var", "x=(1", "%x"});
    EXPECT_EQ(var.exit_code, 2);
    EXPECT_NE(var.err.find("--var x: syntax error"), std::string::npos) << var.err;
}

TEST_F(FhirPathCommand, AFailedEvaluationExits3) {
    auto r = on_patient("Patient.name.given.single()");  // two given names
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("execution error"), std::string::npos) << r.err;
}

TEST_F(FhirPathCommand, BadInputExits1AndBadUsage2) {
    std::ofstream(dir / "broken.json") << "{\"resourceType\": ";
    std::ofstream(dir / "array.json") << "[1, 2]";
    EXPECT_EQ(run_command({"fhirpath", "--input", (dir / "broken.json").string(), "name"}).exit_code, 1);
    EXPECT_EQ(run_command({"fhirpath", "--input", (dir / "array.json").string(), "count()"}).exit_code, 1);
    EXPECT_EQ(run_command({"fhirpath", "--input", (dir / "missing.json").string(), "name"}).exit_code, 1);
    EXPECT_EQ(run_command({"fhirpath", "--input", (dir / "patient.json").string()}).exit_code, 2);
    EXPECT_EQ(run_command({"fhirpath", "name"}).exit_code, 2);
    EXPECT_EQ(run_command({"fhirpath", "--input", (dir / "patient.json").string(), "--var", "novalue", "1"}).exit_code, 2);
    auto help = run_command({"fhirpath", "--help"});
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_NE(help.out.find("Usage: helsebro fhirpath --input FILE [--var NAME=EXPRESSION]... EXPRESSION"),
              std::string::npos)
        << help.out;
}

TEST_F(FhirPathCommand, AnExpressionStartingWithAMinusGoesAfterTheDoubleDash) {
    auto r = run_command({"fhirpath", "--input", (dir / "patient.json").string(), "--", "-1 + 3"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, R"([{"type":"Integer","value":2}])"
                     "\n");
}

}  // namespace
}  // namespace helsebro::testing
