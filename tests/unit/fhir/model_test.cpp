#include "fhir/model/model.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace model = helsebro::fhir::model;

namespace {

std::vector<std::string> names_of(std::span<const model::Element> elements) {
    std::vector<std::string> out;
    for (const auto& e : elements) out.emplace_back(e.name);
    return out;
}

std::vector<std::string> strings(std::span<const std::string_view> views) {
    return {views.begin(), views.end()};
}

const model::Element& must_find(std::string_view path) {
    const model::Element* e = model::element(path);
    if (e == nullptr) throw std::runtime_error("no element " + std::string(path));
    return *e;
}

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST(Model, ResourceTypesAreTheConcreteOnes) {
    const auto names = model::resource_names();
    EXPECT_EQ(names.size(), 146u);
    EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
    EXPECT_EQ(names.front(), "Account");
    EXPECT_EQ(names.back(), "VisionPrescription");
    for (auto n : names) {
        const auto* t = model::type(n);
        ASSERT_NE(t, nullptr) << n;
        EXPECT_EQ(t->kind, model::Kind::resource);
        EXPECT_FALSE(t->is_abstract);
        EXPECT_EQ(t->root->path, n);
    }
    for (const char* abstract : {"Resource", "DomainResource"}) {
        const auto* t = model::type(abstract);
        ASSERT_NE(t, nullptr);
        EXPECT_TRUE(t->is_abstract);
        EXPECT_EQ(std::count(names.begin(), names.end(), abstract), 0);
    }
    EXPECT_EQ(model::type("Patient")->base, "DomainResource");
    EXPECT_EQ(model::type("Bundle")->base, "Resource");
    EXPECT_EQ(model::type("MetadataResource"), nullptr);  // a logical model, no type
}

TEST(Model, PrimitiveTypesWithTheirRegex) {
    std::set<std::string> primitives;
    for (const auto& t : model::types()) {
        if (t.kind == model::Kind::primitive) primitives.emplace(t.name);
    }
    EXPECT_EQ(primitives, (std::set<std::string>{"base64Binary", "boolean", "canonical", "code", "date", "dateTime",
                                                 "decimal", "id", "instant", "integer", "markdown", "oid",
                                                 "positiveInt", "string", "time", "unsignedInt", "uri", "url", "uuid",
                                                 "xhtml"}));
    // R4 defines a regex for every primitive but xhtml.
    for (const auto& name : primitives) {
        EXPECT_EQ(model::type(name)->regex.empty(), name == "xhtml") << name;
    }
    EXPECT_EQ(model::type("id")->regex, R"([A-Za-z0-9\-\.]{1,64})");
    EXPECT_EQ(model::type("date")->regex,
              R"(([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?)");
    EXPECT_EQ(model::type("dateTime")->regex,
              R"(([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?)");
    EXPECT_EQ(model::type("instant")->regex,
              R"(([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))");
    EXPECT_EQ(model::type("decimal")->regex, R"(-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?)");
    EXPECT_EQ(model::type("uri")->regex, R"(\S*)");
    EXPECT_EQ(model::type("string")->regex, "[ \\r\\n\\t\\S]+");
    EXPECT_EQ(model::type("dateTime")->value_type, "System.DateTime");
    EXPECT_EQ(model::type("code")->base, "string");
    EXPECT_EQ(model::type("positiveInt")->base, "integer");

    EXPECT_EQ(names_of(model::children("date")), (std::vector<std::string>{"id", "extension", "value"}));
    const auto& value = must_find("date.value");
    EXPECT_EQ(strings(value.types), std::vector<std::string>{"System.Date"});
    EXPECT_TRUE(value.xml_attribute);
}

TEST(Model, DatatypesAndTheQuantityProfiles) {
    EXPECT_EQ(model::type("HumanName")->kind, model::Kind::complex);
    EXPECT_TRUE(model::type("BackboneElement")->is_abstract);
    EXPECT_TRUE(model::type("Element")->is_abstract);
    EXPECT_EQ(names_of(model::children("Element")), (std::vector<std::string>{"id", "extension"}));
    EXPECT_EQ(strings(must_find("Element.id").types), std::vector<std::string>{"System.String"});
    EXPECT_TRUE(must_find("Element.id").xml_attribute);
    EXPECT_TRUE(must_find("Extension.url").xml_attribute);
    // Age, Count, Distance and Duration specialize Quantity; SimpleQuantity and MoneyQuantity constrain it.
    for (const char* name : {"Age", "Count", "Distance", "Duration"}) {
        ASSERT_NE(model::type(name), nullptr) << name;
        EXPECT_FALSE(model::type(name)->is_constraint) << name;
        EXPECT_EQ(model::type(name)->base, "Quantity") << name;
    }
    for (const char* name : {"SimpleQuantity", "MoneyQuantity"}) {
        ASSERT_NE(model::type(name), nullptr) << name;
        EXPECT_TRUE(model::type(name)->is_constraint) << name;
        EXPECT_EQ(model::type(name)->base, "Quantity") << name;
    }
    EXPECT_EQ(must_find("SimpleQuantity.comparator").max, 0u);
    EXPECT_EQ(must_find("Quantity.comparator").max, 1u);
    EXPECT_EQ(names_of(model::children("SimpleQuantity")), names_of(model::children("Quantity")));
    // Where a value must be a SimpleQuantity the type stays Quantity, with the profile alongside.
    const auto& dose = must_find("Dosage.doseAndRate.dose[x]");
    ASSERT_EQ(dose.type_refs.size(), 2u);
    EXPECT_EQ(dose.type_refs[0].code, "Range");
    EXPECT_EQ(dose.type_refs[1].code, "Quantity");
    EXPECT_EQ(dose.type_refs[1].profile, "SimpleQuantity");
}

TEST(Model, PatientChildrenInDefinitionOrder) {
    EXPECT_EQ(names_of(model::children("Patient")),
              (std::vector<std::string>{"id", "meta", "implicitRules", "language", "text", "contained", "extension",
                                        "modifierExtension", "identifier", "active", "name", "telecom", "gender",
                                        "birthDate", "deceased[x]", "address", "maritalStatus", "multipleBirth[x]",
                                        "photo", "contact", "communication", "generalPractitioner",
                                        "managingOrganization", "link"}));
    EXPECT_EQ(names_of(model::children("Patient.contact")),
              (std::vector<std::string>{"id", "extension", "modifierExtension", "relationship", "name", "telecom",
                                        "address", "gender", "organization", "period"}));
    for (const auto& e : model::children("Patient.contact")) EXPECT_TRUE(e.path.starts_with("Patient.contact."));
    const auto& root = must_find("Patient");
    EXPECT_TRUE(root.types.empty());
    EXPECT_EQ(model::type("Patient")->root, &root);
}

TEST(Model, ElementsOfPatient) {
    const auto& name = must_find("Patient.contact.name");
    EXPECT_EQ(name.name, "name");
    EXPECT_EQ(strings(name.types), std::vector<std::string>{"HumanName"});
    EXPECT_EQ(name.min, 0u);
    EXPECT_EQ(name.max, 1u);
    EXPECT_FALSE(name.repeats());
    EXPECT_FALSE(name.is_choice());
    // An element of a datatype has the type's children.
    EXPECT_EQ(names_of(model::children("Patient.contact.name")), names_of(model::children("HumanName")));

    const auto& names = must_find("Patient.name");
    EXPECT_EQ(names.max, model::unbounded);
    EXPECT_TRUE(names.repeats());
    EXPECT_TRUE(must_find("Patient.active").is_modifier);
    EXPECT_TRUE(must_find("Patient.active").is_summary);
    EXPECT_FALSE(must_find("Patient.photo").is_summary);
    EXPECT_EQ(must_find("Patient.link.other").min, 1u);
    const auto& deceased = must_find("Patient.deceased[x]");
    EXPECT_TRUE(deceased.is_choice());
    EXPECT_EQ(deceased.choice_base(), "deceased");
    EXPECT_EQ(strings(deceased.types), (std::vector<std::string>{"boolean", "dateTime"}));
}

TEST(Model, ObservationValueChoice) {
    const auto& value = must_find("Observation.value[x]");
    EXPECT_TRUE(value.is_choice());
    EXPECT_EQ(strings(value.types),
              (std::vector<std::string>{"Quantity", "CodeableConcept", "string", "boolean", "integer", "Range", "Ratio",
                                        "SampledData", "time", "dateTime", "Period"}));
    EXPECT_TRUE(model::children("Observation.value[x]").empty());  // pick the type first
}

TEST(Model, ResolvesJsonPropertyNames) {
    auto r = model::resolve_property("Observation", "valueQuantity");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->element, model::element("Observation.value[x]"));
    EXPECT_EQ(r->type, "Quantity");
    r = model::resolve_property("Observation", "valueDateTime");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->type, "dateTime");
    r = model::resolve_property("Observation", "valueCodeableConcept");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->type, "CodeableConcept");
    for (const char* bad : {"valueFoo", "value", "valuequantity", "value[x]", "ValueQuantity", "valueDatetime",
                            "_birthDate", "resourceType", ""}) {
        EXPECT_FALSE(model::resolve_property("Observation", bad)) << bad;
    }
    EXPECT_FALSE(model::resolve_property("NoSuchType", "id"));

    r = model::resolve_property("Patient", "gender");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->element->path, "Patient.gender");
    EXPECT_EQ(r->type, "code");
    r = model::resolve_property("Patient.contact", "name");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->element->path, "Patient.contact.name");
    EXPECT_EQ(r->type, "HumanName");
    // Descending into a datatype, by element path or by the type's name.
    r = model::resolve_property("Patient.contact.name", "family");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->element->path, "HumanName.family");
    r = model::resolve_property("Quantity", "value");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->type, "decimal");
    r = model::resolve_property("Extension", "valueBase64Binary");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->type, "base64Binary");
    r = model::resolve_property("Bundle.entry", "resource");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->type, "Resource");
    r = model::resolve_property("Questionnaire.item", "item");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->element->path, "Questionnaire.item.item");
    EXPECT_EQ(r->type, "BackboneElement");
    r = model::resolve_property("Questionnaire.item.item", "linkId");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->element->path, "Questionnaire.item.linkId");
}

