#include "fhir/validate.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "fhir/json.hpp"
#include "fhir/model/model.hpp"
#include "fhir/validate/primitives.hpp"
#include "fhir/validate/references.hpp"

namespace fhir = helsebro::fhir;
namespace json = helsebro::fhir::json;
namespace validation = helsebro::fhir::validation;
using fhir::Issue;
using fhir::Severity;
using fhir::ValidationOptions;

namespace {

json::Value parse(std::string_view text) {
    auto r = json::parse(text);
    if (!r.value) ADD_FAILURE() << "test JSON does not parse: " << r.error.message << " in " << text;
    return r.value ? std::move(*r.value) : json::Value();
}

std::vector<Issue> check(std::string_view text, const ValidationOptions& options = {}) {
    return fhir::validate(parse(text), options);
}

std::string dump(const std::vector<Issue>& issues) {
    std::ostringstream out;
    for (const auto& i : issues) {
        out << "  " << fhir::to_string(i.severity) << " " << i.code << " at "
            << (i.expression.empty() ? std::string("(none)") : i.expression.front()) << ": " << i.diagnostics << "\n";
    }
    return out.str();
}

// The issues hold exactly one error, with this path and code (and `text` in its diagnostics).
::testing::AssertionResult one_error(const std::vector<Issue>& issues, std::string_view path, std::string_view code,
                                     std::string_view text = {}) {
    std::vector<const Issue*> errors;
    for (const auto& i : issues) {
        if (i.severity == Severity::error || i.severity == Severity::fatal) errors.push_back(&i);
    }
    if (errors.size() != 1) {
        return ::testing::AssertionFailure()
               << "expected one error (" << code << " at " << path << "), got " << errors.size() << ":\n"
               << dump(issues);
    }
    const Issue& i = *errors.front();
    const std::string expression = i.expression.empty() ? std::string() : i.expression.front();
    if (expression != path || i.code != code || i.diagnostics.find(text) == std::string::npos) {
        return ::testing::AssertionFailure()
               << "expected " << code << " at " << path << " mentioning '" << text << "', got:\n"
               << dump(issues);
    }
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult no_errors(const std::vector<Issue>& issues) {
    if (!fhir::has_errors(issues)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "unexpected errors:\n" << dump(issues);
}

// An error with this path and code is among the issues.
::testing::AssertionResult has_error(const std::vector<Issue>& issues, std::string_view path, std::string_view code) {
    for (const auto& i : issues) {
        if (i.severity == Severity::error && i.code == code && !i.expression.empty() && i.expression.front() == path) {
            return ::testing::AssertionSuccess();
        }
    }
    return ::testing::AssertionFailure() << "no " << code << " error at " << path << " among:\n" << dump(issues);
}

// The issues without dom-6 (narrative SHOULD be present), a warning most test resources earn and most
// tests are not about.
std::vector<Issue> but_narrative(std::vector<Issue> issues) {
    std::erase_if(issues, [](const Issue& i) { return i.diagnostics.starts_with("dom-6:"); });
    return issues;
}

std::string patient(std::string_view members) {
    return R"({"resourceType":"Patient","id":"p1")" + std::string(members.empty() ? "" : ",") + std::string(members) +
           "}";
}

std::string observation(std::string_view members) {
    return R"({"resourceType":"Observation","status":"final","code":{"text":"x"})" +
           std::string(members.empty() ? "" : ",") + std::string(members) + "}";
}

std::string bundle(std::string_view type, std::string_view members) {
    return R"({"resourceType":"Bundle","type":")" + std::string(type) + "\"" + std::string(members.empty() ? "" : ",") +
           std::string(members) + "}";
}

}  // namespace

// --- resources --------------------------------------------------------------------------------

TEST(Validate, AValidPatientHasNoIssues) {
    const auto issues = check(patient(
        R"("meta":{"lastUpdated":"2024-01-02T03:04:05.123+01:00"},"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Kari</div>"},)"
        R"("active":true,"name":[{"use":"official","family":"Nordmann","given":["Kari","Ola"]}],"gender":"female",)"
        R"("birthDate":"1980-02-29","deceasedBoolean":false,"multipleBirthInteger":2,)"
        R"("telecom":[{"system":"phone","value":"+47 22 22 22 22"}],"generalPractitioner":[{"reference":"Practitioner/gp-1"}])"));
    EXPECT_TRUE(issues.empty()) << dump(issues);
}

TEST(Validate, TheDocumentMustBeAResourceObject) {
    EXPECT_TRUE(one_error(check("[1,2]"), "", "structure", "JSON object"));
    EXPECT_TRUE(one_error(check(R"({"id":"x"})"), "", "structure", "resourceType"));
    EXPECT_TRUE(one_error(check(R"({"resourceType":"Patientx"})"), "resourceType", "structure", "not a known"));
    EXPECT_TRUE(one_error(check(R"({"resourceType":"DomainResource"})"), "resourceType", "structure"));
    EXPECT_TRUE(one_error(check(R"({"resourceType":7})"), "resourceType", "structure"));
}

TEST(Validate, UnknownElementsAreErrors) {
    EXPECT_TRUE(one_error(check(patient(R"("nickname":"K")")), "Patient.nickname", "structure", "Unknown element"));
    EXPECT_TRUE(one_error(check(patient(R"("name":[{"family":"N","middle":"x"}])")), "Patient.name[0].middle",
                          "structure", "'middle'"));
    EXPECT_TRUE(one_error(check(patient(R"("contact":[{"name":{"family":"N"},"foo":1}])")), "Patient.contact[0].foo",
                          "structure"));
    // Names are case-sensitive.
    EXPECT_TRUE(one_error(check(patient(R"("BirthDate":"1980")")), "Patient.BirthDate", "structure"));
}

TEST(Validate, ResourceTypeOnlyOnResources) {
    EXPECT_TRUE(one_error(check(patient(R"("name":[{"resourceType":"HumanName","family":"N"}])")),
                          "Patient.name[0].resourceType", "structure", "only allowed on a resource"));
}

TEST(Validate, FhirCommentsAreNotR4) {
    EXPECT_TRUE(one_error(check(patient(R"("fhir_comments":["a comment"])")), "Patient.fhir_comments", "structure",
                          "fhir_comments"));
    EXPECT_TRUE(one_error(check(patient(R"("name":[{"fhir_comments":["x"],"family":"N"}])")),
                          "Patient.name[0].fhir_comments", "structure"));
}

// --- JSON kinds -------------------------------------------------------------------------------

TEST(Validate, PrimitivesHaveTheirJsonKind) {
    EXPECT_TRUE(one_error(check(patient(R"("active":"true")")), "Patient.active", "structure", "JSON boolean"));
    EXPECT_TRUE(one_error(check(patient(R"("multipleBirthInteger":"2")")), "Patient.multipleBirthInteger", "structure",
                          "JSON number"));
    EXPECT_TRUE(one_error(check(observation(R"("valueQuantity":{"value":"1.5"})")), "Observation.valueQuantity.value",
                          "structure", "JSON number"));
    EXPECT_TRUE(
        one_error(check(patient(R"("name":[{"family":12}])")), "Patient.name[0].family", "structure", "JSON string"));
    EXPECT_TRUE(one_error(check(patient(R"("birthDate":19800101)")), "Patient.birthDate", "structure"));
    EXPECT_TRUE(one_error(check(patient(R"("gender":{"value":"male"})")), "Patient.gender", "structure"));
    EXPECT_TRUE(no_errors(check(patient(R"("active":false,"multipleBirthInteger":-1)"))));
}

TEST(Validate, ComplexTypesAreObjects) {
    EXPECT_TRUE(
        one_error(check(patient(R"("maritalStatus":"M")")), "Patient.maritalStatus", "structure", "JSON object"));
    EXPECT_TRUE(one_error(check(patient(R"("name":["Kari"])")), "Patient.name[0]", "structure", "JSON object"));
}

TEST(Validate, RepeatingElementsAreArraysAndOthersAreNot) {
    EXPECT_TRUE(one_error(check(patient(R"("name":{"family":"N"})")), "Patient.name", "structure", "must be an array"));
    EXPECT_TRUE(
        one_error(check(patient(R"("gender":["male"])")), "Patient.gender", "structure", "must not be an array"));
    EXPECT_TRUE(one_error(check(patient(R"("maritalStatus":[{"text":"x"}])")), "Patient.maritalStatus", "structure",
                          "must not be an array"));
    EXPECT_TRUE(one_error(check(patient(R"("name":[{"given":"Kari"}])")), "Patient.name[0].given", "structure",
                          "must be an array"));
}

TEST(Validate, NoEmptyValues) {
    EXPECT_TRUE(one_error(check(patient(R"("gender":"")")), "Patient.gender", "structure", "empty"));
    EXPECT_TRUE(one_error(check(patient(R"("maritalStatus":{})")), "Patient.maritalStatus", "structure", "empty"));
    EXPECT_TRUE(one_error(check(patient(R"("name":[])")), "Patient.name", "structure", "empty"));
    EXPECT_TRUE(one_error(check(patient(R"("name":[{"given":[""]}])")), "Patient.name[0].given[0]", "structure"));
}

TEST(Validate, NullOnlyAsAnArrayPlaceholder) {
    EXPECT_TRUE(one_error(check(patient(R"("gender":null)")), "Patient.gender", "structure", "null"));
    EXPECT_TRUE(one_error(check(patient(R"("name":[null])")), "Patient.name[0]", "structure", "null"));
    EXPECT_TRUE(one_error(check(patient(R"("name":[{"given":["A",null]}])")), "Patient.name[0].given[1]", "structure"));
    EXPECT_TRUE(
        one_error(check(patient(R"("maritalStatus":{"text":null})")), "Patient.maritalStatus.text", "structure"));
}

// --- primitive extensions ---------------------------------------------------------------------

TEST(Validate, PrimitiveExtensions) {
    constexpr std::string_view ext = R"({"extension":[{"url":"http://example.org/a","valueString":"x"}]})";
    EXPECT_TRUE(no_errors(check(patient(R"("birthDate":"1980","_birthDate":)" + std::string(ext)))));
    // The extension alone stands for the element.
    EXPECT_TRUE(no_errors(check(patient(R"("_birthDate":)" + std::string(ext)))));
    EXPECT_TRUE(
        no_errors(check(patient(R"("_gender":{"id":"g1","extension":[{"url":"http://e.org","valueCode":"x"}]})"))));
    EXPECT_TRUE(one_error(check(patient(R"("_birthDate":"x")")), "Patient.birthDate", "structure", "JSON object"));
    EXPECT_TRUE(one_error(check(patient(R"("_birthDate":{"id":"a"})")), "Patient.birthDate", "invariant", "ele-1"));
    EXPECT_TRUE(one_error(check(patient(R"("birthDate":"1980","_birthDate":{})")), "Patient.birthDate", "structure"));
    EXPECT_TRUE(one_error(check(patient(R"("birthDate":"1980","_birthDate":{"value":"1981"})")),
                          "Patient.birthDate.value", "structure", "Unknown element"));
    // Extensions inside are validated as extensions.
    EXPECT_TRUE(one_error(check(patient(R"("_birthDate":{"extension":[{"valueString":"x"}]})")),
                          "Patient.birthDate.extension[0].url", "required"));
    // Only primitives have `_name`; Resource.id and the xhtml div have none.
    EXPECT_TRUE(one_error(check(patient(R"("_name":[{"id":"x"}])")), "Patient._name", "structure"));
    EXPECT_TRUE(one_error(check(patient(R"("_id":{"id":"x"})")), "Patient._id", "structure"));
    EXPECT_TRUE(one_error(check(patient(R"("_nickname":{"id":"x"})")), "Patient._nickname", "structure"));
}

TEST(Validate, PrimitiveExtensionArraysAlignWithTheValues) {
    constexpr std::string_view e = R"({"extension":[{"url":"http://example.org/a","valueString":"x"}]})";
    const std::string aligned = R"("name":[{"given":["Kari",null],"_given":[null,)" + std::string(e) + "]}]";
    EXPECT_TRUE(no_errors(check(patient(aligned))));
    const std::string only_ext = R"("name":[{"_given":[)" + std::string(e) + "]}]";
    EXPECT_TRUE(no_errors(check(patient(only_ext))));
    const std::string short_ext = R"("name":[{"given":["A","B"],"_given":[)" + std::string(e) + "]}]";
    EXPECT_TRUE(one_error(check(patient(short_ext)), "Patient.name[0].given", "structure", "same length"));
    const std::string both_null = R"("name":[{"given":["A",null],"_given":[)" + std::string(e) + ",null]}]";
    EXPECT_TRUE(one_error(check(patient(both_null)), "Patient.name[0].given[1]", "structure", "null"));
    EXPECT_TRUE(one_error(check(patient(R"("name":[{"given":["A"],"_given":{"id":"x"}}])")), "Patient.name[0].given",
                          "structure", "array"));
}

// --- choice types -----------------------------------------------------------------------------

TEST(Validate, ChoiceTypes) {
    EXPECT_TRUE(no_errors(check(observation(R"("valueQuantity":{"value":1.5,"unit":"mg"})"))));
    EXPECT_TRUE(no_errors(check(observation(R"("valueDateTime":"2024-01-01")"))));
    EXPECT_TRUE(one_error(check(observation(R"("valueDatetime":"2024-01-01")")), "Observation.valueDatetime",
                          "structure", "Unknown element"));
    EXPECT_TRUE(one_error(check(observation(R"("valueMoney":{"value":1})")), "Observation.valueMoney", "structure"));
    EXPECT_TRUE(one_error(check(observation(R"("valueString":"a","valueBoolean":true)")), "Observation.valueBoolean",
                          "structure", "Only one of"));
    EXPECT_TRUE(one_error(
        check(observation(
            R"("valueString":"a","_valueBoolean":{"id":"b","extension":[{"url":"http://e.org","valueCode":"x"}]})")),
        "Observation._valueBoolean", "structure", "Only one of"));
    EXPECT_TRUE(one_error(check(observation(R"("valueQuantity":{"value":"x"})")), "Observation.valueQuantity.value",
                          "structure"));
}

// --- cardinality ------------------------------------------------------------------------------

TEST(Validate, RequiredElements) {
    EXPECT_TRUE(has_error(check(R"({"resourceType":"Observation"})"), "Observation.status", "required"));
    EXPECT_TRUE(has_error(check(R"({"resourceType":"Observation"})"), "Observation.code", "required"));
    EXPECT_TRUE(
        one_error(check(patient(R"("link":[{"type":"seealso"}])")), "Patient.link[0].other", "required", "'other'"));
    // A required choice is named by its base name.
    EXPECT_TRUE(one_error(
        check(
            R"({"resourceType":"MedicationRequest","status":"active","intent":"order","subject":{"reference":"Patient/1"}})"),
        "MedicationRequest.medication", "required"));
    // An extension alone stands for a required primitive (data absent reason).
    EXPECT_TRUE(no_errors(check(
        R"({"resourceType":"Observation","_status":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]},"code":{"text":"x"}})")));
}

TEST(Validate, MaximumCardinality) {
    // SimpleQuantity.comparator has maximum 0 (sqty-1).
    const std::string range = R"("referenceRange":[{"low":{"value":1,"comparator":"<"}}])";
    EXPECT_TRUE(
        one_error(check(observation(range)), "Observation.referenceRange[0].low.comparator", "structure", "maximum 0"));
    EXPECT_TRUE(no_errors(check(observation(R"("valueQuantity":{"value":1,"comparator":"<"})"))));
}

// --- primitive formats ------------------------------------------------------------------------

TEST(Validate, Dates) {
    for (const char* ok : {"1980", "1980-02", "1980-02-29", "2000-02-29", "0001-01-01"}) {
        EXPECT_TRUE(no_errors(check(patient(std::string(R"("birthDate":")") + ok + "\""))) << ok);
    }
    for (const char* bad : {"1981-02-29", "1900-02-29", "1980-13", "1980-00", "1980-04-31", "80", "0000", "1980-1-01",
                            "1980-01-01T10:00:00Z", "1980/01/01", " 1980"}) {
        EXPECT_TRUE(one_error(check(patient(std::string(R"("birthDate":")") + bad + "\"")), "Patient.birthDate",
                              "value", "Invalid date"))
            << bad;
    }
}

TEST(Validate, DateTimesNeedATimeZoneWithATime) {
    for (const char* ok : {"2024", "2024-05", "2024-05-17", "2024-05-17T10:00:00Z", "2024-05-17T10:00:00.123+02:00",
                           "2024-05-17T23:59:60-14:00", "2024-05-17T10:00:00+14:00"}) {
        EXPECT_TRUE(no_errors(check(observation(std::string(R"("effectiveDateTime":")") + ok + "\"")))) << ok;
    }
    for (const char* bad :
         {"2024-05-17T10:00:00", "2024-05-17T10:00Z", "2024-05-17T24:00:00Z", "2024-05-17T10:00:00+14:30",
          "2024-05-17T10:00:00+1:00", "2024-05T10:00:00Z", "2024-05-17 10:00:00Z", "2024-05-17T10:00:00.Z"}) {
        EXPECT_TRUE(one_error(check(observation(std::string(R"("effectiveDateTime":")") + bad + "\"")),
                              "Observation.effectiveDateTime", "value", "Invalid dateTime"))
            << bad;
    }
}

TEST(Validate, InstantsAndTimes) {
    EXPECT_TRUE(no_errors(check(patient(R"("meta":{"lastUpdated":"2024-05-17T10:00:00Z"})"))));
    EXPECT_TRUE(one_error(check(patient(R"("meta":{"lastUpdated":"2024-05-17"})")), "Patient.meta.lastUpdated", "value",
                          "Invalid instant"));
    EXPECT_TRUE(one_error(check(patient(R"("meta":{"lastUpdated":"2024-05-17T10:00:00"})")), "Patient.meta.lastUpdated",
                          "value", "time zone"));
    EXPECT_TRUE(no_errors(check(observation(R"("valueTime":"23:59:59.5")"))));
    EXPECT_TRUE(one_error(check(observation(R"("valueTime":"24:00:00")")), "Observation.valueTime", "value"));
    EXPECT_TRUE(one_error(check(observation(R"("valueTime":"10:00:00Z")")), "Observation.valueTime", "value"));
}

TEST(Validate, ResourceIdRule) {
    EXPECT_TRUE(no_errors(check(R"({"resourceType":"Patient","id":"A-z.0"})")));
    EXPECT_TRUE(one_error(check(R"({"resourceType":"Patient","id":"a_b"})"), "Patient.id", "value", "Invalid id"));
    EXPECT_TRUE(
        one_error(check(R"({"resourceType":"Patient","id":")" + std::string(65, 'a') + "\"}"), "Patient.id", "value"));
    EXPECT_TRUE(no_errors(check(R"({"resourceType":"Patient","id":")" + std::string(64, 'a') + "\"}")));
    EXPECT_TRUE(one_error(check(R"({"resourceType":"Patient","id":5})"), "Patient.id", "structure"));
    // Element ids are strings without spaces, not ids.
    EXPECT_TRUE(no_errors(check(patient(R"("name":[{"id":"n_1#x","family":"N"}])"))));
    EXPECT_TRUE(one_error(check(patient(R"("name":[{"id":"n 1","family":"N"}])")), "Patient.name[0].id", "value"));
}

TEST(Validate, Codes) {
    // Resource.language: a code without a required binding.
    EXPECT_TRUE(no_errors(check(patient(R"("language":"nb-NO")"))));
    EXPECT_TRUE(one_error(check(patient(R"("language":"nb  NO")")), "Patient.language", "value", "Invalid code"));
    EXPECT_TRUE(one_error(check(patient(R"("language":" nb")")), "Patient.language", "value"));
    EXPECT_TRUE(one_error(check(patient(R"("language":"nb\tNO")")), "Patient.language", "value"));
}

TEST(Validate, Numbers) {
    EXPECT_TRUE(one_error(check(patient(R"("multipleBirthInteger":2147483648)")), "Patient.multipleBirthInteger",
                          "value", "32-bit"));
    EXPECT_TRUE(no_errors(check(patient(R"("multipleBirthInteger":-2147483648)"))));
    EXPECT_TRUE(one_error(check(patient(R"("multipleBirthInteger":1.0)")), "Patient.multipleBirthInteger", "value"));
    EXPECT_TRUE(one_error(check(patient(R"("multipleBirthInteger":1e2)")), "Patient.multipleBirthInteger", "value"));
    // unsignedInt (Attachment.size) and positiveInt (Timing.repeat.count).
    EXPECT_TRUE(no_errors(check(patient(R"("photo":[{"size":0}])"))));
    EXPECT_TRUE(one_error(check(patient(R"("photo":[{"size":-1}])")), "Patient.photo[0].size", "value", "negative"));
    const std::string timing =
        R"({"resourceType":"MedicationRequest","status":"active","intent":"order","medicationCodeableConcept":{"text":"x"},"subject":{"reference":"Patient/1"},"dosageInstruction":[{"timing":{"repeat":{"count":COUNT}}}]})";
    auto with_count = [&](std::string_view count) {
        std::string s = timing;
        s.replace(s.find("COUNT"), 5, count);
        return s;
    };
    EXPECT_TRUE(no_errors(check(with_count("1"))));
    EXPECT_TRUE(one_error(check(with_count("0")), "MedicationRequest.dosageInstruction[0].timing.repeat.count", "value",
                          "greater than zero"));
    // Decimals keep any JSON number.
    EXPECT_TRUE(no_errors(check(observation(R"("valueQuantity":{"value":1.50E-3})"))));
}

TEST(Validate, UrisOidsUuidsAndBase64) {
    EXPECT_TRUE(one_error(check(patient(R"("implicitRules":"http://example.org/a b")")), "Patient.implicitRules",
                          "value", "whitespace"));
    const auto ext = [](std::string_view value) {
        return patient(R"("extension":[{"url":"http://example.org/x",)" + std::string(value) + "}]");
    };
    EXPECT_TRUE(no_errors(check(ext(R"("valueOid":"urn:oid:2.16.578.1.12.4.1.4.1")"))));
    EXPECT_TRUE(one_error(check(ext(R"("valueOid":"2.16.578")")), "Patient.extension[0].valueOid", "value"));
    EXPECT_TRUE(one_error(check(ext(R"("valueOid":"urn:oid:2.016")")), "Patient.extension[0].valueOid", "value"));
    EXPECT_TRUE(no_errors(check(ext(R"("valueUuid":"urn:uuid:a5e3c2f0-1b2c-4d5e-8f90-0123456789ab")"))));
    EXPECT_TRUE(one_error(check(ext(R"("valueUuid":"urn:uuid:A5E3C2F0-1B2C-4D5E-8F90-0123456789AB")")),
                          "Patient.extension[0].valueUuid", "value"));
    EXPECT_TRUE(no_errors(check(ext(R"("valueBase64Binary":"QUJD\nREVG")"))));
    EXPECT_TRUE(no_errors(check(ext(R"("valueBase64Binary":"QUI=")"))));
    EXPECT_TRUE(
        one_error(check(ext(R"("valueBase64Binary":"QUJ")")), "Patient.extension[0].valueBase64Binary", "value"));
    EXPECT_TRUE(one_error(check(ext(R"("valueBase64Binary":"QQ==QUJD")")), "Patient.extension[0].valueBase64Binary",
                          "value", "padding"));
    EXPECT_TRUE(
        one_error(check(ext(R"("valueBase64Binary":"QU*D")")), "Patient.extension[0].valueBase64Binary", "value"));
    EXPECT_TRUE(one_error(check(R"({"resourceType":"Patient","extension":[{"url":"a b","valueString":"x"}]})"),
                          "Patient.extension[0].url", "value"));
}

TEST(Validate, StringsAreAtMostOneMebibyte) {
    const std::string ok(1024 * 1024, 'a');
    EXPECT_TRUE(no_errors(check(patient(R"("name":[{"text":")" + ok + "\"}]"))));
    // Characters, not bytes: 1 MiB of two-byte characters is within the limit.
    std::string wide;
    for (std::size_t i = 0; i < 1024 * 1024; ++i) wide += "\xC3\xA6";
    EXPECT_TRUE(no_errors(check(patient(R"("name":[{"text":")" + wide + "\"}]"))));
    EXPECT_TRUE(one_error(check(patient(R"("name":[{"text":")" + ok + "b\"}]")), "Patient.name[0].text", "too-long"));
}

TEST(Validate, ControlCharactersInStringsAreWarnings) {
    const auto issues = but_narrative(check(patient(R"("name":[{"text":"Kari\u0007"}])")));
    EXPECT_TRUE(no_errors(issues));
    ASSERT_EQ(issues.size(), 1u) << dump(issues);
    EXPECT_EQ(issues[0].severity, Severity::warning);
    EXPECT_EQ(issues[0].expression.front(), "Patient.name[0].text");
    EXPECT_TRUE(but_narrative(check(patient(R"("name":[{"text":"a\tb\r\nc"}])"))).empty());
    // Strings SHOULD contain non-whitespace content.
    const auto blank = but_narrative(check(patient(R"("name":[{"text":" \n "}])")));
    ASSERT_EQ(blank.size(), 1u) << dump(blank);
    EXPECT_EQ(blank[0].severity, Severity::warning);
    EXPECT_EQ(blank[0].expression.front(), "Patient.name[0].text");
}

TEST(Validate, NarrativeDiv) {
    const auto with_div = [](std::string_view div) {
        return patient(R"("text":{"status":"generated","div":")" + std::string(div) + "\"}");
    };
    EXPECT_TRUE(no_errors(check(with_div(R"(<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>x</p></div>)"))));
    EXPECT_TRUE(no_errors(check(with_div(R"(<div class='a' xmlns='http://www.w3.org/1999/xhtml'>x</div>)"))));
    EXPECT_TRUE(one_error(check(with_div("<p>x</p>")), "Patient.text.div", "value", "<div"));
    EXPECT_TRUE(one_error(check(with_div("<div>x</div>")), "Patient.text.div", "value", "namespace"));
    EXPECT_TRUE(
        one_error(check(with_div(R"(<divx xmlns=\"http://www.w3.org/1999/xhtml\"/>)")), "Patient.text.div", "value"));
    EXPECT_TRUE(one_error(check(patient(R"("text":{"status":"generated"})")), "Patient.text.div", "required"));
    EXPECT_TRUE(one_error(
        check(patient(
            R"("text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>","_div":{"id":"d"}})")),
        "Patient.text._div", "structure"));
}

// --- bindings ---------------------------------------------------------------------------------

TEST(Validate, RequiredBindingsOnCodes) {
    EXPECT_TRUE(
        one_error(check(patient(R"("gender":"Female")")), "Patient.gender", "code-invalid", "administrative-gender"));
    EXPECT_TRUE(one_error(check(R"({"resourceType":"Observation","status":"done","code":{"text":"x"}})"),
                          "Observation.status", "code-invalid"));
    ValidationOptions no_bindings;
    no_bindings.check_bindings = false;
    EXPECT_TRUE(no_errors(check(patient(R"("gender":"Female")"), no_bindings)));
    // Narrative.status, a binding inside a datatype.
    EXPECT_TRUE(one_error(
        check(patient(R"("text":{"status":"made-up","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"})")),
        "Patient.text.status", "code-invalid"));
}

TEST(Validate, RequiredBindingsOnCodeableConcepts) {
    const auto condition = [](std::string_view clinical_status) {
        return R"({"resourceType":"Condition","subject":{"reference":"Patient/1"},"clinicalStatus":)" +
               std::string(clinical_status) + "}";
    };
    constexpr std::string_view system = "http://terminology.hl7.org/CodeSystem/condition-clinical";
    EXPECT_TRUE(
        no_errors(check(condition(R"({"coding":[{"system":")" + std::string(system) + R"(","code":"active"}]})"))));
    // One coding from the value set is enough; the others are translations.
    EXPECT_TRUE(
        no_errors(check(condition(R"({"coding":[{"system":"http://snomed.info/sct","code":"55561003"},{"system":")" +
                                  std::string(system) + R"(","code":"active"}]})"))));
    EXPECT_TRUE(one_error(check(condition(R"({"coding":[{"system":")" + std::string(system) + R"(","code":"gone"}]})")),
                          "Condition.clinicalStatus", "code-invalid", "condition-clinical"));
    EXPECT_TRUE(one_error(check(condition(R"({"coding":[{"system":"http://example.org","code":"active"}]})")),
                          "Condition.clinicalStatus", "code-invalid"));
    EXPECT_TRUE(
        one_error(check(condition(R"({"coding":[{"code":"active"}]})")), "Condition.clinicalStatus", "code-invalid"));
    EXPECT_TRUE(one_error(check(condition(R"({"text":"active"})")), "Condition.clinicalStatus", "code-invalid"));
}

// --- references -------------------------------------------------------------------------------

TEST(Validate, ReferenceFormats) {
    const auto subject = [](std::string_view reference) {
        return observation(R"("subject":{"reference":")" + std::string(reference) + "\"}");
    };
    for (const char* ok :
         {"Patient/123", "Patient/123/_history/2", "Group/g.1", "http://example.org/fhir/Patient/1",
          "https://example.org/fhir/Patient/1/_history/3", "urn:uuid:a5e3c2f0-1b2c-4d5e-8f90-0123456789ab",
          "urn:oid:1.2.3", "Patient?identifier=urn:oid:2.16.578.1.12.4.1.4.1|13031353453",
          "http://example.org/some/document"}) {
        EXPECT_TRUE(no_errors(check(subject(ok)))) << ok;
    }
    for (const char* bad : {"patient/123", "Patient/", "Patient/a_b", "Patient/1/_history", "Patient/1/2", "Foo/1",
                            "urn:uuid:1234", "urn:oid:1.02", "Patient/1 ", "#a b"}) {
        EXPECT_TRUE(one_error(check(subject(bad)), "Observation.subject.reference", "value", "Invalid reference"))
            << bad;
    }
}

TEST(Validate, ReferenceTargets) {
    const auto subject = [](std::string_view reference) {
        return observation(R"("subject":{"reference":")" + std::string(reference) + "\"}");
    };
    EXPECT_TRUE(one_error(check(subject("Practitioner/1")), "Observation.subject.reference", "value", "Practitioner"));
    EXPECT_TRUE(
        one_error(check(subject("http://example.org/fhir/Medication/1")), "Observation.subject.reference", "value"));
    EXPECT_TRUE(one_error(check(subject("Practitioner?name=x")), "Observation.subject.reference", "value"));
    // Reference(Any) and extensions take any type.
    EXPECT_TRUE(no_errors(check(
        R"({"resourceType":"Provenance","target":[{"reference":"Medication/1"}],"recorded":"2024-01-01T00:00:00Z","agent":[{"who":{"reference":"Practitioner/1"}}]})")));
    EXPECT_TRUE(no_errors(check(
        patient(R"("extension":[{"url":"http://example.org/x","valueReference":{"reference":"Medication/1"}}])"))));
    // Reference.type must agree with the reference.
    EXPECT_TRUE(one_error(check(observation(R"("subject":{"reference":"Patient/1","type":"Group"})")),
                          "Observation.subject.type", "value", "consistent"));
    EXPECT_TRUE(no_errors(check(observation(
        R"("subject":{"reference":"Patient/1","type":"http://hl7.org/fhir/StructureDefinition/Patient"})"))));
    ValidationOptions no_refs;
    no_refs.check_references = false;
    EXPECT_TRUE(no_errors(check(subject("Practitioner/1"), no_refs)));
    EXPECT_TRUE(no_errors(check(subject("patient/1"), no_refs)));
}

TEST(Validate, LocalReferencesPointToContainedResources) {
    const std::string contained = R"("contained":[{"resourceType":"Patient","id":"p1"}])";
    EXPECT_TRUE(no_errors(check(observation(contained + R"(,"subject":{"reference":"#p1"})"))));
    EXPECT_TRUE(
        one_error(check(observation(contained + R"(,"subject":{"reference":"#p1"},"focus":[{"reference":"#p2"}])")),
                  "Observation.focus[0].reference", "invariant", "ref-1"));
    EXPECT_TRUE(one_error(
        check(observation(R"("contained":[{"resourceType":"Medication","id":"m1"}],"subject":{"reference":"#m1"})")),
        "Observation.subject.reference", "value", "Medication"));
}

// --- contained resources ----------------------------------------------------------------------

TEST(Validate, ContainedResourcesAreValidatedAsResources) {
    const auto issues = check(observation(
        R"("contained":[{"resourceType":"Patient","id":"p1","gender":"m","foo":1}],"subject":{"reference":"#p1"})"));
    EXPECT_TRUE(has_error(issues, "Observation.contained[0].gender", "code-invalid"));
    EXPECT_TRUE(has_error(issues, "Observation.contained[0].foo", "structure"));
    EXPECT_TRUE(one_error(check(observation(R"("contained":[{"id":"p1"}],"subject":{"reference":"#p1"})")),
                          "Observation.contained[0]", "structure", "resourceType"));
}

TEST(Validate, ContainedResourceRules) {
    const auto with = [](std::string_view contained) {
        return observation(R"("contained":[)" + std::string(contained) + R"(],"subject":{"reference":"#p1"})");
    };
    EXPECT_TRUE(one_error(
        check(with(R"({"resourceType":"Patient","id":"p1","contained":[{"resourceType":"Patient","id":"p2"}]})")),
        "Observation.contained[0].contained", "invariant", "dom-2"));
    EXPECT_TRUE(one_error(check(with(R"({"resourceType":"Patient","id":"p1","meta":{"versionId":"1"}})")),
                          "Observation.contained[0].meta.versionId", "invariant", "dom-4"));
    EXPECT_TRUE(
        one_error(check(with(R"({"resourceType":"Patient","id":"p1","meta":{"lastUpdated":"2024-01-01T00:00:00Z"}})")),
                  "Observation.contained[0].meta.lastUpdated", "invariant", "dom-4"));
    EXPECT_TRUE(one_error(check(with(R"({"resourceType":"Patient","id":"p1","meta":{"security":[{"code":"R"}]}})")),
                          "Observation.contained[0].meta.security", "invariant", "dom-5"));
    // dom-3: referred to from elsewhere, or referring to the container.
    EXPECT_TRUE(one_error(check(with(R"({"resourceType":"Patient","id":"p1"},{"resourceType":"Patient","id":"p2"})")),
                          "Observation.contained[1]", "invariant", "dom-3"));
    EXPECT_TRUE(no_errors(check(with(
        R"({"resourceType":"Patient","id":"p1"},{"resourceType":"Provenance","id":"v1","target":[{"reference":"#"}],"recorded":"2024-01-01T00:00:00Z","agent":[{"who":{"reference":"#p1"}}]})"))));
    // A reference from one contained resource to another counts.
    EXPECT_TRUE(no_errors(check(with(
        R"({"resourceType":"Patient","id":"p1","managingOrganization":{"reference":"#o1"}},{"resourceType":"Organization","id":"o1","name":"o"})"))));
    // So does a canonical or uri with the fragment.
    EXPECT_TRUE(no_errors(check(
        R"({"resourceType":"Questionnaire","status":"draft","contained":[{"resourceType":"ValueSet","id":"vs1","status":"draft"}],"item":[{"linkId":"1","type":"choice","answerValueSet":"#vs1"}]})")));
}

// --- Bundle -----------------------------------------------------------------------------------

TEST(Validate, BundleEntriesAreValidatedByTheirOwnType) {
    const auto issues = check(bundle(
        "collection",
        R"("entry":[{"fullUrl":"urn:uuid:a5e3c2f0-1b2c-4d5e-8f90-0123456789ab","resource":{"resourceType":"Patient","gender":"x"}},{"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Practitioner/1"}}}])"));
    EXPECT_TRUE(has_error(issues, "Bundle.entry[0].resource.gender", "code-invalid"));
    EXPECT_TRUE(has_error(issues, "Bundle.entry[1].resource.subject.reference", "value"));
    EXPECT_EQ(but_narrative(issues).size(), 2u) << dump(issues);
    EXPECT_TRUE(one_error(check(bundle("collection", R"("entry":[{"resource":{"resourceType":"Nope"}}])")),
                          "Bundle.entry[0].resource.resourceType", "structure"));
    // A Bundle in a Bundle.
    EXPECT_TRUE(one_error(
        check(bundle("collection",
                     R"("entry":[{"resource":)" +
                         bundle("collection", R"("entry":[{"resource":{"resourceType":"Patient","foo":1}}])") + "}]")),
        "Bundle.entry[0].resource.entry[0].resource.foo", "structure"));
}

TEST(Validate, ReferencesToBundleEntriesHaveTheEntrysType) {
    const auto with_subject = [](std::string_view type) {
        return bundle(
            "transaction",
            R"("entry":[{"fullUrl":"urn:uuid:a5e3c2f0-1b2c-4d5e-8f90-0123456789ab","resource":{"resourceType":")" +
                std::string(type) + R"("},"request":{"method":"POST","url":")" + std::string(type) +
                R"("}},{"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"urn:uuid:a5e3c2f0-1b2c-4d5e-8f90-0123456789ab"}},"request":{"method":"POST","url":"Observation"}}])");
    };
    EXPECT_TRUE(no_errors(check(with_subject("Patient"))));
    EXPECT_TRUE(one_error(check(with_subject("Practitioner")), "Bundle.entry[1].resource.subject.reference", "value",
                          "Practitioner"));
}

TEST(Validate, BundleRequestsAndResponses) {
    const std::string patient_entry = R"({"resource":{"resourceType":"Patient"}})";
    const std::string with_request =
        R"({"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}})";
    const std::string with_response = R"({"response":{"status":"201 Created"}})";
    EXPECT_TRUE(no_errors(check(bundle("transaction", R"("entry":[)" + with_request + "]"))));
    EXPECT_TRUE(one_error(check(bundle("transaction", R"("entry":[)" + patient_entry + "]")), "Bundle.entry[0]",
                          "invariant", "bdl-3"));
    EXPECT_TRUE(one_error(check(bundle("batch", R"("entry":[)" + with_request + "," + patient_entry + "]")),
                          "Bundle.entry[1]", "invariant", "bdl-3"));
    EXPECT_TRUE(one_error(check(bundle("collection", R"("entry":[)" + with_request + "]")), "Bundle.entry[0].request",
                          "invariant", "bdl-3"));
    EXPECT_TRUE(no_errors(check(bundle("transaction-response", R"("entry":[)" + with_response + "]"))));
    EXPECT_TRUE(one_error(check(bundle("batch-response", R"("entry":[)" + patient_entry + "]")), "Bundle.entry[0]",
                          "invariant", "bdl-4"));
    EXPECT_TRUE(one_error(
        check(bundle("searchset", R"("entry":[{"resource":{"resourceType":"Patient"},"response":{"status":"200"}}])")),
        "Bundle.entry[0].response", "invariant", "bdl-4"));
    EXPECT_TRUE(one_error(
        check(bundle("collection", R"("entry":[{"fullUrl":"urn:uuid:a5e3c2f0-1b2c-4d5e-8f90-0123456789ab"}])")),
        "Bundle.entry[0]", "invariant", "bdl-5"));
}

TEST(Validate, BundleSearchAndTotal) {
    EXPECT_TRUE(no_errors(check(bundle(
        "searchset", R"("total":1,"entry":[{"resource":{"resourceType":"Patient"},"search":{"mode":"match"}}])"))));
    EXPECT_TRUE(one_error(check(bundle("collection", R"("total":1)")), "Bundle.total", "invariant", "bdl-1"));
    EXPECT_TRUE(one_error(
        check(bundle("collection", R"("entry":[{"resource":{"resourceType":"Patient"},"search":{"mode":"match"}}])")),
        "Bundle.entry[0].search", "invariant", "bdl-2"));
}

TEST(Validate, BundleFullUrls) {
    const auto entry = [](std::string_view full_url, std::string_view version) {
        std::string meta = version.empty() ? "" : R"(,"meta":{"versionId":")" + std::string(version) + "\"}";
        return R"({"fullUrl":")" + std::string(full_url) + R"(","resource":{"resourceType":"Patient","id":"1")" + meta +
               "}}";
    };
    const std::string url = "http://example.org/fhir/Patient/1";
    EXPECT_TRUE(one_error(check(bundle("collection", R"("entry":[)" + entry(url, "") + "," + entry(url, "") + "]")),
                          "Bundle.entry[1].fullUrl", "invariant", "bdl-7"));
    EXPECT_TRUE(no_errors(check(bundle("collection", R"("entry":[)" + entry(url, "1") + "," + entry(url, "2") + "]"))));
    EXPECT_TRUE(one_error(check(bundle("collection", R"("entry":[)" + entry(url, "1") + "," + entry(url, "1") + "]")),
                          "Bundle.entry[1].fullUrl", "invariant", "bdl-7"));
    EXPECT_TRUE(one_error(check(bundle("collection", R"("entry":[)" + entry(url + "/_history/1", "") + "]")),
                          "Bundle.entry[0].fullUrl", "invariant", "bdl-8"));
    // fullUrl "SHALL NOT disagree with the id in the resource".
    EXPECT_TRUE(
        one_error(check(bundle("collection", R"("entry":[)" + entry("http://example.org/fhir/Patient/2", "") + "]")),
                  "Bundle.entry[0].fullUrl", "value", "fullUrl"));
    EXPECT_TRUE(
        one_error(check(bundle("collection", R"("entry":[)" + entry("http://example.org/fhir/Group/1", "") + "]")),
                  "Bundle.entry[0].fullUrl", "value"));
    EXPECT_TRUE(no_errors(check(
        bundle("collection", R"("entry":[)" + entry("urn:uuid:a5e3c2f0-1b2c-4d5e-8f90-0123456789ab", "") + "]"))));
}

TEST(Validate, DocumentsAndMessages) {
    const std::string composition =
        R"({"resource":{"resourceType":"Composition","status":"final","type":{"text":"x"},"date":"2024-01-01","author":[{"reference":"Practitioner/1"}],"title":"t"}})";
    EXPECT_TRUE(no_errors(check(bundle(
        "document",
        R"("identifier":{"system":"urn:ietf:rfc:3986","value":"urn:uuid:a5e3c2f0-1b2c-4d5e-8f90-0123456789ab"},"timestamp":"2024-01-01T00:00:00Z","entry":[)" +
            composition + "]"))));
    const auto issues = check(bundle("document", R"("entry":[{"resource":{"resourceType":"Patient"}}])"));
    EXPECT_TRUE(has_error(issues, "Bundle.identifier", "invariant"));  // bdl-9
    EXPECT_TRUE(has_error(issues, "Bundle.timestamp", "invariant"));   // bdl-10
    EXPECT_TRUE(has_error(issues, "Bundle.entry", "invariant"));       // bdl-11
    EXPECT_EQ(but_narrative(issues).size(), 3u) << dump(issues);
    EXPECT_TRUE(one_error(check(bundle("message", R"("entry":[{"resource":{"resourceType":"Patient"}}])")),
                          "Bundle.entry", "invariant", "bdl-12"));
}

// --- Parameters and extensions ------------------------------------------------------------------

TEST(Validate, ParametersHoldResourcesAndParts) {
    EXPECT_TRUE(no_errors(check(
        R"({"resourceType":"Parameters","parameter":[{"name":"a","valueString":"x"},{"name":"b","resource":{"resourceType":"Patient"}},{"name":"c","part":[{"name":"d","valueInteger":1}]}]})")));
    EXPECT_TRUE(one_error(
        check(
            R"({"resourceType":"Parameters","parameter":[{"name":"b","resource":{"resourceType":"Patient","foo":1}}]})"),
        "Parameters.parameter[0].resource.foo", "structure"));
    EXPECT_TRUE(one_error(
        check(
            R"({"resourceType":"Parameters","parameter":[{"name":"a","valueString":"x","resource":{"resourceType":"Patient"}}]})"),
        "Parameters.parameter[0]", "invariant", "inv-1"));
    EXPECT_TRUE(one_error(check(R"({"resourceType":"Parameters","parameter":[{"name":"a"}]})"),
                          "Parameters.parameter[0]", "invariant", "inv-1"));
    EXPECT_TRUE(one_error(
        check(
            R"({"resourceType":"Parameters","parameter":[{"name":"c","part":[{"name":"d","valueInteger":1,"part":[{"name":"e","valueBoolean":true}]}]}]})"),
        "Parameters.parameter[0].part[0]", "invariant", "inv-1"));
}

TEST(Validate, Extensions) {
    EXPECT_TRUE(one_error(check(patient(R"("extension":[{"url":"http://example.org/x"}])")), "Patient.extension[0]",
                          "invariant", "ext-1"));
    EXPECT_TRUE(one_error(
        check(patient(
            R"("extension":[{"url":"http://example.org/x","valueString":"a","extension":[{"url":"b","valueString":"c"}]}])")),
        "Patient.extension[0]", "invariant", "ext-1"));
    EXPECT_TRUE(no_errors(
        check(patient(R"("extension":[{"url":"http://example.org/x","extension":[{"url":"b","valueString":"c"}]}])"))));
    EXPECT_TRUE(one_error(check(patient(R"("modifierExtension":[{"valueString":"a"}])")),
                          "Patient.modifierExtension[0].url", "required"));
    EXPECT_TRUE(one_error(check(patient(R"("extension":[{"url":"http://example.org/x","valueFoo":"a"}])")),
                          "Patient.extension[0].valueFoo", "structure"));
}

TEST(Validate, ElementsNeedMoreThanAnId) {
    EXPECT_TRUE(
        one_error(check(patient(R"("maritalStatus":{"id":"m"})")), "Patient.maritalStatus", "invariant", "ele-1"));
}

// --- limits, robustness, options ------------------------------------------------------------------

TEST(Validate, StopsAfterMaxIssues) {
    ValidationOptions options;
    options.max_issues = 3;
    const auto issues = check(patient(R"("a":1,"b":2,"c":3,"d":4,"e":5)"), options);
    ASSERT_EQ(issues.size(), 4u) << dump(issues);
    EXPECT_EQ(issues.back().code, "too-costly");
}

// Any JSON value in any property of a valid resource: issues, never an exception or a crash.
TEST(Validate, NeverThrowsOnOddInput) {
    const std::vector<std::string> odd = {"null",
                                          "true",
                                          "0",
                                          "-1.5e300",
                                          R"("")",
                                          R"("x")",
                                          "[]",
                                          "[null]",
                                          "{}",
                                          R"({"resourceType":"Patient"})",
                                          R"([{"a":[{}]}])",
                                          R"({"extension":[1]})"};
    const json::Value base = parse(patient(
        R"("name":[{"given":["A"]}],"birthDate":"1980","contained":[{"resourceType":"Patient","id":"c"}],"managingOrganization":{"reference":"#c"})"));
    for (const auto& [name, original] : base.members()) {
        for (const auto& replacement : odd) {
            json::Value doc = base;
            doc.set(name, parse(replacement));
            EXPECT_NO_THROW((void)fhir::validate(doc)) << name << " = " << replacement;
            doc.set("_" + name, parse(replacement));
            EXPECT_NO_THROW((void)fhir::validate(doc)) << "_" << name << " = " << replacement;
        }
    }
    EXPECT_NO_THROW((void)fhir::validate(json::Value()));
}

TEST(Validate, DiagnosticsNeverQuoteValues) {
    const auto issues = check(patient(
        R"("gender":"Secret-Value","birthDate":"Secret-Value","managingOrganization":{"reference":"Secret-Value"},)"
        R"("contact":[{"gender":"Secret-Value"}])"));
    EXPECT_EQ(but_narrative(issues).size(), 5u) << dump(issues);  // and pat-1 on the contact
    for (const auto& i : issues) EXPECT_EQ(i.diagnostics.find("Secret"), std::string::npos) << i.diagnostics;
}

// --- invariants ---------------------------------------------------------------------------------

TEST(Validate, SaysWhichInvariantsAreCheckedNativelyOrNotAtAll) {
    EXPECT_TRUE(fhir::is_checked_invariant("Patient", "dom-3"));
    EXPECT_TRUE(fhir::is_checked_invariant("Patient.name", "ele-1"));
    EXPECT_TRUE(fhir::is_checked_invariant("Bundle", "bdl-7"));
    EXPECT_TRUE(fhir::is_checked_invariant("Bundle.entry", "bdl-8"));
    EXPECT_TRUE(fhir::is_checked_invariant("Reference", "ref-1"));
    EXPECT_TRUE(fhir::is_checked_invariant("Parameters.parameter", "inv-1"));
    EXPECT_FALSE(fhir::is_checked_invariant("Patient", "dom-6"));
    EXPECT_FALSE(fhir::is_checked_invariant("Patient.contact", "pat-1"));
    EXPECT_FALSE(fhir::is_checked_invariant("Quantity", "qty-3"));
    EXPECT_FALSE(fhir::is_checked_invariant("Patient.name", "inv-1"));

    // Only txt-1 and txt-2 (htmlChecks(), which the engine lacks) of a narrative cannot be evaluated here.
    const auto unchecked = fhir::unchecked_invariants(parse(patient(
        R"("text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Kari</div>"},)"
        R"("contact":[{"name":{"family":"N"}}],"photo":[{"contentType":"image/png","data":"QUJD"}])")));
    std::set<std::string> found;
    for (const auto& u : unchecked) found.insert(std::string(u.element) + " " + std::string(u.invariant->key));
    EXPECT_EQ(found, (std::set<std::string>{"Narrative.div txt-1", "Narrative.div txt-2"}));
    EXPECT_EQ(found.size(), unchecked.size());  // each once
    EXPECT_TRUE(fhir::unchecked_invariants(parse(patient(R"("contact":[{"name":{"family":"N"}}])"))).empty());
    // R4's cid-0 names an element ChargeItemDefinition does not have: refused when compiled.
    const auto charge = fhir::unchecked_invariants(parse(
        R"({"resourceType":"ChargeItemDefinition","url":"http://example.org/c","status":"draft"})"));
    ASSERT_EQ(charge.size(), 1u);
    EXPECT_EQ(charge[0].invariant->key, "cid-0");
    EXPECT_TRUE(fhir::unchecked_invariants(parse("[]")).empty());
}

// An Observation that breaks obs-7, which asks %resource for the Observation's code: the error is only
// found when %resource is the Observation itself, wherever it is.
const std::string same_code_observation =
    R"({"resourceType":"Observation","id":"o1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},)"
    R"("valueQuantity":{"value":120},"component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},)"
    R"("valueQuantity":{"value":120}}]})";

TEST(Validate, InvariantsOfAResourceAreEvaluated) {
    const auto issues = check(patient(R"("contact":[{"gender":"female"}])"));
    EXPECT_TRUE(one_error(issues, "Patient.contact[0]", "invariant",
                          "pat-1: SHALL at least contain a contact's details or a reference to an organization"));
    EXPECT_TRUE(no_errors(check(patient(R"("contact":[{"name":{"family":"N"}}])"))));
    EXPECT_TRUE(one_error(check(same_code_observation), "Observation", "invariant", "obs-7:"));
}

TEST(Validate, InvariantsOfNestedElementsAndDatatypesAreEvaluated) {
    EXPECT_TRUE(one_error(check(observation(R"("referenceRange":[{"text":"ok"},{"appliesTo":[{"text":"x"}]}])")),
                          "Observation.referenceRange[1]", "invariant", "obs-3:"));
    EXPECT_TRUE(one_error(check(observation(R"("valueQuantity":{"value":1,"code":"mg"})")), "Observation.valueQuantity",
                          "invariant", "qty-3:"));
    EXPECT_TRUE(one_error(check(patient(R"("name":[{"period":{"start":"2020-02-01","end":"2019-01-01"}}])")),
                          "Patient.name[0].period", "invariant", "per-1:"));
    // Questionnaire.item.item is Questionnaire.item (a content reference), with its invariants.
    EXPECT_TRUE(one_error(
        check(R"({"resourceType":"Questionnaire","status":"draft","item":[{"linkId":"1","type":"group","item":[{"linkId":"1.1","type":"group"}]}]})"),
        "Questionnaire.item[0].item[0]", "invariant", "que-1:"));
}

TEST(Validate, InvariantsOfContainedResourcesSeeThemselvesAsResource) {
    const std::string container = R"({"resourceType":"Patient","id":"p","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">p</div>"},)"
                                  R"("generalPractitioner":[{"reference":"#org"}],)";
    auto issues = check(container + R"("link":[{"other":{"reference":"#o1"},"type":"seealso"}],"contained":[)" +
                        same_code_observation + R"(,{"resourceType":"Organization","id":"org"}]})");
    EXPECT_TRUE(has_error(issues, "Patient.contained[0]", "invariant")) << dump(issues);  // obs-7
    EXPECT_TRUE(has_error(issues, "Patient.contained[1]", "invariant")) << dump(issues);  // org-1
    // Their narrative is their container's (dom-6 asks only the %rootResource): no warnings at all.
    issues = check(container + R"("contained":[{"resourceType":"Organization","id":"org","name":"o"}]})");
    EXPECT_TRUE(issues.empty()) << dump(issues);
}

TEST(Validate, InvariantsOfBundleEntriesSeeTheEntryAsResource) {
    const auto issues = check(bundle("collection", R"("entry":[{"fullUrl":"urn:uuid:a5e3c2f0-1b2c-4d5e-8f90-0123456789ab","resource":)" +
                                                       same_code_observation + "}]"));
    EXPECT_TRUE(one_error(issues, "Bundle.entry[0].resource", "invariant", "obs-7:"));
    // An entry is its own %rootResource: it is asked for narrative.
    EXPECT_EQ(std::count_if(issues.begin(), issues.end(),
                            [](const Issue& i) {
                                return i.severity == Severity::warning && !i.expression.empty() &&
                                       i.expression.front() == "Bundle.entry[0].resource" &&
                                       i.diagnostics.starts_with("dom-6:");
                            }),
              1)
        << dump(issues);
}

TEST(Validate, WarningInvariantsGiveWarnings) {
    const auto issues = check(patient(""));
    ASSERT_EQ(issues.size(), 1u) << dump(issues);
    EXPECT_EQ(issues[0].severity, Severity::warning);
    EXPECT_EQ(issues[0].code, "invariant");
    EXPECT_EQ(issues[0].expression.front(), "Patient");
    EXPECT_EQ(issues[0].diagnostics, "dom-6: A resource should have narrative for robust management");
    // R4 asks a name of every canonical resource that has one to be usable by machines (vsd-0), but
    // not a name of one that has none.
    const std::string value_set = R"({"resourceType":"ValueSet","status":"draft","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">v</div>"})";
    EXPECT_TRUE(check(value_set + "}").empty());
    const auto named = check(value_set + R"(,"name":"not an identifier"})");
    ASSERT_EQ(named.size(), 1u) << dump(named);
    EXPECT_EQ(named[0].severity, Severity::warning);
    EXPECT_TRUE(named[0].diagnostics.starts_with("vsd-0: ")) << named[0].diagnostics;
}

// R4 corrects a few of its own expressions later (que-7 tests System.Boolean, which no FHIR boolean is).
TEST(Validate, DefectiveR4ExpressionsAreEvaluatedAsCorrected) {
    const std::string questionnaire =
        R"({"resourceType":"Questionnaire","status":"draft","item":[{"linkId":"1","type":"boolean"},{"linkId":"2","type":"string",)"
        R"("enableWhen":[{"question":"1","operator":"exists","answer%s}]}]})";
    const auto with_answer = [&](std::string_view answer) {
        std::string text = questionnaire;
        text.replace(text.find("%s"), 2, answer);
        return check(text);
    };
    EXPECT_TRUE(no_errors(with_answer(R"(Boolean":true)")));
    EXPECT_TRUE(one_error(with_answer(R"(String":"x")"), "Questionnaire.item[1].enableWhen[0]", "invariant", "que-7:"));
    // ras-2 applies to a probability that is there.
    EXPECT_TRUE(no_errors(check(
        R"({"resourceType":"RiskAssessment","status":"final","subject":{"reference":"Patient/1"},"prediction":[{"qualitativeRisk":{"text":"low"}}]})")));
    EXPECT_TRUE(has_error(
        check(R"({"resourceType":"RiskAssessment","status":"final","subject":{"reference":"Patient/1"},"prediction":[{"probabilityDecimal":150}]})"),
        "RiskAssessment.prediction[0]", "invariant"));
}

// An invariant the engine fails on for this input (tim-9 tests `when in (...)` with several when) is a
// warning that names it, and does not stop the validation.
TEST(Validate, InvariantsThatCannotBeEvaluatedAreWarnings) {
    const auto issues =
        check(observation(R"("effectiveTiming":{"repeat":{"when":["MORN","NIGHT"],"offset":30}},"valueString":"x")"));
    EXPECT_TRUE(no_errors(issues)) << dump(issues);
    const auto it = std::find_if(issues.begin(), issues.end(), [](const Issue& i) { return i.code == "exception"; });
    ASSERT_NE(it, issues.end()) << dump(issues);
    EXPECT_EQ(it->severity, Severity::warning);
    EXPECT_EQ(it->expression.front(), "Observation.effectiveTiming.repeat");
    EXPECT_TRUE(it->diagnostics.starts_with("tim-9: could not be evaluated")) << it->diagnostics;
}

// --- the primitive checkers against the model's regexes ---------------------------------------------

// The hand-written checkers accept what the R4 regex accepts, except where the definition says more
// than its regex (valid dates, 32-bit ranges, base64 padding, code whitespace).
TEST(Primitives, AgreeWithTheModelRegexes) {
    struct Case {
        const char* type;
        std::vector<std::string> samples;
        std::set<std::string> stricter;  // the regex matches, the definition does not
    };
    const std::vector<Case> cases = {
        {"date",
         {"2024", "2024-01", "2024-01-31", "0001", "0000", "2024-1", "2024-13", "2024-02-30", "2024-01-01T00:00:00Z",
          "24", "20240", "2024-00", "2024-01-00", "2024-01-32", "1900-02-29"},
         {"2024-02-30", "1900-02-29"}},
        {"dateTime",
         {"2024", "2024-01-31", "2024-01-31T10:11:12Z", "2024-01-31T10:11:12.5+14:00", "2024-01-31T10:11:12+14:01",
          "2024-01-31T10:11:12", "2024-01-31T10:11Z", "2024-01-31T24:00:00Z", "2024-04-31T00:00:00Z",
          "2024-01-31T23:59:60-13:59", "2024-01-31T10:11:12.Z", "2024-01-31T10:11:12.123-00:00"},
         {"2024-04-31T00:00:00Z"}},
        {"instant",
         {"2024-01-31T10:11:12Z", "2024-01-31T10:11:12.999+01:00", "2024-01-31", "2024-01-31T10:11:12",
          "2024-02-30T10:11:12Z"},
         {"2024-02-30T10:11:12Z"}},
        {"time",
         {"00:00:00", "23:59:60", "23:59:59.999", "24:00:00", "12:60:00", "12:00", "12:00:00Z", "12:00:00."},
         {}},
        {"id", {"a", "A-z.09", std::string(64, 'x'), std::string(65, 'x'), "a_b", "a b", ""}, {}},
        {"code", {"a", "a b", "a  b", " a", "a ", "a\tb", "a\nb", "ABC-123"}, {"a\tb", "a\nb"}},
        {"decimal", {"0", "-0", "1.5", "01", "1.", ".5", "1e5", "1E-22", "-1.50e+3", "1e", "+1"}, {}},
        {"integer",
         {"0", "-0", "12", "012", "-12", "1.0", "2147483647", "2147483648", "-2147483648", "-2147483649"},
         {"2147483648", "-2147483649"}},
        {"unsignedInt", {"0", "1", "01", "-1", "2147483647", "2147483648"}, {"2147483648"}},
        {"positiveInt", {"1", "0", "01", "-1", "2147483647", "2147483648"}, {"2147483648"}},
        {"uri", {"http://a", "urn:x", "a b", "#x"}, {}},
        {"oid",
         {"urn:oid:1.2.3", "urn:oid:0.0", "urn:oid:3.1", "urn:oid:1", "urn:oid:1.02", "urn:oid:1.2.", "1.2.3"},
         {}},
        {"uuid",
         {"urn:uuid:a5e3c2f0-1b2c-4d5e-8f90-0123456789ab", "urn:uuid:A5E3C2F0-1B2C-4D5E-8F90-0123456789AB",
          "urn:uuid:a5e3c2f01b2c4d5e8f900123456789ab", "a5e3c2f0-1b2c-4d5e-8f90-0123456789ab"},
         {}},
        {"base64Binary",
         {"QUJD", "QUI=", "QQ==", "QUJD REVG", " QUJD\n", "QUJ", "Q===", "QQ==QUJD", "=QUJ", "QU JD", "QU*D"},
         {"Q===", "QQ==QUJD", "=QUJ"}},
    };
    for (const auto& c : cases) {
        const auto* def = helsebro::fhir::model::type(c.type);
        ASSERT_NE(def, nullptr) << c.type;
        const std::regex re(std::string(def->regex));
        validation::Primitive p{};
        ASSERT_TRUE(validation::primitive_of(c.type, p)) << c.type;
        for (const auto& s : c.samples) {
            const bool regex_ok = std::regex_match(s, re);
            const bool ours = validation::check_format(p, s).empty();
            if (c.stricter.count(s)) {
                EXPECT_TRUE(regex_ok && !ours) << c.type << " '" << s << "' should be regex-valid but rejected";
            } else {
                EXPECT_EQ(ours, regex_ok) << c.type << " '" << s << "'";
            }
        }
    }
}

TEST(References, Forms) {
    using Kind = validation::ReferenceForm::Kind;
    auto f = validation::parse_reference("Patient/1");
    EXPECT_EQ(f.kind, Kind::relative);
    EXPECT_EQ(f.type, "Patient");
    f = validation::parse_reference("#c1");
    EXPECT_EQ(f.kind, Kind::local);
    EXPECT_EQ(f.id, "c1");
    f = validation::parse_reference("http://example.org/fhir/Observation/o1/_history/2");
    EXPECT_EQ(f.kind, Kind::absolute);
    EXPECT_EQ(f.type, "Observation");
    f = validation::parse_reference("http://example.org/Observation");
    EXPECT_EQ(f.kind, Kind::absolute);
    EXPECT_EQ(f.type, "");
    f = validation::parse_reference("Patient?identifier=a|b");
    EXPECT_EQ(f.kind, Kind::conditional);
    EXPECT_EQ(f.type, "Patient");
    EXPECT_EQ(validation::parse_reference("Patient/1/_history/").kind, Kind::invalid);
}
