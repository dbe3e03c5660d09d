#include "fhir/xml.hpp"

#include <gtest/gtest.h>

#include <string>

#include "fhir/json.hpp"

namespace {

namespace json = helsebro::fhir::json;
namespace xml = helsebro::fhir::xml;

constexpr const char* ns = "xmlns=\"http://hl7.org/fhir\"";

json::Value tree(std::string_view text) {
    auto r = json::parse(text);
    EXPECT_TRUE(r.value) << r.error.message;
    return r.value ? *r.value : json::Value();
}

// FHIR XML -> compact JSON text (members in the order the reader produced them).
std::string to_json(const std::string& doc) {
    auto r = xml::parse(doc);
    EXPECT_TRUE(r.value) << r.error.message << " at " << r.error.path << " line " << r.error.line;
    return r.value ? json::write(*r.value) : std::string();
}

// The XML after the declaration line.
std::string to_xml(std::string_view json_text) {
    auto r = xml::write_checked(tree(json_text));
    EXPECT_TRUE(r.xml) << r.message << " at " << r.path;
    if (!r.xml) return {};
    std::string s = *r.xml;
    s.erase(0, s.find('\n') + 1);
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
}

xml::ParseError error_of(const std::string& doc, const xml::ParseLimits& limits = {}) {
    auto r = xml::parse(doc, limits);
    EXPECT_FALSE(r.value);
    return r.error;
}

TEST(FhirXml, PrimitiveWithIdAndExtensionBecomesUnderscoreObject) {
    const std::string doc = std::string("<Patient ") + ns + R"(><birthDate id="b1" value="1970-03-30">)" +
                            R"(<extension url="http://example.org/time"><valueTime value="10:00:00"/></extension>)" +
                            "</birthDate></Patient>";
    const std::string expected =
        R"({"resourceType":"Patient","birthDate":"1970-03-30","_birthDate":{"id":"b1","extension":[{"url":"http://example.org/time","valueTime":"10:00:00"}]}})";
    EXPECT_EQ(to_json(doc), expected);
    EXPECT_EQ(to_xml(expected), doc);
}

TEST(FhirXml, PrimitiveWithOnlyAnExtensionHasNoValue) {
    const std::string doc = std::string("<Patient ") + ns + R"(><gender><extension url="http://x.org/e">)" +
                            R"(<valueCode value="unknown"/></extension></gender></Patient>)";
    const std::string expected =
        R"({"resourceType":"Patient","_gender":{"extension":[{"url":"http://x.org/e","valueCode":"unknown"}]}})";
    EXPECT_EQ(to_json(doc), expected);
    EXPECT_EQ(to_xml(expected), doc);
}

TEST(FhirXml, RepeatingPrimitivesAlignWithNullPlaceholders) {
    const std::string doc = std::string("<Patient ") + ns + R"(><name><given value="Kari"/>)" +
                            R"(<given id="g2"><extension url="http://x.org/e"><valueBoolean value="true"/></extension></given>)" +
                            R"(<given value="Nordmann"/></name></Patient>)";
    const std::string expected =
        R"({"resourceType":"Patient","name":[{"given":["Kari",null,"Nordmann"],"_given":[null,{"id":"g2","extension":[{"url":"http://x.org/e","valueBoolean":true}]},null]}]})";
    EXPECT_EQ(to_json(doc), expected);
    EXPECT_EQ(to_xml(expected), doc);
}

TEST(FhirXml, RepeatingElementIsAnArrayEvenWithOneItem) {
    EXPECT_EQ(to_json(std::string("<Patient ") + ns + R"(><identifier><value value="1"/></identifier></Patient>)"),
              R"({"resourceType":"Patient","identifier":[{"value":"1"}]})");
}

TEST(FhirXml, ChoiceTypesUseTheTypedName) {
    const std::string doc = std::string("<Observation ") + ns +
                            R"(><status value="final"/><code><text value="Vekt"/></code>)" +
                            R"(<effectiveDateTime value="2024-01-02"/><valueQuantity><value value="72.50"/>)" +
                            R"(<unit value="kg"/></valueQuantity></Observation>)";
    const std::string expected =
        R"({"resourceType":"Observation","status":"final","code":{"text":"Vekt"},"effectiveDateTime":"2024-01-02","valueQuantity":{"value":72.50,"unit":"kg"}})";
    EXPECT_EQ(to_json(doc), expected);
    EXPECT_EQ(to_xml(expected), doc);
}

TEST(FhirXml, BooleansAndIntegersAreTypedJson) {
    const std::string doc = std::string("<Patient ") + ns +
                            R"(><active value="true"/><multipleBirthInteger value="2"/></Patient>)";
    const std::string expected = R"({"resourceType":"Patient","active":true,"multipleBirthInteger":2})";
    EXPECT_EQ(to_json(doc), expected);
    EXPECT_EQ(to_xml(expected), doc);
    EXPECT_FALSE(xml::parse(std::string("<Patient ") + ns + R"(><active value="yes"/></Patient>)").value);
}

TEST(FhirXml, DecimalsKeepTheirTextBothWays) {
    for (const char* text : {"1.0", "1.00", "1E-22", "-0.000", "12345678901234567890.123456789"}) {
        const std::string doc = std::string("<Observation ") + ns +
                                R"(><status value="final"/><code><text value="x"/></code><valueQuantity><value value=")" +
                                text + R"("/></valueQuantity></Observation>)";
        const std::string expected = std::string(R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":)") +
                                     text + "}}";
        EXPECT_EQ(to_json(doc), expected) << text;
        EXPECT_EQ(to_xml(expected), doc) << text;
    }
}