TEST(Model, ContentReferenceIsFollowed) {
    const auto& item = must_find("Questionnaire.item.item");
    EXPECT_EQ(item.content_reference, "#Questionnaire.item");
    EXPECT_TRUE(item.types.empty());
    EXPECT_EQ(item.max, model::unbounded);
    const auto nested = model::children("Questionnaire.item.item");
    const auto top = model::children("Questionnaire.item");
    EXPECT_EQ(nested.data(), top.data());
    EXPECT_EQ(nested.size(), top.size());
    EXPECT_EQ(nested.back().name, "item");
    EXPECT_EQ(must_find("Bundle.entry.link").content_reference, "#Bundle.link");
}

TEST(Model, RequiredBindingsWithTheirCodes) {
    const auto* b = must_find("Patient.gender").binding;
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->value_set, "http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1");
    EXPECT_TRUE(b->codes_known);
    EXPECT_EQ(strings(b->codes), (std::vector<std::string>{"male", "female", "other", "unknown"}));
    ASSERT_EQ(b->systems.size(), 4u);
    EXPECT_EQ(b->systems[0], "http://hl7.org/fhir/administrative-gender");
    EXPECT_TRUE(b->allows("other"));
    EXPECT_FALSE(b->allows("Male"));
    EXPECT_TRUE(b->allows("http://hl7.org/fhir/administrative-gender", "female"));
    EXPECT_FALSE(b->allows("http://example.org", "female"));

    // Hierarchical code systems contribute every selectable code, nested ones too.
    const auto* clinical = must_find("Condition.clinicalStatus").binding;
    ASSERT_NE(clinical, nullptr);
    EXPECT_EQ(strings(clinical->codes),
              (std::vector<std::string>{"active", "recurrence", "relapse", "inactive", "remission", "resolved"}));
    // ... but not the abstract grouping "question" of Questionnaire.item.type.
    const auto* item_type = must_find("Questionnaire.item.type").binding;
    ASSERT_NE(item_type, nullptr);
    EXPECT_TRUE(item_type->allows("decimal"));
    EXPECT_FALSE(item_type->allows("question"));

    // Bound elsewhere than required, or not at all: no binding.
    EXPECT_EQ(must_find("Patient.maritalStatus").binding, nullptr);
    EXPECT_EQ(must_find("Patient.active").binding, nullptr);
    // Required, but the codes need a terminology server (ISO 4217, mime types).
    for (const char* path : {"Money.currency", "Attachment.contentType"}) {
        const auto* unknown = must_find(path).binding;
        ASSERT_NE(unknown, nullptr) << path;
        EXPECT_FALSE(unknown->codes_known) << path;
        EXPECT_TRUE(unknown->codes.empty()) << path;
    }
}

