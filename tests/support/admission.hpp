#pragma once
// The admission flow the processing tests share: an INNLEGGELSESRAPPORT message about one patient,
// and rules that keep a CarePlan per patient with a note.

#include <string>

namespace helsebro::testing {

// The message; `header_id` empty: none; `family` empty: a patient without a name.
inline std::string admission_message(const std::string& fnr, const std::string& header_id = "",
                                     const std::string& family = "Nordmann") {
    return R"({"resourceType":"Bundle","type":"message","entry":[
      {"fullUrl":"urn:uuid:1","resource":{"resourceType":"MessageHeader",)" +
           (header_id.empty() ? std::string() : R"("id":")" + header_id + R"(",)") + R"("eventCoding":{
         "system":"urn:oid:2.16.578.1.12.4.1.1.8279","code":"INNLEGGELSESRAPPORT"},"source":{"endpoint":"urn:x"}}},
      {"fullUrl":"urn:uuid:2","resource":{"resourceType":"Patient",)" +
           (family.empty() ? std::string() : R"("name":[{"family":")" + family + R"("}],)") +
           R"("identifier":[{"system":"urn:oid:2.16.578.1.12.4.1.4.1","value":")" + fnr + R"("}]}}]})";
}

// Rule `admission-plan`: on an admission, the patient's CarePlan (made once) gets a note whose
// text is the FHIRPath `note`; `let` (YAML lines at the rule's level, e.g. "    let:\n ...") comes
// before the upsert, `send` after it.
inline std::string admission_rules(const std::string& note, const std::string& let = "",
                                   const std::string& send = "    send:\n      - recipient: hospital\n") {
    return "rules:\n"
           "  - rule: admission-plan\n"
           "    when:\n"
           "      event: urn:oid:2.16.578.1.12.4.1.1.8279|INNLEGGELSESRAPPORT\n"
           "    patient: Bundle.entry.resource.ofType(Patient).first()\n" +
           let +
           "    upsert:\n"
           "      - resource: CarePlan\n"
           "        match: \"true\"\n"
           "        create:\n"
           "          status: \"'active'\"\n"
           "          intent: \"'plan'\"\n"
           "          subject: \"%patient_reference\"\n"
           "        append:\n"
           "          note:\n"
           "            text: \"" + note + "\"\n" +
           send;
}

}  // namespace helsebro::testing
