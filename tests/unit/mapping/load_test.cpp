// Every kind of load error, reported at its file:line:column with a hint where one helps.
#include <gtest/gtest.h>

#include "adapter/mapping/mapping.hpp"
#include "tests/unit/mapping/rule_files.hpp"

namespace helsebro::mapping {
namespace {

using testing::RuleDir;

LoadOptions options() {
    LoadOptions o;
    o.recipients.emplace().push_back(Recipient{"st-olavs", "https://fhir.stolav.example/fhir", {"8094"}, {"883974832"}, {}});
    o.client_ids = std::vector<std::string>{"hospital", "gp-system", "municipal-care"};
    return o;
}

const char* rule_head = R"(rules:
  - rule: discharge
    when:
      event: urn:oid:2.16.578.1.12.4.1.1.8279|UTSKRIVNINGSRAPPORT
    patient: Bundle.entry.resource.ofType(Patient).first()
)";

// The single error of loading `text`, as "line:column: message (hint)".
std::string only_error(const std::string& text) {
    RuleDir dir;
    dir.write("rules.yaml", text);
    auto loaded = load(dir.path(), options());
    if (loaded.rules) return "loaded";
    if (loaded.errors.size() != 1) {
        std::string all;
        for (const auto& e : loaded.errors) all += e.to_string() + "\n";
        return "several errors:\n" + all;
    }
    auto s = loaded.errors.front().to_string();
    return s.substr(s.find(':') + 1);  // drop the file name
}

TEST(MappingLoad, AValidFileLoadsWithAStableVersion) {
    RuleDir dir;
    dir.write("rules.yaml", std::string(rule_head) + R"(    upsert:
      - resource: CarePlan
        match: status = 'active'
        create:
          status: "'active'"
          intent: "'plan'"
          subject: "%patient_reference"
)");
    auto a = load(dir.path(), options());
    ASSERT_TRUE(a.rules) << (a.errors.empty() ? "" : a.errors.front().to_string());
    auto b = load(dir.path(), options());
    EXPECT_EQ(version(*a.rules), version(*b.rules));
    EXPECT_EQ(version(*a.rules).size(), 12u);
    dir.write("rules.yaml", std::string(rule_head) + "    description: changed\n");
    EXPECT_NE(version(*load(dir.path(), options()).rules), version(*a.rules));
}

TEST(MappingLoad, YamlSyntax) {
    EXPECT_EQ(only_error("rules:\n  - rule: x\n    when: [unclosed\n"), "4:1: this is no valid YAML: end of sequence flow not found");
}

TEST(MappingLoad, UnknownKeyWithHint) {
    EXPECT_EQ(only_error(std::string(rule_head) + "    upsret: []\n"),
              "6:5: unknown key 'upsret' in rule 'discharge' (did you mean 'upsert'?)");
}

TEST(MappingLoad, FhirPathSyntaxAtItsColumn) {
    EXPECT_EQ(only_error(std::string(rule_head) + "    let:\n      enc: Bundle.entry.resource.ofType(Encounter).where(\n"),
              "7:58: FHIRPath syntax error: Expected an expression.");
}

TEST(MappingLoad, ElementOfATypedVariable) {
    EXPECT_EQ(only_error(std::string(rule_head) + "    let:\n      name: \"%patient.nmae.family\"\n"),
              "7:23: FHIRPath semantic error: 'nmae' is no element of Patient.");
}

TEST(MappingLoad, UndefinedVariable) {
    EXPECT_EQ(only_error(std::string(rule_head) + "    let:\n      x: \"%encountr.period\"\n"),
              "7:11: FHIRPath semantic error: %encountr is not defined; defined here: %input, %sender, %now, %records, "
              "%patient, %patient_identifier, %patient_reference.");
}

TEST(MappingLoad, ElementPathWithHint) {
    EXPECT_EQ(only_error(std::string(rule_head) + R"(    upsert:
      - resource: CarePlan
        match: status = 'active'
        set:
          stauts: "'active'"
)"), "10:11: 'stauts' is no element of CarePlan (did you mean 'status'?)");
}

TEST(MappingLoad, PathThroughARepeatingElement) {
    EXPECT_EQ(only_error(std::string(rule_head) + R"(    upsert:
      - resource: CarePlan
        match: status = 'active'
        append:
          activity.detail: {}
)"), "10:11: 'activity.detail' passes through 'activity', which repeats (write 'activity:' with the parts nested under it)");
}

TEST(MappingLoad, AppendToASingleElement) {
    EXPECT_EQ(only_error(std::string(rule_head) + R"(    upsert:
      - resource: CarePlan
        match: status = 'active'
        append:
          status: "'active'"
)"), "10:11: 'status' does not repeat, so it cannot be appended to (use 'set' instead)");
}

TEST(MappingLoad, UnknownRecipientAndSender) {
    EXPECT_EQ(only_error(std::string(rule_head) + "    send:\n      - recipient: st-olav\n"),
              "7:20: no recipient 'st-olav' in the config's recipients (did you mean 'st-olavs'?)");
    EXPECT_EQ(only_error(R"(rules:
  - rule: x
    when:
      resource: Patient
      sender: [hopsital]
)"), "5:16: no client 'hopsital' in the config's auth.clients (did you mean 'hospital'?)");
}

TEST(MappingLoad, UnknownResourceType) {
    EXPECT_EQ(only_error("rules:\n  - rule: x\n    when:\n      resource: Careplan\n"),
              "4:17: 'Careplan' is no FHIR R4 resource type (did you mean 'CarePlan'?)");
}

TEST(MappingLoad, UpsertNeedsMatchAndAPatient) {
    EXPECT_EQ(only_error(R"(rules:
  - rule: x
    when:
      resource: Encounter
    upsert:
      - resource: CarePlan
        match: status = 'active'
)"), "2:5: rule 'x' changes records, so it needs 'patient:' to say whose (e.g. patient: Bundle.entry.resource.ofType(Patient).first())");
    EXPECT_EQ(only_error(std::string(rule_head) + "    upsert:\n      - resource: CarePlan\n"),
              "7:9: an upsert needs 'match' to find the patient's existing record (e.g. match: category.coding.where(code = 'oppfolging').exists())");
}

TEST(MappingLoad, DuplicateRuleAndReservedNames) {
    EXPECT_EQ(only_error(std::string(rule_head) + "  - rule: discharge\n    when:\n      resource: Patient\n"),
              "6:11: the rule 'discharge' is defined twice");
    EXPECT_EQ(only_error(std::string(rule_head) + "    let:\n      records: \"1\"\n"),
              "7:7: 'records' is a name Helsebro defines itself (pick another name)");
}

TEST(MappingLoad, EventFormat) {
    EXPECT_EQ(only_error("rules:\n  - rule: x\n    when:\n      event: UTSKRIVNINGSRAPPORT\n"),
              "4:14: an event is written system|code (e.g. urn:oid:2.16.578.1.12.4.1.1.8279|UTSKRIVNINGSRAPPORT)");
}

TEST(MappingLoad, EveryErrorOfAFileIsReportedAtOnce) {
    RuleDir dir;
    dir.write("a.yaml", "rules:\n  - rule: x\n    when:\n      resource: Careplan\n    let:\n      y: \"name.(\"\n");
    dir.write("b.yaml", "rulez: []\n");
    auto loaded = load(dir.path(), options());
    EXPECT_FALSE(loaded.rules);
    ASSERT_EQ(loaded.errors.size(), 3u);
    EXPECT_EQ(loaded.errors[0].file, "a.yaml");
    EXPECT_EQ(loaded.errors[2].file, "b.yaml");
}

}  // namespace
}  // namespace helsebro::mapping

namespace helsebro::mapping {
namespace {

// Found by fuzz_mapping: yaml-cpp throws when a key is asked of a scalar; that must be a load
// error (a reload of a bad file must never take the daemon down).
TEST(MappingLoad, OddShapesAreLoadErrorsNotCrashes) {
    for (const char* text : {"rules:\n  - rule: x\n    when: event\n", "rules:\n  - rule: x\n    when: [a, b]\n    patient: [1]\n",
                             "settings: [1, 2]\nrules: {a: 1}\n", "rules:\n  - rule: [x]\n", "tests: 5\ntest_recipients: {id: 1}\n"}) {
        RuleDir dir;
        dir.write("rules.yaml", text);
        auto loaded = load(dir.path(), options());
        EXPECT_FALSE(loaded.rules) << text;
        EXPECT_FALSE(loaded.errors.empty()) << text;
    }
}

}  // namespace
}  // namespace helsebro::mapping
