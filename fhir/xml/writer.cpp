// The JSON value tree -> FHIR XML, written straight into a string. Walks the type model's children()
// in definition order and looks each element up in the tree, so the output order is the definition's
// whatever the JSON order was; members the model does not know are reported, never dropped silently.
// The narrative div is checked with libxml2 (well-formed XHTML, no DOCTYPE) and embedded as written.
#include <algorithm>
#include <string>
#include <vector>

#include "fhir/xml.hpp"
#include "fhir/xml/libxml.hpp"
#include "fhir/xml/shape.hpp"

namespace helsebro::fhir::xml {
namespace {

using detail::Shape;
using detail::Slot;

// False when the text holds a control character XML 1.0 cannot carry (FHIR strings may not hold them
// either).
bool escape(std::string_view s, std::string& out) {
    for (char c : s) {
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\r' && c != '\t') return false;
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\n': out += "&#10;"; break;  // attribute value normalisation would turn these into spaces
            case '\r': out += "&#13;"; break;
            case '\t': out += "&#9;"; break;
            default: out += c;
        }
    }
    return true;
}

bool attribute(std::string_view name, std::string_view value, std::string& out) {
    out += ' ';
    out += name;
    out += "=\"";
    if (!escape(value, out)) return false;
    out += '"';
    return true;
}

constexpr const char* control_character = "The value holds a control character that XML cannot carry.";

// valueDateTime under value[x]: the JSON name's suffix is the type with its first letter uppercased.
bool suffix_names_type(std::string_view suffix, std::string_view type) {
    if (suffix.size() != type.size() || suffix.empty()) return false;
    const char first = type.front() >= 'a' && type.front() <= 'z' ? static_cast<char>(type.front() - 'a' + 'A') : type.front();
    return suffix.front() == first && suffix.substr(1) == type.substr(1);
}

class Writer {
public:
    Writer(std::string& out, std::size_t max_depth) : out_(out), max_depth_(max_depth) {}

    bool root(const json::Value& resource);

    std::string path;  // of the element being written
    std::string message;
    std::string failed_path;

private:
    // Marks which members of one object have been written.
    struct Members {
        const json::Value& object;
        std::vector<bool> used;
        explicit Members(const json::Value& o) : object(o), used(o.members().size(), false) {}
        const json::Value* take(std::string_view key, bool underscore = false) {
            const auto& m = object.members();
            for (std::size_t i = 0; i < m.size(); ++i) {
                const std::string_view name = m[i].first;
                if (underscore ? (name.size() == key.size() + 1 && name.front() == '_' && name.substr(1) == key)
                               : name == key) {
                    used[i] = true;
                    return &m[i].second;
                }
            }
            return nullptr;
        }
    };

    // Appends a path segment for the duration of a scope.
    struct Segment {
        std::string& path;
        std::size_t size;
        Segment(std::string& p, std::string_view name, std::size_t index = static_cast<std::size_t>(-1))
            : path(p), size(p.size()) {
            path += '.';
            path += name;
            if (index != static_cast<std::size_t>(-1)) path += "[" + std::to_string(index) + "]";
        }
        ~Segment() { path.resize(size); }
    };

    bool fail(std::string what) {
        if (message.empty()) {
            message = std::move(what);
            failed_path = path;
        }
        return false;
    }
    bool resource_body(const json::Value& resource, std::string_view type, std::size_t depth);
    bool attributes(Members& m, std::string_view parent);
    bool members(Members& m, std::string_view parent, std::size_t depth);
    bool occurrences(Members& m, const model::Element& el, std::string_view type, std::string_view name,
                     std::size_t depth);
    bool one(const json::Value& v, const Slot& slot, std::string_view name, std::size_t depth);
    bool primitive(const json::Value* v, const json::Value* extra, const Slot& slot, std::string_view name,
                   std::size_t depth);
    bool xhtml(const json::Value& v);
    // Closes an open start tag: "/>" when nothing follows, else ">" ... "</name>".
    void close(std::string_view name, std::size_t content_start);

