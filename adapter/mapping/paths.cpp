#include "adapter/mapping/paths.hpp"

#include <cctype>

#include "adapter/config/config.hpp"

namespace helsebro::mapping {
namespace {

namespace model = fhir::model;

// The JSON names available under `parent`, for hints: valueQuantity, valueString, ... for a choice.
std::vector<std::string> json_names(std::string_view parent) {
    std::vector<std::string> names;
    for (const auto& e : model::children(parent)) {
        if (!e.is_choice()) {
            names.emplace_back(e.name);
            continue;
        }
        for (auto t : e.types) {
            std::string n(e.choice_base());
            n += static_cast<char>(std::toupper(static_cast<unsigned char>(t[0])));
            n += t.substr(1);
            names.push_back(std::move(n));
        }
    }
    return names;
}

}  // namespace

ResolvedPath resolve_path(std::string_view parent, std::string_view dotted) {
    ResolvedPath out;
    std::string where(parent);
    std::size_t start = 0;
    while (start <= dotted.size()) {
        const auto dot = dotted.find('.', start);
        const std::string name(dotted.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
        start = dot == std::string_view::npos ? dotted.size() + 1 : dot + 1;
        if (out.repeats) {
            out.through_repeating = true;
            out.error = "'" + std::string(dotted) + "' passes through '" + out.names.back() + "', which repeats";
            out.hint = "write '" + out.names.back() + ":' with the parts nested under it";
            return out;
        }
        auto r = model::resolve_property(where, name);
        if (name.empty() || name[0] == '_' || !r || name == "resourceType") {
            out.error = "'" + name + "' is no element of " + where;
            out.hint = config::did_you_mean(name, json_names(where));
            if (r && r->element->is_choice() && name == r->element->choice_base())
                out.hint = "a choice element is written with its type, e.g. " + name + "Period";
            return out;
        }
        out.names.push_back(name);
        out.element = r->element;
        out.type = std::string(r->type);
        out.repeats = r->element->repeats();
        out.parent = (r->type == "BackboneElement" || r->type == "Element") ? std::string(r->element->path) : out.type;
        where = out.parent;
    }
    return out;
}

bool is_resource_type(std::string_view name) {
    const auto* t = model::type(name);
    return t && t->kind == model::Kind::resource && !t->is_abstract;
}

std::string resource_hint(std::string_view name) {
    std::vector<std::string> names;
    for (auto n : model::resource_names()) names.emplace_back(n);
    return config::did_you_mean(name, names);
}

}  // namespace helsebro::mapping
