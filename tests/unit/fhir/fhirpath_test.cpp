// The FHIRPath engine on what the official suite covers thinly: error positions, partial-precision
// dates, quantities with units, resolve() in a Bundle, variables, the clock, limits and threads.
#include "fhir/fhirpath.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "fhir/json.hpp"

namespace fp = helsebro::fhir::fhirpath;
namespace json = helsebro::fhir::json;

namespace {

json::Value parse(std::string_view text) {
    auto r = json::parse(text);
    EXPECT_TRUE(r.value) << r.error.message;
    return r.value ? *r.value : json::Value();
}

const json::Value& patient() {
    static const json::Value p = parse(R"({
      "resourceType": "Patient", "id": "p1",
      "identifier": [{"system": "urn:oid:2.16.578.1.12.4.1.4.1", "value": "13116900216"}],
      "name": [{"use": "official", "family": "Ås", "given": ["Kari", "Øydis"]}],
      "birthDate": "1969-11-13",
      "_birthDate": {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime",
                                     "valueDateTime": "1969-11-13T08:15:00+01:00"}]},
      "contained": [{"resourceType": "Organization", "id": "gp", "name": "Legekontoret"}],
      "managingOrganization": {"reference": "#gp"},
      "generalPractitioner": [{"reference": "Practitioner/hpr-9144889"}]
    })");
    return p;
}

const json::Value& bundle() {
    static const json::Value b = parse(R"({
      "resourceType": "Bundle", "type": "transaction",
      "entry": [
        {"fullUrl": "urn:uuid:0f6e0e2a-6f0b-4c3e-9a55-1a2b3c4d5e6f",
         "resource": {"resourceType": "Patient", "name": [{"family": "Nordmann"}]}},
        {"fullUrl": "https://fhir.example.no/Practitioner/hpr-9144889",
         "resource": {"resourceType": "Practitioner", "id": "hpr-9144889", "name": [{"family": "Lege"}]}},
        {"resource": {"resourceType": "Observation", "status": "final",
                      "subject": {"reference": "urn:uuid:0f6e0e2a-6f0b-4c3e-9a55-1a2b3c4d5e6f"},
                      "performer": [{"reference": "Practitioner/hpr-9144889"}],
                      "valueQuantity": {"value": 72.5, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}}}
      ]})");
    return b;
}

fp::Result eval(std::string_view expr, const json::Value& on, const fp::Environment& env = {}, std::string_view type = {}) {
    auto c = fp::compile(expr, {type});
    EXPECT_TRUE(c.expression) << expr.substr(0, 80) << ": " << c.error.message;
    if (!c.expression) return {};
    return c.expression->evaluate(on, env);
}

// The result as text, items joined by '|'; "ERROR" on an evaluation error.
std::string text(std::string_view expr, const json::Value& on = patient(), const fp::Environment& env = {}) {
    auto r = eval(expr, on, env);
    if (!r.items) return "ERROR: " + r.error.message;
    std::string out;
    for (const auto& item : *r.items) {
        if (!out.empty()) out += '|';
        out += item.to_text().value_or("<" + std::string(item.type_name()) + ">");
    }
    return out;
}

}  // namespace

TEST(FhirPathEngine, SyntaxErrorsSayWhereAndWhat) {
    auto c = fp::compile("name.where(given = 'Kari'\n  and family = )");
    ASSERT_FALSE(c.expression);
    EXPECT_EQ(c.error.kind, fp::Error::Kind::syntax);
    EXPECT_EQ(c.error.line, 2u);
    EXPECT_EQ(c.error.column, 16u);
    EXPECT_NE(c.error.message.find("Expected an expression"), std::string::npos) << c.error.message;

    c = fp::compile("name.given.substring(1");
    ASSERT_FALSE(c.expression);
    EXPECT_NE(c.error.message.find("')'"), std::string::npos) << c.error.message;

    c = fp::compile("'not closed");
    ASSERT_FALSE(c.expression);
    EXPECT_EQ(c.error.column, 1u);
}