TEST(FhirXml, NumbersThatAreNoJsonNumbersAreRefused) {
    for (const char* text : {"+1", ".5", "1.", "01", "NaN", ""}) {
        const std::string doc = std::string("<Observation ") + ns +
                                R"(><valueQuantity><value value=")" + text + R"("/></valueQuantity></Observation>)";
        const auto e = error_of(doc);
        EXPECT_EQ(e.path, "Observation.valueQuantity.value") << text;
        EXPECT_NE(e.message.find("decimal"), std::string::npos) << e.message;
    }
}

TEST(FhirXml, ContainedResourcesAreWrapped) {
    const std::string doc = std::string("<Patient ") + ns +
                            R"(><contained><Organization><id value="org1"/><name value="St. Olavs"/></Organization></contained>)" +
                            R"(<managingOrganization><reference value="#org1"/></managingOrganization></Patient>)";
    const std::string expected =
        R"({"resourceType":"Patient","contained":[{"resourceType":"Organization","id":"org1","name":"St. Olavs"}],"managingOrganization":{"reference":"#org1"}})";
    EXPECT_EQ(to_json(doc), expected);
    EXPECT_EQ(to_xml(expected), doc);
}

TEST(FhirXml, BundleEntriesParametersAndOutcomesAreWrapped) {
    const std::string doc = std::string("<Bundle ") + ns +
                            R"(><type value="transaction-response"/><entry><fullUrl value="urn:uuid:1"/>)" +
                            R"(<resource><Parameters><parameter><name value="p"/><resource><Patient><active value="false"/></Patient>)" +
                            R"(</resource></parameter></Parameters></resource><response><status value="400"/><outcome>)" +
                            R"(<OperationOutcome><issue><severity value="error"/><code value="invalid"/></issue></OperationOutcome>)" +
                            R"(</outcome></response></entry></Bundle>)";
    const std::string expected =
        R"({"resourceType":"Bundle","type":"transaction-response","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Parameters","parameter":[{"name":"p","resource":{"resourceType":"Patient","active":false}}]},"response":{"status":"400","outcome":{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid"}]}}}]})";
    EXPECT_EQ(to_json(doc), expected);
    EXPECT_EQ(to_xml(expected), doc);
}

TEST(FhirXml, NarrativeDivIsKeptAsMarkup) {
    const std::string div = R"(<div xmlns="http://www.w3.org/1999/xhtml"><p>Hei <b>på</b> deg &amp; dere<br/></p></div>)";
    const std::string doc = std::string("<Patient ") + ns + R"(><text><status value="generated"/>)" + div +
                            "</text></Patient>";
    const std::string expected =
        R"({"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Hei <b>på</b> deg &amp; dere<br/></p></div>"}})";
    EXPECT_EQ(to_json(doc), expected);
    EXPECT_EQ(to_xml(expected), doc);
}

TEST(FhirXml, DivThatIsNotWellFormedIsNotWritten) {
    auto r = xml::write_checked(tree(R"({"resourceType":"Patient","text":{"status":"generated","div":"<div><p>open</div>"}})"));
    EXPECT_FALSE(r.xml);
    EXPECT_EQ(r.path, "Patient.text.div");
    r = xml::write_checked(tree(R"({"resourceType":"Patient","text":{"status":"generated","div":"<div>no namespace</div>"}})"));
    EXPECT_FALSE(r.xml);
}

TEST(FhirXml, UnicodeIsWrittenAsUtf8) {
    const std::string expected = R"({"resourceType":"Patient","name":[{"family":"Ærøskøbing-Åsen","given":["Zoë 😀"]}]})";
    const std::string doc = to_xml(expected);
    EXPECT_EQ(doc, std::string("<Patient ") + ns +
                       R"(><name><family value="Ærøskøbing-Åsen"/><given value="Zoë 😀"/></name></Patient>)");
    EXPECT_EQ(to_json(doc), expected);
    EXPECT_EQ(to_json(std::string("<Patient ") + ns + R"(><name><family value="&#xC6;&#248;"/></name></Patient>)"),
              R"({"resourceType":"Patient","name":[{"family":"Æø"}]})");
}

TEST(FhirXml, SpecialCharactersAreEscaped) {
    const std::string expected = R"({"resourceType":"Patient","name":[{"text":"a<b & \"c\" 'd'\nnext\ttab"}]})";
    EXPECT_EQ(to_json(to_xml(expected)), expected);
}

