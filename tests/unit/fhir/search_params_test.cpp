// fhir/search_params: the generated table of R4 search parameters and what a resource is indexed by.
#include "fhir/search_params.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

namespace search = helsebro::fhir::search;
namespace json = helsebro::fhir::json;

namespace {

json::Value parse(const std::string& text) {
    auto r = json::parse(text);
    if (!r.value) throw std::runtime_error("bad test JSON: " + r.error.message);
    return std::move(*r.value);
}

// "param a|b" per entry, for compact comparisons.
std::vector<std::string> entries(const std::string& resource) {
    auto v = parse(resource);
    std::size_t failed = 0;
    std::vector<std::string> out;
    for (const auto& e : search::extract(v, *v.string_at("resourceType"), &failed))
        out.push_back(e.param + " " + e.a + "|" + e.b);
    EXPECT_EQ(failed, 0u) << resource;
    return out;
}

bool has(const std::vector<std::string>& list, const std::string& item) {
    return std::find(list.begin(), list.end(), item) != list.end();
}

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

constexpr const char* fnr_system = "urn:oid:2.16.578.1.12.4.1.4.1";

}  // namespace

TEST(SearchParams, TheTableHoldsEachTypesOwnBranchOfSharedDefinitions) {
    const auto* patient = search::find("CarePlan", "patient");
    ASSERT_NE(patient, nullptr);
    EXPECT_EQ(patient->kind, search::Kind::reference);
    EXPECT_EQ(patient->expression, "CarePlan.subject.where(resolve() is Patient)");
    EXPECT_EQ(patient->url, "http://hl7.org/fhir/SearchParameter/clinical-patient");
    EXPECT_EQ(search::find("Observation", "code")->expression, "Observation.code");
    EXPECT_EQ(search::find("Task", "patient")->expression, "Task.for.where(resolve() is Patient)");
    EXPECT_EQ(search::find("Observation", "value-quantity")->kind, search::Kind::quantity);
    EXPECT_EQ(search::find("CarePlan", "nope"), nullptr);
    EXPECT_EQ(search::find("Nope", "_id"), nullptr);
}

TEST(SearchParams, EveryTypeInheritsTheCommonParameters) {
    for (const char* type : {"Patient", "CarePlan", "Bundle", "Provenance"}) {
        ASSERT_NE(search::find(type, "_id"), nullptr) << type;
        EXPECT_EQ(search::find(type, "_lastUpdated")->kind, search::Kind::date) << type;
    }
    EXPECT_NE(search::find("Patient", "_text"), nullptr);
    EXPECT_EQ(search::find("Bundle", "_text"), nullptr) << "Bundle is no DomainResource";
    auto params = search::params("Flag");
    EXPECT_TRUE(std::is_sorted(params.begin(), params.end(), [](auto* a, auto* b) { return a->code < b->code; }));
    EXPECT_FALSE(search::indexed(*search::find("Flag", "_id"))) << "the store keeps _id and _lastUpdated itself";
    EXPECT_TRUE(search::indexed(*search::find("Flag", "patient")));
    EXPECT_FALSE(search::indexed(*search::find("Observation", "code-value-quantity"))) << "composite";
}

TEST(SearchParams, SharedRecordTypesHaveTheParametersTheMappingNeeds) {
    for (const char* type : {"CarePlan", "CareTeam", "Goal", "Flag", "RiskAssessment", "Condition", "MedicationStatement",
                             "Observation", "Composition", "EpisodeOfCare", "ServiceRequest", "Encounter", "Task"}) {
        const auto* p = search::find(type, "patient");
        ASSERT_NE(p, nullptr) << type;
        EXPECT_TRUE(search::indexed(*p)) << type;
    }
}

TEST(SearchParams, EveryIndexedExpressionCompiles) {
    std::string failed;
    for (const auto* p : search::uncompiled()) failed += std::string(p->type) + "." + std::string(p->code) + " ";
    EXPECT_EQ(failed, "");
}

