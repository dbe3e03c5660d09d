// Applying rules: records created once and found again by `match`, replays that change nothing,
// provenance, messages to the address book, and failures that name the rule.
#include <gtest/gtest.h>

#include "adapter/mapping/mapping.hpp"
#include "tests/support/norwegian.hpp"
#include "tests/unit/mapping/rule_files.hpp"

namespace helsebro::mapping {
namespace {

namespace json = fhir::json;
using testing::RuleDir;

const std::string fnr = helsebro::testing::synthetic_fnr(13, 11, 69);

const char* rules_yaml = R"(settings:
  home_visit_within: 3 days
rules:
  - rule: discharge-follow-up
    when:
      event: urn:oid:2.16.578.1.12.4.1.1.8279|UTSKRIVNINGSRAPPORT
    patient: Bundle.entry.resource.ofType(Patient).first()
    let:
      encounter: Bundle.entry.resource.ofType(Encounter).first()
    upsert:
      - resource: CarePlan
        as: plan
        match: category.coding.where(code = 'oppfolging').exists()
        create:
          status: "'active'"
          intent: "'plan'"
          subject: "%patient_reference"
          category:
            coding:
              system: "'urn:oid:2.16.578.1.12.4.1.1.8279'"
              code: "'oppfolging'"
        append:
          activity:
            detail:
              kind: "'Appointment'"
              status: "'not-started'"
              description: "'Hjemmebesøk etter utskrivning'"
              scheduledPeriod.end: "%encounter.period.end + %home_visit_within"
    send:
      - to: "%patient.generalPractitioner"
        focus: Bundle.entry.resource.ofType(Encounter)
        include: "%plan"
  - rule: count-changes
    when:
      patient_changed: true
    upsert:
      - resource: Flag
        match: code.coding.where(code = 'followed-up').exists()
        create:
          status: "'active'"
          subject: "%patient_reference"
          code:
            coding:
              system: "'urn:helsebro:flag'"
              code: "'followed-up'"
)";

json::Value message(const std::string& gp_hpr = "9144889") {
    auto text = R"({"resourceType":"Bundle","type":"message","entry":[
      {"fullUrl":"urn:uuid:1","resource":{"resourceType":"MessageHeader","eventCoding":{
         "system":"urn:oid:2.16.578.1.12.4.1.1.8279","code":"UTSKRIVNINGSRAPPORT"},"source":{"endpoint":"urn:x"}}},
      {"fullUrl":"urn:uuid:2","resource":{"resourceType":"Patient","identifier":[{"system":"urn:oid:2.16.578.1.12.4.1.4.1","value":")" +
                fnr + R"("}],"generalPractitioner":[{"identifier":{"system":"urn:oid:2.16.578.1.12.4.1.4.4","value":")" + gp_hpr +
                R"("}}]}},
      {"fullUrl":"urn:uuid:3","resource":{"resourceType":"Encounter","status":"finished","class":{
         "system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"IMP"},"period":{"start":"2026-01-10","end":"2026-01-14"}}}]})";
    return *json::parse(text).value;
}

class MappingApply : public ::testing::Test {
protected:
    void SetUp() override {
        dir_.write("rules.yaml", rules_yaml);
        LoadOptions options;
        options.recipients.emplace().push_back(Recipient{"legekontor", "https://gp.example/fhir", {"1234"}, {}, {"9144889"}});
        auto loaded = load(dir_.path(), options);
        ASSERT_TRUE(loaded.rules) << (loaded.errors.empty() ? "" : loaded.errors.front().to_string());
        rules_ = loaded.rules;
    }

    Outcome run(const json::Value& input, const std::vector<json::Value>& held, const std::string& id = "msg-1") {
        Input in;
        in.kind = Input::Kind::message;
        in.resource = &input;
        in.sender = "hospital";
        in.message_id = id;
        in.now = std::chrono::sys_days{std::chrono::year{2026} / 1 / 15};
        return apply(*rules_, in, [&](const PatientKey& key) {
            EXPECT_EQ(key.value, fnr);
            return held;
        });
    }

    RuleDir dir_;
    std::shared_ptr<const RuleSet> rules_;
};

TEST_F(MappingApply, CreatesThePlanOnceAndAReplayChangesNothing) {
    const auto input = message();
    auto first = run(input, {});
    ASSERT_TRUE(first.ok) << first.error;
    EXPECT_EQ(first.rules_applied, (std::vector<std::string>{"discharge-follow-up", "count-changes"}));
    ASSERT_EQ(first.changes.size(), 2u);
    const auto& plan = first.changes[0].resource;
    EXPECT_TRUE(first.changes[0].created);
    EXPECT_EQ(json::write(*plan.find("subject")),
              R"({"type":"Patient","identifier":{"system":"urn:oid:2.16.578.1.12.4.1.4.1","value":")" + fnr + R"("}})");
    const auto& detail = *plan.find("activity")->items()[0].find("detail");
    EXPECT_EQ(json::write(*detail.find("scheduledPeriod")), R"({"end":"2026-01-17"})");

    // The same message again, with what the first run wrote held: nothing changes, same ids.
    std::vector<json::Value> held;
    for (const auto& c : first.changes) held.push_back(c.resource);
    auto replay = run(input, held);
    ASSERT_TRUE(replay.ok) << replay.error;
    EXPECT_TRUE(replay.changes.empty());
    ASSERT_EQ(replay.messages.size(), 1u);
    EXPECT_EQ(json::write(replay.messages[0].bundle), json::write(first.messages[0].bundle));

    // A second discharge (another message) appends nothing new either: the visit is the same.
    auto second = run(input, held, "msg-2");
    ASSERT_TRUE(second.ok) << second.error;
    EXPECT_TRUE(second.changes.empty());
}

TEST_F(MappingApply, EveryChangeHasItsProvenance) {
    auto outcome = run(message(), {});
    ASSERT_TRUE(outcome.ok) << outcome.error;
    const auto& p = outcome.changes[0].provenance;
    const auto plan_id = std::string(*outcome.changes[0].resource.string_at("id"));
    EXPECT_EQ(*p.find("target")->items()[0].string_at("reference"), "CarePlan/" + plan_id);
    EXPECT_EQ(p.find("policy")->items()[0].text(), "urn:helsebro:rule-set:" + version(*rules_) + "#discharge-follow-up");
    EXPECT_EQ(*p.find("entity")->items()[0].find("what")->find("identifier")->string_at("value"), "msg-1");
    EXPECT_EQ(*p.find("agent")->items()[0].find("who")->find("identifier")->string_at("value"), "hospital");
    EXPECT_EQ(*p.find("activity")->find("coding")->items()[0].string_at("code"), "CREATE");
}

TEST_F(MappingApply, MessagesGoToTheAddressBookEntryOfTheGp) {
    auto outcome = run(message(), {});
    ASSERT_TRUE(outcome.ok) << outcome.error;
    ASSERT_EQ(outcome.messages.size(), 1u);
    EXPECT_EQ(outcome.messages[0].recipient, "legekontor");
    const auto& bundle = outcome.messages[0].bundle;
    const auto& header = *bundle.find("entry")->items()[0].find("resource");
    EXPECT_EQ(*header.find("destination")->items()[0].string_at("endpoint"), "https://gp.example/fhir");
    EXPECT_EQ(*header.find("eventCoding")->string_at("code"), "UTSKRIVNINGSRAPPORT");
    EXPECT_EQ(*bundle.string_at("id"), *header.string_at("id"));
    ASSERT_EQ(bundle.find("entry")->items().size(), 3u);  // header, the Encounter in focus, the plan
    EXPECT_EQ(*bundle.find("entry")->items()[2].find("resource")->string_at("resourceType"), "CarePlan");
}

TEST_F(MappingApply, AnUnknownRecipientFailsTheRuleAndWritesNothing) {
    auto outcome = run(message("1111111"), {});
    EXPECT_FALSE(outcome.ok);
    EXPECT_NE(outcome.error.find("rule 'discharge-follow-up' (rules.yaml:"), std::string::npos) << outcome.error;
    EXPECT_NE(outcome.error.find("not in the address book"), std::string::npos) << outcome.error;
    EXPECT_TRUE(outcome.changes.empty());
    EXPECT_TRUE(outcome.messages.empty());
    EXPECT_EQ(outcome.error.find(fnr), std::string::npos);
}

TEST_F(MappingApply, TwoMatchingRecordsAreAnError) {
    auto first = run(message(), {});
    ASSERT_TRUE(first.ok) << first.error;
    auto copy = first.changes[0].resource;
    copy.set("id", json::Value::string("another"));
    auto outcome = run(message(), {first.changes[0].resource, copy});
    EXPECT_FALSE(outcome.ok);
    EXPECT_NE(outcome.error.find("more than one CarePlan"), std::string::npos) << outcome.error;
}

TEST(MappingApplyInvalid, ARuleCannotWriteAnInvalidRecord) {
    RuleDir dir;
    dir.write("r.yaml", R"(rules:
  - rule: bad
    when:
      resource: Patient
    patient: Patient
    upsert:
      - resource: CarePlan
        match: "true"
        set:
          subject: "%patient_reference"
)");
    auto loaded = load(dir.path(), {});
    ASSERT_TRUE(loaded.rules) << loaded.errors.front().to_string();
    auto patient = *json::parse(R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:2.16.578.1.12.4.1.4.1","value":")" +
                                fnr + R"("}]})").value;
    Input in;
    in.kind = Input::Kind::resource;
    in.resource = &patient;
    in.message_id = "m";
    auto outcome = apply(*loaded.rules, in, [](const PatientKey&) { return std::vector<json::Value>{}; });
    EXPECT_FALSE(outcome.ok);
    EXPECT_NE(outcome.error.find("invalid"), std::string::npos) << outcome.error;
    EXPECT_NE(outcome.error.find("CarePlan.status"), std::string::npos) << outcome.error;
}

}  // namespace
}  // namespace helsebro::mapping

