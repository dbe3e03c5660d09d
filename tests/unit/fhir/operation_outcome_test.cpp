#include "fhir/operation_outcome.hpp"

#include <gtest/gtest.h>

#include "fhir/json.hpp"

using namespace helsebro::fhir;

TEST(OperationOutcome, SyntaxErrorIssueHasExtensionsFirstAndLocation) {
    Issue issue;
    issue.severity = Severity::error;
    issue.code = "structure";
    issue.diagnostics = "A comma or a closing brace '}' was expected after the property value.";
    issue.expression = {"Bundle.entry[2].resource.subject"};
    issue.line = 3;
    issue.column = 17;
    const json::Value oo = operation_outcome({issue});
    EXPECT_EQ(json::write(oo),
              R"({"resourceType":"OperationOutcome","issue":[{"extension":[)"
              R"({"url":"http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-line","valueInteger":3},)"
              R"({"url":"http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-col","valueInteger":17}],)"
              R"("severity":"error","code":"structure",)"
              R"("diagnostics":"A comma or a closing brace '}' was expected after the property value.",)"
              R"("location":["Bundle.entry[2].resource.subject"],"expression":["Bundle.entry[2].resource.subject"]}]})");
}

TEST(OperationOutcome, PlainIssueHasNoExtensionOrLocation) {
    Issue a;
    a.code = "required";
    a.diagnostics = "Patient.name is missing.";
    a.expression = {"Patient.name", ""};  // empty strings are not valid FHIR and are dropped
    Issue b;
    b.severity = Severity::warning;
    b.code = "business-rule";
    const json::Value oo = operation_outcome({a, b});
    EXPECT_EQ(json::write(oo),
              R"({"resourceType":"OperationOutcome","issue":[)"
              R"({"severity":"error","code":"required","diagnostics":"Patient.name is missing.","expression":["Patient.name"]},)"
              R"({"severity":"warning","code":"business-rule"}]})");
    // It is also a value a parser accepts back.
    const auto reparsed = json::parse(json::write(oo));
    ASSERT_TRUE(reparsed.value);
    EXPECT_EQ(*reparsed.value, oo);
}

TEST(OperationOutcome, EmptyIssueListStillHasOneIssue) {
    const json::Value oo = operation_outcome({});
    ASSERT_NE(oo.find("issue"), nullptr);
    ASSERT_EQ(oo.find("issue")->items().size(), 1u);
    const json::Value& issue = oo.find("issue")->items()[0];
    EXPECT_EQ(issue.string_at("severity"), std::optional<std::string_view>("information"));
    EXPECT_EQ(issue.string_at("code"), std::optional<std::string_view>("informational"));
}

TEST(OperationOutcome, MissingCodeFallsBackToProcessing) {
    Issue i;
    i.diagnostics = "Something failed.";
    const json::Value oo = operation_outcome({i});
    EXPECT_EQ(oo.find("issue")->items()[0].string_at("code"), std::optional<std::string_view>("processing"));
}

TEST(OperationOutcome, LineWithoutExpressionAndEscapedDiagnostics) {
    Issue i;
    i.severity = Severity::fatal;
    i.code = "invalid";
    i.diagnostics = "Quote \" and backslash \\.";
    i.line = 1;
    const json::Value oo = operation_outcome({i});
    EXPECT_EQ(json::write(oo),
              R"({"resourceType":"OperationOutcome","issue":[{"extension":[)"
              R"({"url":"http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-line","valueInteger":1}],)"
              R"("severity":"fatal","code":"invalid","diagnostics":"Quote \" and backslash \\."}]})");
}

TEST(OperationOutcome, HugePositionsAreClampedToFhirInteger) {
    Issue i;
    i.code = "invalid";
    i.column = std::size_t{1} << 40;
    const json::Value oo = operation_outcome({i});
    const json::Value& ext = oo.find("issue")->items()[0].find("extension")->items()[0];
    EXPECT_EQ(ext.find("valueInteger")->text(), "2147483647");
    EXPECT_EQ(ext.string_at("url"),
              std::optional<std::string_view>("http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-col"));
}

TEST(OperationOutcome, SeverityNames) {
    EXPECT_EQ(to_string(Severity::fatal), "fatal");
    EXPECT_EQ(to_string(Severity::error), "error");
    EXPECT_EQ(to_string(Severity::warning), "warning");
    EXPECT_EQ(to_string(Severity::information), "information");
}