TEST(SearchParams, TokensFromCodesCodingsIdentifiersAndBooleans) {
    auto e = entries(R"({"resourceType":"Patient","active":true,"gender":"female",
        "identifier":[{"system":"urn:oid:2.16.578.1.12.4.1.4.1","value":"13116900216"}],
        "telecom":[{"system":"phone","value":"+4799999999"}]})");
    EXPECT_TRUE(has(e, "active true|"));
    EXPECT_TRUE(has(e, "gender female|"));
    EXPECT_TRUE(has(e, std::string("identifier 13116900216|") + fnr_system));
    EXPECT_TRUE(has(e, "phone +4799999999|"));
    auto c = entries(R"({"resourceType":"CarePlan","status":"active","intent":"plan","subject":{"reference":"Patient/p1"},
        "category":[{"coding":[{"system":"http://snomed.info/sct","code":"734163000"},{"code":"local"}],"text":"x"}]})");
    EXPECT_TRUE(has(c, "category 734163000|http://snomed.info/sct"));
    EXPECT_TRUE(has(c, "category local|"));
    EXPECT_TRUE(has(c, "status active|"));
}

TEST(SearchParams, ReferencesByTypeAndIdAndByIdentifier) {
    auto e = entries(R"({"resourceType":"Condition","subject":{"reference":"Patient/p1/_history/3"},
        "encounter":{"reference":"http://elsewhere.example/fhir/Encounter/9"}})");
    EXPECT_TRUE(has(e, "patient p1|Patient"));
    EXPECT_TRUE(has(e, "subject p1|Patient"));
    EXPECT_TRUE(has(e, "encounter http://elsewhere.example/fhir/Encounter/9|"));

    // A shared record names the patient by national identifier alone.
    auto f = entries(R"({"resourceType":"Flag","status":"active","code":{"text":"x"},
        "subject":{"identifier":{"system":"urn:oid:2.16.578.1.12.4.1.4.1","value":"13116900216"}}})");
    EXPECT_TRUE(has(f, std::string("patient:identifier 13116900216|") + fnr_system));
    EXPECT_TRUE(has(f, std::string("subject:identifier 13116900216|") + fnr_system));
}

TEST(SearchParams, ResolveIsDecidedByTheReferenceItself) {
    auto group = entries(R"({"resourceType":"Observation","status":"final","code":{"text":"x"},
        "subject":{"reference":"Group/g1"}})");
    EXPECT_TRUE(has(group, "subject g1|Group"));
    EXPECT_FALSE(std::any_of(group.begin(), group.end(), [](auto& s) { return s.starts_with("patient "); }));
    auto typed = entries(R"({"resourceType":"Task","status":"ready","intent":"order",
        "for":{"type":"Group","identifier":{"system":"s","value":"v"}}})");
    EXPECT_TRUE(has(typed, "subject:identifier v|s"));
    EXPECT_FALSE(has(typed, "patient:identifier v|s")) << "typed as a Group, so no patient";
    auto absolute = entries(R"({"resourceType":"Task","status":"ready","intent":"order",
        "for":{"reference":"https://other.example/fhir/Patient/7"}})");
    EXPECT_TRUE(has(absolute, "patient https://other.example/fhir/Patient/7|"));
}

TEST(SearchParams, DatesBecomeUtcRanges) {
    auto e = entries(R"({"resourceType":"CarePlan","status":"active","intent":"plan","subject":{"reference":"Patient/p"},
        "period":{"start":"2024-05","end":"2024-06-10T12:00:00+02:00"}})");
    EXPECT_TRUE(has(e, "date 2024-05-01T00:00:00.000Z|2024-06-10T10:00:00.999Z"));
    auto open = entries(R"({"resourceType":"EpisodeOfCare","status":"active","patient":{"reference":"Patient/p"},
        "period":{"start":"2024-01-01"}})");
    EXPECT_TRUE(has(open, "date 2024-01-01T00:00:00.000Z|9999-12-31T23:59:59.999Z"));

    EXPECT_EQ(search::date_range("2024")->high, "2024-12-31T23:59:59.999Z");
    EXPECT_EQ(search::date_range("2024-02")->high, "2024-02-29T23:59:59.999Z");
    EXPECT_EQ(search::date_range("2024-03-01T00:30:00+01:00")->low, "2024-02-29T23:30:00.000Z");
    EXPECT_EQ(search::date_range("2024-05-17T10:00:00.5Z")->low, "2024-05-17T10:00:00.500Z");
    EXPECT_FALSE(search::date_range("2024-02-30"));
    EXPECT_FALSE(search::date_range("yesterday"));
}