TEST(Model, InvariantsWithTheirFhirPath) {
    const auto invariants = must_find("Bundle").invariants;
    const auto bdl7 = std::find_if(invariants.begin(), invariants.end(), [](const auto& i) { return i.key == "bdl-7"; });
    ASSERT_NE(bdl7, invariants.end());
    EXPECT_EQ(bdl7->severity, "error");
    EXPECT_EQ(bdl7->expression,
              "(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&resource.meta.versionId).isDistinct()");
    EXPECT_FALSE(bdl7->human.empty());
    const auto patient = must_find("Patient").invariants;
    EXPECT_TRUE(std::any_of(patient.begin(), patient.end(), [](const auto& i) { return i.key == "dom-6"; }));
    const auto name = must_find("Patient.name").invariants;
    ASSERT_EQ(name.size(), 1u);
    EXPECT_EQ(name[0].key, "ele-1");
}

TEST(Model, ReferenceTargets) {
    const auto& subject = must_find("Observation.subject");
    EXPECT_EQ(strings(subject.types), std::vector<std::string>{"Reference"});
    EXPECT_EQ(strings(subject.targets), (std::vector<std::string>{"Patient", "Group", "Device", "Location"}));
    EXPECT_EQ(strings(must_find("Provenance.target").targets), std::vector<std::string>{"Resource"});
    EXPECT_EQ(strings(must_find("Questionnaire.derivedFrom").targets), std::vector<std::string>{"Questionnaire"});
    EXPECT_EQ(must_find("Questionnaire.derivedFrom").types[0], "canonical");
    // Both a Reference and a canonical, each with its own target.
    const auto& definition = must_find("EvidenceVariable.characteristic.definition[x]");
    EXPECT_EQ(strings(definition.targets), (std::vector<std::string>{"Group", "ActivityDefinition"}));
    EXPECT_EQ(strings(definition.type_refs[0].targets), std::vector<std::string>{"Group"});
    EXPECT_EQ(strings(definition.type_refs[1].targets), std::vector<std::string>{"ActivityDefinition"});
}