TEST(FhirPathEngine, SemanticErrorsAgainstTheContextTypeCarryAHint) {
    auto c = fp::compile("Observation.valueQuantity.value", {"Observation"});
    ASSERT_FALSE(c.expression);
    EXPECT_EQ(c.error.kind, fp::Error::Kind::semantic);
    EXPECT_EQ(c.error.column, 13u);
    EXPECT_NE(c.error.message.find("value.ofType(Quantity)"), std::string::npos) << c.error.message;

    EXPECT_FALSE(fp::compile("name.gven", {"Patient"}).expression);
    EXPECT_FALSE(fp::compile("name.frobnicate()").expression);               // unknown function
    EXPECT_FALSE(fp::compile("name.substring()").expression);                 // arity
    EXPECT_FALSE(fp::compile("name.matches('(unclosed')").expression);        // regex checked once, at compile
    EXPECT_FALSE(fp::compile("identifier.startsWith('x')", {"Patient"}).expression);
    EXPECT_TRUE(fp::compile("name.gven").expression);  // without a context type nothing can be known
    EXPECT_TRUE(fp::compile("contact.name.family", {"Patient"}).expression);
    EXPECT_TRUE(fp::compile("Bundle.entry.resource.ofType(Patient).name.given", {"Bundle"}).expression);
    EXPECT_TRUE(fp::compile("item.item.linkId", {"Questionnaire"}).expression);  // content reference
}

TEST(FhirPathEngine, NavigatesChoicesPrimitiveExtensionsAndContained) {
    EXPECT_EQ(text("Bundle.entry.resource.ofType(Observation).value.ofType(Quantity).value", bundle()), "72.5");
    EXPECT_EQ(text("birthDate.extension('http://hl7.org/fhir/StructureDefinition/patient-birthTime').value"),
              "1969-11-13T08:15:00+01:00");
    EXPECT_EQ(text("managingOrganization.resolve().name"), "Legekontoret");
    EXPECT_EQ(text("name.given.join(' ') & ' ' & name.family"), "Kari Øydis Ås");
}

TEST(FhirPathEngine, ResolvesReferencesInsideTheBundleAndThroughTheCaller) {
    const auto& b = bundle();
    EXPECT_EQ(text("entry.resource.ofType(Observation).subject.resolve().name.family", b), "Nordmann");
    // Type/id matches an entry whose fullUrl ends with it.
    EXPECT_EQ(text("entry.resource.ofType(Observation).performer.resolve().name.family", b), "Lege");

    // Outside the Bundle only the caller knows: Environment::resolve.
    const json::Value gp = parse(R"({"resourceType":"Practitioner","id":"hpr-9144889","name":[{"family":"Fastlege"}]})");
    fp::Environment env;
    env.resolve = [&](std::string_view ref) -> const json::Value* { return ref == "Practitioner/hpr-9144889" ? &gp : nullptr; };
    EXPECT_EQ(text("generalPractitioner.resolve().name.family", patient(), env), "Fastlege");
    EXPECT_EQ(text("generalPractitioner.resolve().exists()"), "false");
}

TEST(FhirPathEngine, VariablesFromTheCallerAndBuiltIns) {
    fp::Environment env;
    env.variables.emplace_back("hprSystem", fp::Collection{fp::Item(std::string("urn:oid:2.16.578.1.12.4.1.4.4"))});
    env.variables.emplace_back("days", fp::Collection{fp::Item(std::int64_t{14})});
    EXPECT_EQ(text("%hprSystem.startsWith('urn:oid:')", patient(), env), "true");
    EXPECT_EQ(text("%days * 2", patient(), env), "28");
    EXPECT_EQ(text("%resource.id & '/' & %context.id & '/' & %rootResource.id"), "p1/p1/p1");
    EXPECT_EQ(text("%`vs-administrative-gender`"), "http://hl7.org/fhir/ValueSet/administrative-gender");
    auto r = eval("%undefined", patient());
    ASSERT_FALSE(r.items);
    EXPECT_EQ(r.error.kind, fp::Error::Kind::execution);
    EXPECT_NE(r.error.message.find("%undefined"), std::string::npos);
}

TEST(FhirPathEngine, ClockIsInjectedAndFixedForOneEvaluation) {
    fp::Environment env;
    int calls = 0;
    env.clock = [&] {
        ++calls;
        return std::chrono::sys_days{std::chrono::year{2026} / 11 / 25} + std::chrono::hours{23} + std::chrono::minutes{30};
    };
    env.clock_offset_minutes = 60;  // Europe/Oslo in winter: already the next day
    EXPECT_EQ(text("today()", patient(), env), "2026-11-26");
    EXPECT_EQ(text("now() = now() and today() = today()", patient(), env), "true");
    EXPECT_EQ(text("(today() - 56 years) > birthDate", patient(), env), "true");
    EXPECT_EQ(text("timeOfDay()", patient(), env), "00:30:00.000");
    calls = 0;
    text("now() | now() | today()", patient(), env);
    EXPECT_EQ(calls, 1);
}