TEST(FhirXml, ControlCharactersAreNotWritten) {
    const auto r = xml::write_checked(tree(R"({"resourceType":"Patient","name":[{"text":"bell\u0007"}]})"));
    EXPECT_FALSE(r.xml);
    EXPECT_EQ(r.path, "Patient.name[0].text");
}

TEST(FhirXml, LineNumbersBeyond65535) {
    std::string doc = std::string("<Patient ") + ns + ">" + std::string(70000, '\n') + "<nickname value=\"x\"/></Patient>";
    EXPECT_EQ(error_of(doc).line, 70001u);
}

TEST(FhirXml, ElementsAreWrittenInDefinitionOrder) {
    const std::string json_text =
        R"({"gender":"female","birthDate":"1970-01-01","name":[{"given":["Kari"],"family":"Nordmann"}],"id":"p1","resourceType":"Patient","meta":{"versionId":"2"}})";
    EXPECT_EQ(to_xml(json_text), std::string("<Patient ") + ns +
                                     R"(><id value="p1"/><meta><versionId value="2"/></meta><name><family value="Nordmann"/>)" +
                                     R"(<given value="Kari"/></name><gender value="female"/><birthDate value="1970-01-01"/></Patient>)");
}

TEST(FhirXml, UnknownMembersAndFhirCommentsAreNotWritten) {
    auto r = xml::write_checked(tree(R"({"resourceType":"Patient","fhir_comments":["x"]})"));
    EXPECT_FALSE(r.xml);
    EXPECT_EQ(r.path, "Patient.fhir_comments");
    r = xml::write_checked(tree(R"({"resourceType":"Patient","name":[{"nickname":"x"}]})"));
    EXPECT_FALSE(r.xml);
    EXPECT_EQ(r.path, "Patient.name[0].nickname");
    EXPECT_FALSE(xml::write_checked(tree(R"({"resourceType":"Nonsense"})")).xml);
    EXPECT_EQ(xml::write(tree(R"({"resourceType":"Patient","active":"true"})")), "");
}

TEST(FhirXml, CommentsAreDropped) {
    EXPECT_EQ(to_json(std::string("<!-- a --><Patient ") + ns + R"(><!-- b --><active value="true"/></Patient>)"),
              R"({"resourceType":"Patient","active":true})");
}

TEST(FhirXml, DoctypeIsRefused) {
    const auto e = error_of(std::string("<?xml version=\"1.0\"?>\n<!DOCTYPE Patient>\n<Patient ") + ns + "/>");
    EXPECT_NE(e.message.find("DOCTYPE"), std::string::npos) << e.message;
}

TEST(FhirXml, ExternalEntitiesAreRefused) {
    const std::string doc = std::string("<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>\n") +
                            "<Patient " + ns + "><name><text value=\"&e;\"/></name></Patient>";
    auto r = xml::parse(doc);
    ASSERT_FALSE(r.value);
    EXPECT_NE(r.error.message.find("DOCTYPE"), std::string::npos) << r.error.message;
    EXPECT_EQ(r.error.message.find("root:"), std::string::npos);
}

TEST(FhirXml, EntityExpansionIsRefused) {
    const std::string doc = std::string("<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;\">]>") +
                            "<Patient " + ns + "><name><text value=\"&lol2;\"/></name></Patient>";
    EXPECT_NE(error_of(doc).message.find("DOCTYPE"), std::string::npos);
    // Without a DOCTYPE an undeclared entity is simply not well-formed.
    const auto e = error_of(std::string("<Patient ") + ns + "><name><text value=\"&e;\"/></name></Patient>");
    EXPECT_EQ(e.line, 1u);
    EXPECT_GT(e.column, 0u);
}