TEST(Model, UnknownNames) {
    EXPECT_EQ(model::type("patient"), nullptr);
    EXPECT_EQ(model::type(""), nullptr);
    EXPECT_EQ(model::element("Patient.foo"), nullptr);
    EXPECT_EQ(model::element("Patient."), nullptr);
    EXPECT_EQ(model::element(""), nullptr);
    EXPECT_TRUE(model::children("Nope").empty());
    EXPECT_TRUE(model::children("Patient.gender.value.x").empty());
    EXPECT_TRUE(model::children("").empty());
}

// Everything the model refers to is in it: types, targets, content references, children.
TEST(Model, IsSelfConsistent) {
    std::size_t elements = 0;
    for (const auto& t : model::types()) {
        EXPECT_EQ(model::type(t.name), &t);
        if (!t.base.empty()) {
            EXPECT_NE(model::type(t.base), nullptr) << t.name;
        }
        std::vector<const model::Element*> stack{t.root};
        while (!stack.empty()) {
            const model::Element& e = *stack.back();
            stack.pop_back();
            ++elements;
            EXPECT_EQ(model::element(e.path), &e);
            EXPECT_LE(e.min, e.max) << e.path;
            for (const auto& ref : e.type_refs) {
                if (!ref.code.starts_with("System.")) {
                    EXPECT_NE(model::type(ref.code), nullptr) << e.path;
                }
                if (!ref.profile.empty()) {
                    EXPECT_NE(model::type(ref.profile), nullptr) << e.path;
                }
                for (auto target : ref.targets) EXPECT_NE(model::type(target), nullptr) << e.path << " " << target;
            }
            if (!e.content_reference.empty()) {
                EXPECT_NE(model::element(e.content_reference.substr(1)), nullptr) << e.path;
                EXPECT_FALSE(model::children(e.path).empty()) << e.path;
            }
            if (e.types.size() == 1 && (e.types[0] == "BackboneElement" || e.types[0] == "Element") &&
                e.path.find('.') != std::string_view::npos) {
                EXPECT_FALSE(model::children(e.path).empty()) << e.path;
            }
            if (e.binding != nullptr) {
                EXPECT_EQ(e.binding->codes.size(), e.binding->systems.size()) << e.path;
            }
            // Descend only into this type's own elements (not into referenced types).
            for (const auto& c : model::children(e.path)) {
                if (c.path.starts_with(e.path) && c.path.size() > e.path.size() && c.path[e.path.size()] == '.') {
                    stack.push_back(&c);
                }
            }
        }
    }
    EXPECT_GT(elements, 7000u);
}

