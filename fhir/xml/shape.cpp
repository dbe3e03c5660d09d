#include "fhir/xml/shape.hpp"

namespace helsebro::fhir::xml::detail {

Slot classify(const model::Element& element, std::string_view type) {
    if (type == "xhtml") return {Shape::xhtml, type, {}};
    if (type == "Resource") return {Shape::resource, type, {}};
    const model::TypeDef* def = model::type(type);
    if (type.starts_with("System.") || (def != nullptr && def->kind == model::Kind::primitive)) {
        // A primitive's extensions resolve under its type; System types (Resource.id) under string.
        return {Shape::primitive, type, def != nullptr ? type : std::string_view("string")};
    }
    if (def != nullptr && def->kind == model::Kind::resource) return {Shape::resource, type, {}};
    // A choice has no children of its own path; anything else resolves under its path, which covers
    // inline groups, content references and datatypes alike.
    return {Shape::complex, type, element.is_choice() ? type : element.path};
}

JsonKind json_kind(std::string_view t) {
    if (t == "boolean" || t == "System.Boolean") return JsonKind::boolean;
    if (t == "integer" || t == "decimal" || t == "positiveInt" || t == "unsignedInt" || t == "System.Integer" ||
        t == "System.Decimal") {
        return JsonKind::number;
    }
    return JsonKind::string;
}

bool is_resource_name(std::string_view name) {
    const model::TypeDef* def = model::type(name);
    return def != nullptr && def->kind == model::Kind::resource && !def->is_abstract;
}

}  // namespace helsebro::fhir::xml::detail