TEST(FhirPathEngine, PartialPrecisionDatesCompareOnlyWhenDecidable) {
    EXPECT_EQ(text("birthDate > @1969"), "");              // same year: undecidable
    EXPECT_EQ(text("birthDate > @1968"), "true");
    EXPECT_EQ(text("birthDate < @1969-12"), "true");
    EXPECT_EQ(text("@2012-04-15T10:00:00+02:00 = @2012-04-15T08:00:00Z"), "true");
    EXPECT_EQ(text("@2012 ~ @2012-01"), "false");
    EXPECT_EQ(text("@2012-01-31 + 1 month"), "2012-02-29");
    EXPECT_EQ(text("@2026-03-29T01:30:00+01:00 + 90 minutes"), "2026-03-29T03:00:00+01:00");
    EXPECT_EQ(text("@1969-11.lowBoundary(8).toString() & '/' & @1969-11.highBoundary(8).toString()"), "1969-11-01/1969-11-30");
}

TEST(FhirPathEngine, QuantitiesConvertWithinADimension) {
    EXPECT_EQ(text("Bundle.entry.resource.ofType(Observation).value > 70000 'g'", bundle()), "true");
    EXPECT_EQ(text("Bundle.entry.resource.ofType(Observation).value < 160 '[lb_av]'", bundle()), "true");
    EXPECT_EQ(text("1 'L' = 1000 'mL'"), "true");
    EXPECT_EQ(text("2 'h' > 90 'min'"), "true");
    EXPECT_EQ(text("1 'cm' < 1 '[in_i]'"), "true");
    EXPECT_EQ(text("1 'kg' < 1 'm'"), "");  // not comparable: empty, not an answer
    EXPECT_EQ(text("(5 'mg' + 1 'g').toString()"), "1005 'mg'");
}

TEST(FhirPathEngine, NorwegianTextCountsLettersNotBytes) {
    EXPECT_EQ(text("'Ærlig Øydis på Åsen'.length()"), "19");
    EXPECT_EQ(text("'Øydis'.substring(1, 3)"), "ydi");
    EXPECT_EQ(text("'Blåbær'.upper()"), "BLÅBÆR");
    EXPECT_EQ(text("'ÆØÅ'.lower()"), "æøå");
    EXPECT_EQ(text("'Sjøstrand'.indexOf('strand')"), "3");
}

TEST(FhirPathEngine, HostileInputIsBounded) {
    // Nesting beyond the limit is refused at compile time instead of exhausting the stack.
    std::string deep(5000, '(');
    deep += "1" + std::string(5000, ')');
    auto c = fp::compile(deep);
    ASSERT_FALSE(c.expression);
    EXPECT_NE(c.error.message.find("nested too deeply"), std::string::npos);

    // repeat() over a growing set stops at Environment::max_items.
    fp::Environment env;
    env.max_items = 1000;
    auto r = eval("(1).repeat($this + 1)", patient(), env);
    ASSERT_FALSE(r.items);
    EXPECT_NE(r.error.message.find("more items"), std::string::npos);

    // RE2: a pattern that backtracks exponentially elsewhere is linear here.
    fp::Environment text_env;
    text_env.variables.emplace_back("long", fp::Collection{fp::Item(std::string(100000, 'a') + "!")});
    EXPECT_EQ(text("%long.matches('^(a+)+$')", patient(), text_env), "false");
    EXPECT_EQ(text("%long.matches('^a*!$')", patient(), text_env), "true");
}

TEST(FhirPathEngine, OneCompiledExpressionServesManyThreads) {
    auto c = fp::compile("name.where(use = 'official').given.first() & '-' & identifier.value", {"Patient"});
    ASSERT_TRUE(c.expression);
    const fp::Expression expr = *c.expression;
    std::vector<std::thread> threads;
    std::atomic<int> wrong{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 500; ++i) {
                auto r = expr.evaluate(patient());
                if (!r.items || r.items->size() != 1 || r.items->front().to_text() != "Kari-13116900216") ++wrong;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(wrong.load(), 0);
}

TEST(FhirPathEngine, TraceReportsToTheCaller) {
    fp::Environment env;
    std::vector<std::string> seen;
    env.trace = [&](std::string_view name, const fp::Collection& items) {
        seen.push_back(std::string(name) + ":" + std::to_string(items.size()));
    };
    EXPECT_EQ(text("name.given.trace('given').count()", patient(), env), "2");
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0], "given:2");
}