// After the validator test cases list-xhtml-xxe*, list-wrong-ns*, list-xhtml-wrongns* (fhir-test-cases).
TEST(FhirXml, NarrativeEntitiesAndWrongNamespacesAreRefused) {
    const std::string p = std::string("<Patient ") + ns + "><text><status value=\"generated\"/>";
    EXPECT_FALSE(xml::parse(p + "<div xmlns=\"http://www.w3.org/1999/xhtml\">&nbsp;</div></text></Patient>").value);
    EXPECT_FALSE(xml::parse(p + "<div xmlns=\"http://www.w3.org/1999/xhtml\">&xxe;</div></text></Patient>").value);
    EXPECT_FALSE(xml::parse(p + "<div xmlns=\"http://www.w3.org/1999/xhtm\">x</div></text></Patient>").value);
    EXPECT_FALSE(xml::parse(p + "<div xmlns=\"http://hl7.org/fhir\">x</div></text></Patient>").value);
    EXPECT_FALSE(xml::parse("<Patient xmlns=\"http://hl7.org/fhirx\"/>").value);
    const auto e = error_of(std::string("<Patient ") + ns + "><name><family xmlns=\"http://example.org\" value=\"x\"/></name></Patient>");
    EXPECT_EQ(e.path, "Patient.name[0].family");
    // A prefixed FHIR namespace is the same namespace.
    EXPECT_TRUE(xml::parse("<f:Patient xmlns:f=\"http://hl7.org/fhir\"><f:active value=\"true\"/></f:Patient>").value);
}

TEST(FhirXml, DepthLimit) {
    std::string doc = std::string("<Patient ") + ns + ">";
    for (int i = 0; i < 40; ++i) doc += "<extension url=\"http://x.org/e\">";
    doc += "<valueString value=\"deep\"/>";
    for (int i = 0; i < 40; ++i) doc += "</extension>";
    doc += "</Patient>";
    EXPECT_TRUE(xml::parse(doc).value);
    const auto e = error_of(doc, xml::ParseLimits{.max_depth = 20});
    EXPECT_NE(e.message.find("deeper"), std::string::npos) << e.message;
    EXPECT_TRUE(e.path.starts_with("Patient.extension[0].extension[0]")) << e.path;
    // Writing has its own limit.
    EXPECT_FALSE(xml::write_checked(*xml::parse(doc).value, 20).xml);
}

TEST(FhirXml, SizeLimit) {
    const std::string doc = std::string("<Patient ") + ns + "/>";
    EXPECT_TRUE(xml::parse(doc).value);
    EXPECT_NE(error_of(doc, xml::ParseLimits{.max_bytes = 10}).message.find("larger"), std::string::npos);
}

TEST(FhirXml, ErrorsCarryLineAndPath) {
    const std::string doc = std::string("<Patient ") + ns + ">\n  <name>\n    <nickname value=\"x\"/>\n  </name>\n</Patient>";
    const auto e = error_of(doc);
    EXPECT_EQ(e.line, 3u);
    EXPECT_EQ(e.path, "Patient.name[0].nickname");
    EXPECT_NE(e.message.find("Unknown element"), std::string::npos);

    const auto bad = error_of(std::string("<Patient ") + ns + ">\n<active value=\"true\">\n</Patient>");
    EXPECT_EQ(bad.line, 3u);
    EXPECT_GT(bad.column, 0u);
}

TEST(FhirXml, StructuralMistakesAreRefused) {
    const std::string p = std::string("<Patient ") + ns + ">";
    EXPECT_FALSE(xml::parse("<Patient><active value=\"true\"/></Patient>").value);                 // no namespace
    EXPECT_FALSE(xml::parse(std::string("<Resource ") + ns + "/>").value);                          // abstract
    EXPECT_FALSE(xml::parse(p + "<active value=\"true\"/><active value=\"false\"/></Patient>").value);  // max 1
    EXPECT_FALSE(xml::parse(p + "<active>true</active></Patient>").value);                          // text content
    EXPECT_FALSE(xml::parse(p + "<active/></Patient>").value);                                       // no value
    EXPECT_FALSE(xml::parse(p + "<active value=\"true\" colour=\"red\"/></Patient>").value);         // attribute
    EXPECT_FALSE(xml::parse(p + "<contained/></Patient>").value);                                    // empty wrapper
    EXPECT_FALSE(xml::parse(p + "<_active value=\"true\"/></Patient>").value);
    EXPECT_FALSE(xml::parse(p + "<text><status value=\"generated\"/><div/></text></Patient>").value);  // div namespace
    EXPECT_FALSE(xml::parse(p + "<deceasedBoolean value=\"true\"/><deceasedDateTime value=\"2020\"/></Patient>").value);
    EXPECT_FALSE(xml::parse("").value);
}

TEST(FhirXml, ResourceIdAndElementIdAreDistinct) {
    const std::string doc = std::string("<Patient ") + ns +
                            R"(><id value="p1"/><name id="n1"><family value="A"/></name></Patient>)";
    const std::string expected = R"({"resourceType":"Patient","id":"p1","name":[{"id":"n1","family":"A"}]})";
    EXPECT_EQ(to_json(doc), expected);
    EXPECT_EQ(to_xml(expected), doc);
}

TEST(FhirXml, WriteAddsDeclarationAndNamespace) {
    const std::string out = xml::write(tree(R"({"resourceType":"Patient","active":true})"));
    EXPECT_EQ(out, std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Patient ") + ns +
                       "><active value=\"true\"/></Patient>\n");
}

}  // namespace