    std::string& out_;
    std::size_t max_depth_;
};

void Writer::close(std::string_view name, std::size_t content_start) {
    if (out_.size() == content_start) {
        out_.insert(content_start - 1, "/");
        return;
    }
    out_ += "</";
    out_ += name;
    out_ += '>';
}

bool Writer::root(const json::Value& resource) {
    const auto type = resource.is_object() ? resource.string_at("resourceType") : std::nullopt;
    if (!type || !detail::is_resource_name(*type)) {
        return fail("The tree is no FHIR resource (resourceType missing or unknown).");
    }
    path = std::string(*type);
    out_ += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<";
    out_ += *type;
    out_ += " xmlns=\"";
    out_ += detail::fhir_namespace;
    out_ += "\">";
    const std::size_t start = out_.size();
    if (!resource_body(resource, *type, 1)) return false;
    close(*type, start);
    out_ += '\n';
    return true;
}

bool Writer::resource_body(const json::Value& resource, std::string_view type, std::size_t depth) {
    Members m(resource);
    m.take("resourceType");
    return members(m, type, depth);
}

// The xml_attribute children (Element.id, Extension.url) go into the open start tag.
bool Writer::attributes(Members& m, std::string_view parent) {
    for (const model::Element& el : model::children(parent)) {
        if (!el.xml_attribute) continue;
        const json::Value* v = m.take(el.name);
        if (v == nullptr) continue;
        if (!v->is_string()) {
            Segment s(path, el.name);
            return fail("An attribute value must be a string.");
        }
        if (!attribute(el.name, v->text(), out_)) {
            Segment s(path, el.name);
            return fail(control_character);
        }
    }
    return true;
}

bool Writer::members(Members& m, std::string_view parent, std::size_t depth) {
    if (depth > max_depth_) return fail("The tree is nested deeper than the limit of " + std::to_string(max_depth_) + ".");
    const auto& all = m.object.members();
    for (const model::Element& el : model::children(parent)) {
        if (el.xml_attribute) continue;
        if (!el.is_choice()) {
            const std::string_view type = el.types.empty() ? std::string_view("BackboneElement") : el.types.front();
            if (!occurrences(m, el, type, el.name, depth)) return false;
            continue;
        }
        // A choice: find its members by their names rather than trying every type's name.
        const std::string_view base = el.choice_base();
        for (std::size_t i = 0; i < all.size(); ++i) {
            if (m.used[i]) continue;
            std::string_view name = all[i].first;
            if (name.starts_with('_')) name.remove_prefix(1);
            if (name.size() <= base.size() || !name.starts_with(base)) continue;
            const std::string_view suffix = name.substr(base.size());
            const auto type = std::find_if(el.types.begin(), el.types.end(),
                                           [&](std::string_view t) { return suffix_names_type(suffix, t); });
            if (type == el.types.end()) continue;
            if (!occurrences(m, el, *type, name, depth)) return false;
        }
    }
    for (std::size_t i = 0; i < all.size(); ++i) {
        if (m.used[i]) continue;
        Segment s(path, all[i].first);
        return fail("Unknown member '" + all[i].first + "'.");
    }
    return true;
}

bool Writer::occurrences(Members& m, const model::Element& el, std::string_view type, std::string_view name,
                         std::size_t depth) {
    const json::Value* v = m.take(name);
    const json::Value* x = m.take(name, true);
    if (v == nullptr && x == nullptr) return true;
    const Slot slot = detail::classify(el, type);
    Segment here(path, name);
    if (slot.shape != Shape::primitive && x != nullptr) {
        return fail("Only primitive elements have a '_" + std::string(name) + "' member.");
    }
    if (!el.repeats()) {
        if ((v != nullptr && v->is_array()) || (x != nullptr && x->is_array())) {
            return fail("The element allows at most one value, not an array.");
        }
        const bool done = slot.shape == Shape::primitive ? primitive(v, x, slot, name, depth) : one(*v, slot, name, depth);
        return done;
    }
    if ((v != nullptr && !v->is_array()) || (x != nullptr && !x->is_array())) {
        return fail("A repeating element is an array.");
    }
    const std::size_t nv = v != nullptr ? v->items().size() : 0;
    const std::size_t nx = x != nullptr ? x->items().size() : 0;
    if (v != nullptr && x != nullptr && nv != nx) {
        return fail("The arrays '" + std::string(name) + "' and '_" + std::string(name) + "' differ in length.");
    }
    for (std::size_t i = 0; i < std::max(nv, nx); ++i) {
        const std::size_t before = path.size();
        path += "[" + std::to_string(i) + "]";
        bool done;
        if (slot.shape == Shape::primitive) {
            done = primitive(i < nv ? &v->items()[i] : nullptr, i < nx ? &x->items()[i] : nullptr, slot, name, depth);
        } else {
            done = one(v->items()[i], slot, name, depth);
        }
        path.resize(before);
        if (!done) return false;
    }
    return true;
}

bool Writer::one(const json::Value& v, const Slot& slot, std::string_view name, std::size_t depth) {
    if (slot.shape == Shape::xhtml) return xhtml(v);
    if (!v.is_object()) return fail("The element must be a JSON object.");
    out_ += '<';
    out_ += name;
    if (slot.shape == Shape::resource) {
        const auto type = v.string_at("resourceType");
        if (!type || !detail::is_resource_name(*type)) return fail("The nested resource has no known resourceType.");
        out_ += "><";
        out_ += *type;
        out_ += '>';
        const std::size_t start = out_.size();
        if (!resource_body(v, *type, depth + 2)) return false;
        close(*type, start);
        out_ += "</";
        out_ += name;
        out_ += '>';
        return true;
    }
    Members m(v);
    if (!attributes(m, slot.parent)) return false;
    out_ += '>';
    const std::size_t start = out_.size();
    if (!members(m, slot.parent, depth + 1)) return false;
    close(name, start);
    return true;
}

bool Writer::primitive(const json::Value* v, const json::Value* extra, const Slot& slot, std::string_view name,
                       std::size_t depth) {
    if (v != nullptr && v->is_null()) v = nullptr;
    if (extra != nullptr && extra->is_null()) extra = nullptr;
    if (v == nullptr && extra == nullptr) return fail("A primitive needs a value or an extension object.");
    out_ += '<';
    out_ += name;
    if (extra != nullptr && !extra->is_object()) return fail("The '_" + std::string(name) + "' member must be a JSON object.");
    if (extra != nullptr && extra->find("value") != nullptr) {
        return fail("Unknown member 'value' in '_" + std::string(name) + "'.");
    }
    Members m(extra != nullptr ? *extra : *v);  // only used when extra is set
    if (extra != nullptr && !attributes(m, slot.parent)) return false;
    if (v != nullptr) {
        switch (detail::json_kind(slot.type)) {
            case detail::JsonKind::string:
                if (!v->is_string()) return fail("The value must be a JSON string.");
                if (!attribute("value", v->text(), out_)) return fail(control_character);
                break;
            case detail::JsonKind::number:
                if (v->kind() != json::Value::Kind::number) return fail("The value must be a JSON number.");
                attribute("value", v->text(), out_);
                break;
            case detail::JsonKind::boolean:
                if (v->kind() != json::Value::Kind::boolean) return fail("The value must be a JSON boolean.");
                attribute("value", v->as_bool() ? "true" : "false", out_);
                break;
        }
    }
    out_ += '>';
    const std::size_t start = out_.size();
    if (extra != nullptr && !members(m, slot.parent, depth + 1)) return false;
    close(name, start);
    return true;
}

bool Writer::xhtml(const json::Value& v) {
    if (!v.is_string()) return fail("The narrative div must be a JSON string.");
    // Checked with libxml2 (no DTD, no entities), then embedded exactly as written: a well-formed
    // element that declares its own namespaces stays well-formed inside another document.
    const std::string& markup = v.text();
    if (!markup.starts_with("<div")) return fail("The narrative must be a <div> in the XHTML namespace.");
    detail::HardenedResult parsed = detail::parse_hardened(markup);
    if (!parsed.doc) return fail("The narrative div is not well-formed XHTML: " + parsed.message);
    xmlNode* div = xmlDocGetRootElement(parsed.doc.get());
    if (div == nullptr || detail::view(div->name) != "div" || div->ns == nullptr ||
        detail::view(div->ns->href) != detail::xhtml_namespace) {
        return fail("The narrative must be a <div> in the XHTML namespace.");
    }
    out_ += markup;
    return true;
}

}  // namespace

WriteResult write_checked(const json::Value& resource, std::size_t max_depth) {
    WriteResult result;
    std::string out;
    Writer writer(out, max_depth);
    if (!writer.root(resource)) {
        result.path = std::move(writer.failed_path);
        result.message = std::move(writer.message);
        return result;
    }
    result.xml = std::move(out);
    return result;
}

std::string write(const json::Value& resource) {
    WriteResult r = write_checked(resource);
    return r.xml ? std::move(*r.xml) : std::string();
}

}  // namespace helsebro::fhir::xml