namespace helsebro::mapping {
namespace {

// A rule set of one discharge rule that keeps what `keep` gives.
std::shared_ptr<const RuleSet> keep_rules(const RuleDir& dir, const std::string& keep) {
    dir.write("r.yaml", R"(rules:
  - rule: keep-discharge-data
    when:
      event: urn:oid:2.16.578.1.12.4.1.1.8279|UTSKRIVNINGSRAPPORT
    patient: Bundle.entry.resource.ofType(Patient).first()
    keep: )" + keep + "\n");
    auto loaded = load(dir.path(), {});
    EXPECT_TRUE(loaded.rules) << loaded.errors.front().to_string();
    return loaded.rules;
}

// A discharge message from the hospital: header (urn:uuid:1), the patient (urn:uuid:2), then `entries`.
json::Value discharge_with(const std::string& entries) {
    return *json::parse(R"({"resourceType":"Bundle","type":"message","entry":[
      {"fullUrl":"urn:uuid:1","resource":{"resourceType":"MessageHeader","eventCoding":{
         "system":"urn:oid:2.16.578.1.12.4.1.1.8279","code":"UTSKRIVNINGSRAPPORT"},"source":{"endpoint":"urn:x"}}},
      {"fullUrl":"urn:uuid:2","resource":{"resourceType":"Patient","identifier":[{"system":"urn:oid:2.16.578.1.12.4.1.4.1","value":")" +
                        fnr + R"("}]}},)" + entries + "]}")
                .value;
}