TEST(Model, ConcurrentReadersAgree) {
    std::vector<std::thread> threads;
    std::vector<std::size_t> found(4);
    for (std::size_t i = 0; i < found.size(); ++i) {
        threads.emplace_back([&found, i] {
            for (auto name : model::resource_names()) found[i] += model::children(name).size();
        });
    }
    for (auto& t : threads) t.join();
    for (auto n : found) EXPECT_EQ(n, found[0]);
}

// The committed r4_model.inc is what the generator makes of the package; needs the package in
// .cache/fhir (scripts/fetch-fhir-package.sh) and node.
TEST(Model, GeneratedFileIsUpToDate) {
    const std::filesystem::path repo = HELSEBRO_SOURCE_DIR;
    const auto package = repo / ".cache" / "fhir" / "package";
    if (!std::filesystem::exists(package / "Bundle-types.json")) {
        GTEST_SKIP() << "The FHIR package is not in " << package << "; run scripts/fetch-fhir-package.sh to check "
                     << "that fhir/model/r4_model.inc is up to date.";
    }
    if (std::system("node --version >/dev/null 2>&1") != 0) {
        GTEST_SKIP() << "node is not installed; cannot run tools/generate-fhir-model.js.";
    }
    const auto out = std::filesystem::temp_directory_path() / ("helsebro-r4-model-" + std::to_string(::getpid()) + ".inc");
    const std::string command = "node '" + (repo / "tools" / "generate-fhir-model.js").string() + "' --quiet --package '" +
                                package.string() + "' --out '" + out.string() + "'";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    const std::string generated = read_file(out);
    std::filesystem::remove(out);
    const std::string committed = read_file(repo / "fhir" / "model" / "r4_model.inc");
    EXPECT_FALSE(generated.empty());
    EXPECT_TRUE(generated == committed)
        << "fhir/model/r4_model.inc is stale: run node tools/generate-fhir-model.js and commit the result.";
}