TEST(SearchParams, StringsAreLowerCasedWithTheirAccents) {
    EXPECT_EQ(search::normalize("ÆRLIG Øst Åse ŁÓDŹ"), "ærlig øst åse łódź");
    EXPECT_EQ(search::normalize("MÜLLER-Lüdenscheidt"), "müller-lüdenscheidt");
    auto e = entries(R"({"resourceType":"Patient","name":[{"family":"Østby","given":["Kari","Synnøve"]}],
        "address":[{"city":"TRONDHEIM","postalCode":"7010"}]})");
    EXPECT_TRUE(has(e, "family østby|Østby"));
    EXPECT_TRUE(has(e, "given synnøve|Synnøve"));
    EXPECT_TRUE(has(e, "name kari|Kari"));
    EXPECT_TRUE(has(e, "address-city trondheim|TRONDHEIM"));
}

TEST(SearchParams, MetaTagsAndProfilesAreIndexedForEveryType) {
    auto e = entries(R"({"resourceType":"Goal","lifecycleStatus":"active","description":{"text":"x"},
        "subject":{"reference":"Patient/p"},"meta":{"tag":[{"system":"urn:t","code":"shared"}],
        "profile":["http://example.org/p"]}})");
    EXPECT_TRUE(has(e, "_tag shared|urn:t"));
    EXPECT_TRUE(has(e, "_profile http://example.org/p|"));
    EXPECT_TRUE(has(e, "lifecycle-status active|"));
}

TEST(SearchParams, QuantitiesKeepTheirNumber) {
    auto v = parse(R"({"resourceType":"Observation","status":"final","code":{"text":"x"},
        "valueQuantity":{"value":5.40,"system":"http://unitsofmeasure.org","code":"mg"}})");
    auto out = search::extract(v, "Observation");
    auto it = std::find_if(out.begin(), out.end(), [](auto& e) { return e.param == "value-quantity"; });
    ASSERT_NE(it, out.end());
    EXPECT_DOUBLE_EQ(it->number, 5.4);
    EXPECT_EQ(it->a, "mg");
    EXPECT_EQ(it->b, "http://unitsofmeasure.org");
}

TEST(SearchParams, OddDataIndexesWhatItCan) {
    auto v = parse(R"({"resourceType":"CarePlan","status":"active","period":{"start":"not a date"},
        "subject":"Patient/p","category":[{"coding":[{"code":7}]}]})");
    auto out = search::extract(v, "CarePlan");
    EXPECT_TRUE(std::any_of(out.begin(), out.end(), [](auto& e) { return e.param == "status" && e.a == "active"; }));
}

TEST(SearchParams, ExtractionIsSafeFromManyThreads) {
    const std::string text = R"({"resourceType":"Encounter","status":"finished","class":{"code":"IMP"},
        "subject":{"reference":"Patient/p"},"period":{"start":"2024-01-01"}})";
    auto expected = entries(text);
    std::vector<std::thread> threads;
    std::vector<std::size_t> sizes(4);
    for (std::size_t i = 0; i < sizes.size(); ++i)
        threads.emplace_back([&, i] {
            auto v = parse(text);
            for (int k = 0; k < 200; ++k) sizes[i] = search::extract(v, "Encounter").size();
        });
    for (auto& t : threads) t.join();
    for (auto n : sizes) EXPECT_EQ(n, expected.size());
}

// The committed r4_search.inc is what the generator makes of the package; needs the package in
// .cache/fhir (scripts/fetch-fhir-package.sh) and node.
TEST(SearchParams, GeneratedFileIsUpToDate) {
    const std::filesystem::path repo = HELSEBRO_SOURCE_DIR;
    const auto package = repo / ".cache" / "fhir" / "package";
    if (!std::filesystem::exists(package / "Bundle-searchParams.json"))
        GTEST_SKIP() << "The FHIR package is not in " << package << "; run scripts/fetch-fhir-package.sh.";
    if (std::system("node --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "node is not installed.";
    const auto out = std::filesystem::temp_directory_path() / ("helsebro-r4-search-" + std::to_string(::getpid()) + ".inc");
    const std::string command = "node '" + (repo / "tools" / "generate-search-params.js").string() + "' --quiet --package '" +
                                package.string() + "' --out '" + out.string() + "'";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    const std::string generated = read_file(out);
    std::filesystem::remove(out);
    EXPECT_FALSE(generated.empty());
    EXPECT_TRUE(generated == read_file(repo / "fhir" / "model" / "r4_search.inc"))
        << "fhir/model/r4_search.inc is stale: run node tools/generate-search-params.js and commit the result.";
}