Input message_input(const json::Value& bundle, const std::string& message_id) {
    Input in;
    in.kind = Input::Kind::message;
    in.resource = &bundle;
    in.sender = "hospital";
    in.message_id = message_id;
    return in;
}

TEST(MappingKeep, ReceivedResourcesBecomeThePatientsDataOnce) {
    RuleDir dir;
    auto rules = keep_rules(dir, "Bundle.entry.resource.ofType(Encounter)");
    ASSERT_TRUE(rules);
    auto input = discharge_with(R"(
      {"fullUrl":"urn:uuid:3","resource":{"resourceType":"Encounter","id":"enc-77","status":"finished","class":{
         "system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"IMP"},"subject":{"reference":"urn:uuid:2"}}})");
    Input in = message_input(input, "m1");
    auto first = apply(*rules, in, [](const PatientKey&) { return std::vector<json::Value>{}; });
    ASSERT_TRUE(first.ok) << first.error;
    ASSERT_EQ(first.changes.size(), 1u);
    const auto& kept = first.changes[0].resource;
    EXPECT_EQ(json::write(*kept.find("subject")),
              R"({"type":"Patient","identifier":{"system":"urn:oid:2.16.578.1.12.4.1.4.1","value":")" + fnr + R"("}})");
    EXPECT_NE(*kept.string_at("id"), "enc-77");

    in.message_id = "m2";  // the same Encounter in a later message: the same record, unchanged
    auto again = apply(*rules, in, [&](const PatientKey&) { return std::vector<json::Value>{kept}; });
    ASSERT_TRUE(again.ok) << again.error;
    EXPECT_TRUE(again.changes.empty());
}

// A reference into the received Bundle dangles once the Bundle is gone: between kept resources it
// names the target's record; to a target neither kept nor identifiable it keeps the target's type
// and the display, never the urn:uuid.
TEST(MappingKeep, ReferencesBetweenKeptResourcesNameTheirRecords) {
    RuleDir dir;
    auto rules = keep_rules(dir, "Bundle.entry.resource.where($this is Encounter or $this is Condition)");
    ASSERT_TRUE(rules);
    auto input = discharge_with(R"(
      {"fullUrl":"urn:uuid:3","resource":{"resourceType":"Encounter","status":"finished","class":{
         "system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"IMP"},"subject":{"reference":"urn:uuid:2"}}},
      {"fullUrl":"urn:uuid:4","resource":{"resourceType":"Practitioner","name":[{"family":"Lege"}]}},
      {"fullUrl":"urn:uuid:5","resource":{"resourceType":"Condition","subject":{"reference":"urn:uuid:2"},
         "encounter":{"reference":"urn:uuid:3"},"asserter":{"reference":"urn:uuid:4","display":"Dr. Lege"}}})");
    auto outcome = apply(*rules, message_input(input, "m1"), [](const PatientKey&) { return std::vector<json::Value>{}; });
    ASSERT_TRUE(outcome.ok) << outcome.error;
    ASSERT_EQ(outcome.changes.size(), 2u);
    const auto& encounter = outcome.changes[0].resource;
    const auto& condition = outcome.changes[1].resource;
    ASSERT_EQ(*encounter.string_at("resourceType"), "Encounter");
    EXPECT_EQ(json::write(*condition.find("encounter")), R"({"reference":"Encounter/)" + std::string(*encounter.string_at("id")) + R"("})");
    EXPECT_EQ(json::write(*condition.find("asserter")), R"({"type":"Practitioner","display":"Dr. Lege"})");
    EXPECT_EQ(json::write(*condition.find("subject")),
              R"({"type":"Patient","identifier":{"system":"urn:oid:2.16.578.1.12.4.1.4.1","value":")" + fnr + R"("}})");
}

}  // namespace
}  // namespace helsebro::mapping

namespace helsebro::mapping {
namespace {

TEST(MappingForEach, OneElementPerItem) {
    RuleDir dir;
    dir.write("r.yaml", R"(rules:
  - rule: team
    when:
      event: urn:oid:2.16.578.1.12.4.1.1.8279|UTSKRIVNINGSRAPPORT
    patient: Bundle.entry.resource.ofType(Patient).first()
    upsert:
      - resource: CareTeam
        match: "true"
        set:
          subject: "%patient_reference"
          participant:
            for_each: Bundle.entry.resource.ofType(PractitionerRole)
            role: "%item.code"
            member: "%item.practitioner"
)");
    auto loaded = load(dir.path(), {});
    ASSERT_TRUE(loaded.rules) << loaded.errors.front().to_string();
    auto input = *json::parse(R"({"resourceType":"Bundle","type":"message","entry":[
      {"resource":{"resourceType":"MessageHeader","eventCoding":{"system":"urn:oid:2.16.578.1.12.4.1.1.8279","code":"UTSKRIVNINGSRAPPORT"},"source":{"endpoint":"urn:x"}}},
      {"resource":{"resourceType":"Patient","identifier":[{"system":"urn:oid:2.16.578.1.12.4.1.4.1","value":")" + fnr + R"("}]}},
      {"resource":{"resourceType":"PractitionerRole","practitioner":{"identifier":{"system":"urn:oid:2.16.578.1.12.4.1.4.4","value":"1"}},"code":[{"text":"nurse"}]}},
      {"resource":{"resourceType":"PractitionerRole","practitioner":{"identifier":{"system":"urn:oid:2.16.578.1.12.4.1.4.4","value":"2"}},"code":[{"text":"secretary"}]}}]})").value;
    Input in;
    in.resource = &input;
    in.message_id = "m";
    auto outcome = apply(*loaded.rules, in, [](const PatientKey&) { return std::vector<json::Value>{}; });
    ASSERT_TRUE(outcome.ok) << outcome.error;
    ASSERT_EQ(outcome.changes.size(), 1u);
    const auto* participants = outcome.changes[0].resource.find("participant");
    ASSERT_NE(participants, nullptr);
    ASSERT_EQ(participants->items().size(), 2u);
    EXPECT_EQ(json::write(*participants->items()[1].find("role")), R"([{"text":"secretary"}])");
    EXPECT_EQ(*participants->items()[1].find("member")->find("identifier")->string_at("value"), "2");
}

TEST(MappingForEach, ItemIsTypedFromTheExpression) {
    RuleDir dir;
    dir.write("r.yaml", R"(rules:
  - rule: team
    when:
      event: urn:oid:2.16.578.1.12.4.1.1.8279|UTSKRIVNINGSRAPPORT
    patient: Bundle.entry.resource.ofType(Patient).first()
    upsert:
      - resource: CareTeam
        match: "true"
        set:
          participant:
            for_each: Bundle.entry.resource.ofType(PractitionerRole)
            member: "%item.practitionr"
)");
    auto loaded = load(dir.path(), {});
    ASSERT_EQ(loaded.errors.size(), 1u);
    EXPECT_NE(loaded.errors[0].message.find("'practitionr' is no element of PractitionerRole"), std::string::npos)
        << loaded.errors[0].to_string();
}

}  // namespace
}  // namespace helsebro::mapping

namespace helsebro::mapping {
namespace {

TEST(MappingIdentifyBy, AChangedElementReplacesTheOneWithItsKey) {
    RuleDir dir;
    dir.write("r.yaml", R"y(rules:
  - rule: activities
    when:
      resource: ServiceRequest
    patient: subject
    upsert:
      - resource: CarePlan
        match: "true"
        create:
          status: "'active'"
          intent: "'plan'"
          subject: "%patient_reference"
        append:
          activity:
            identify_by: detail.code.coding.code
            detail:
              code:
                coding:
                  system: "'urn:helsebro:test'"
                  code: "id"
              status: "iif(status = 'active', 'in-progress', 'not-started')"
)y");
    auto loaded = load(dir.path(), {});
    ASSERT_TRUE(loaded.rules) << loaded.errors.front().to_string();
    auto request = [&](const char* status) {
        return *json::parse(std::string(R"({"resourceType":"ServiceRequest","id":"sr1","status":")") + status +
                            R"(","intent":"order","subject":{"identifier":{"system":"urn:oid:2.16.578.1.12.4.1.4.1","value":")" + fnr +
                            R"("}}})").value;
    };
    auto first_input = request("draft");
    Input in;
    in.kind = Input::Kind::resource;
    in.resource = &first_input;
    in.message_id = "m1";
    auto first = apply(*loaded.rules, in, [](const PatientKey&) { return std::vector<json::Value>{}; });
    ASSERT_TRUE(first.ok) << first.error;
    auto plan = first.changes[0].resource;

    auto second_input = request("active");
    in.resource = &second_input;
    in.message_id = "m2";
    auto second = apply(*loaded.rules, in, [&](const PatientKey&) { return std::vector<json::Value>{plan}; });
    ASSERT_TRUE(second.ok) << second.error;
    ASSERT_EQ(second.changes.size(), 1u);
    const auto* activities = second.changes[0].resource.find("activity");
    ASSERT_EQ(activities->items().size(), 1u);  // replaced, not added
    EXPECT_EQ(*activities->items()[0].find("detail")->string_at("status"), "in-progress");
}

}  // namespace
}  // namespace helsebro::mapping