TEST(FhirPathEngine, ResultsOutliveTheEvaluationThatMadeThem) {
    auto r = eval("'x'.type() | name.type()", patient());
    ASSERT_TRUE(r.items);
    ASSERT_EQ(r.items->size(), 2u);
    EXPECT_EQ(json::write(r.items->at(0).to_json()), R"({"namespace":"System","name":"String"})");
    EXPECT_EQ(json::write(r.items->at(1).to_json()), R"({"namespace":"FHIR","name":"HumanName"})");
}

TEST(FhirPathEngine, DeclaredVariablesAreTypedAndOthersRefused) {
    fp::CompileOptions options;
    options.context_type = "Bundle";
    options.variables = {{"patient", "Patient"}, {"days", "System.Quantity"}, {"anything", ""}};
    options.declare_variables = true;

    auto ok = fp::compile("%patient.name.given | %anything.foo", options);
    ASSERT_TRUE(ok.expression) << ok.error.message;

    auto typo = fp::compile("%patient.name.gvien", options);
    ASSERT_FALSE(typo.expression);
    EXPECT_EQ(typo.error.kind, fp::Error::Kind::semantic);
    EXPECT_NE(typo.error.message.find("gvien"), std::string::npos);

    auto undefined = fp::compile("%patinet.name", options);
    ASSERT_FALSE(undefined.expression);
    EXPECT_NE(undefined.error.message.find("%patinet is not defined"), std::string::npos) << undefined.error.message;
    EXPECT_NE(undefined.error.message.find("%patient"), std::string::npos);

    EXPECT_TRUE(fp::compile("%resource.id | %ucum | %`vs-administrative-gender`", options).expression);
}

TEST(FhirPathEngine, ResultTypesAreKnownWhereTheModelTellsThem) {
    auto c = fp::compile("Bundle.entry.resource.ofType(Patient).first()", {"Bundle"});
    ASSERT_TRUE(c.expression);
    EXPECT_EQ(c.expression->result_types(), std::vector<std::string>{"Patient"});
    c = fp::compile("Patient.contact", {"Patient"});
    ASSERT_TRUE(c.expression);
    EXPECT_EQ(c.expression->result_types(), std::vector<std::string>{"Patient.contact"});
    c = fp::compile("Bundle.entry.resource", {"Bundle"});
    ASSERT_TRUE(c.expression);
    EXPECT_TRUE(c.expression->result_types().empty());  // any resource: unknown
}

// distinct() and isDistinct() hash strings instead of comparing every pair (R4's sdf and eld invariants
// run them over thousands of element ids); the answer must stay that of '='.
TEST(FhirPathEngine, DistinctOverManyStringsKeepsOrderAndEqualitySemantics) {
    std::string codes = "'";
    for (int i = 0; i < 2500; ++i) codes += (i ? "," : "") + std::string("c") + std::to_string(i);
    codes += "'.split(',')";
    EXPECT_EQ(text(codes + ".combine(" + codes + ").distinct().count()"), "2500");
    EXPECT_EQ(text(codes + ".isDistinct()"), "true");
    EXPECT_EQ(text(codes + ".combine('c7').isDistinct()"), "false");
    EXPECT_EQ(text("('b' | 'a').combine('b').combine('a').distinct()"), "b|a");
    EXPECT_EQ(text("('b').combine('b').isDistinct()"), "false");
    // FHIR strings and System strings are equal by text; other types by their own rules.
    EXPECT_EQ(text("name.given.combine('Kari').distinct().count()"), "2");
    EXPECT_EQ(text("(1).combine(1.0).combine('1').distinct().count()"), "2");
    EXPECT_EQ(text("identifier.combine(identifier).isDistinct()"), "false");
}

// Nodes are typed without a model lookup where the name settles it; the answers must not change.
TEST(FhirPathEngine, TypesNodesOfPrimitivesAndResourcesAsBefore) {
    EXPECT_EQ(text("birthDate.extension.url"), "http://hl7.org/fhir/StructureDefinition/patient-birthTime");
    EXPECT_EQ(text("birthDate.is(date)"), "true");
    EXPECT_EQ(text("name.is(HumanName)"), "true");
    EXPECT_EQ(text("contained.ofType(Organization).name"), "Legekontoret");
    EXPECT_EQ(text("contained.is(Organization)"), "true");
    EXPECT_EQ(text("Bundle.entry.resource.ofType(Practitioner).id", bundle()), "hpr-9144889");
    EXPECT_EQ(text("Bundle.entry.resource.all($this is Resource)", bundle()), "true");
}
