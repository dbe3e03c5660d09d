// FHIR XML -> the JSON value tree. The libxml2 tree is walked with the type model: each child element
// resolves under its parent (model::resolve_property), and the model says whether it is a primitive
// (value attribute), a datatype or inline group, a wrapped resource or the xhtml narrative.
#include <string>
#include <vector>

#include "fhir/xml.hpp"
#include "fhir/xml/libxml.hpp"
#include "fhir/xml/shape.hpp"

namespace helsebro::fhir::xml {
namespace {

using detail::Shape;
using detail::Slot;
using detail::view;

bool is_blank(std::string_view s) {
    return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

bool in_namespace(const xmlNode* node, const char* uri) {
    return node->ns != nullptr && view(node->ns->href) == uri;
}

std::string attribute_value(xmlAttr* attr) {
    const xmlNode* text = attr->children;
    if (text == nullptr) return {};
    if (text->type == XML_TEXT_NODE && text->next == nullptr) return std::string(view(text->content));
    xmlChar* v = xmlNodeListGetString(attr->doc, attr->children, 1);
    std::string s(view(v));
    xmlFree(v);
    return s;
}

// All occurrences of one element name among a parent's children, in order.
struct Group {
    std::string_view name;  // owned by the libxml2 document
    const model::Element* element = nullptr;
    Shape shape = Shape::complex;
    std::vector<json::Value> values;
    std::vector<json::Value> extras;  // primitives: the `_name` objects (null when none)
};

class Reader {
public:
    explicit Reader(const ParseLimits& limits) : limits_(limits) {}

    bool resource(xmlNode* node, std::size_t depth, json::Value& out);
    ParseError error;
    // The element being read, "Bundle.entry[2].resource"; grown and shrunk as the walk goes, and
    // copied into the error only when one occurs.
    std::string path;

private:
    bool fail(const xmlNode* node, std::string message);
    bool attributes(xmlNode* node, std::string_view parent, json::Value& out);
    bool elements(xmlNode* node, std::string_view parent, std::size_t depth, json::Value& out);
    bool element(xmlNode* child, const Slot& slot, std::size_t depth, Group& group);
    bool primitive(xmlNode* node, const Slot& slot, std::size_t depth, json::Value& value, json::Value& extra);
    bool wrapped(xmlNode* node, std::size_t depth, json::Value& out);

    const ParseLimits& limits_;
};

bool Reader::fail(const xmlNode* node, std::string message) {
    if (error.message.empty()) {
        const long line = node != nullptr ? xmlGetLineNo(node) : 0;
        error.line = line > 0 ? static_cast<std::size_t>(line) : 0;
        error.path = path;
        error.message = std::move(message);
    }
    return false;
}

bool Reader::resource(xmlNode* node, std::size_t depth, json::Value& out) {
    const std::string_view name = view(node->name);
    if (!in_namespace(node, detail::fhir_namespace)) {
        return fail(node, "The resource element is not in the FHIR namespace http://hl7.org/fhir.");
    }
    if (!detail::is_resource_name(name)) {
        return fail(node, "The element <" + std::string(name) + "> is no FHIR R4 resource type.");
    }
    for (xmlAttr* a = node->properties; a != nullptr; a = a->next) {
        if (a->ns == nullptr) {
            return fail(node, "A resource element has no attributes; found '" + std::string(view(a->name)) + "'.");
        }
    }
    out = json::Value::object();
    out.set("resourceType", json::Value::string(std::string(name)));
    return elements(node, name, depth, out);
}

// The `id` (Element.id) and `url` (Extension.url) attributes of a datatype or inline group.
bool Reader::attributes(xmlNode* node, std::string_view parent, json::Value& out) {
    for (xmlAttr* a = node->properties; a != nullptr; a = a->next) {
        if (a->ns != nullptr) continue;  // xsi:schemaLocation, xml:lang and the like carry no FHIR content
        const std::string_view name = view(a->name);
        const auto resolved = model::resolve_property(parent, name);
        if (!resolved || !resolved->element->xml_attribute) {
            return fail(node, "Unknown attribute '" + std::string(name) + "'.");
        }
        out.set(name, json::Value::string(attribute_value(a)));
    }
    return true;
}

bool Reader::elements(xmlNode* node, std::string_view parent, std::size_t depth, json::Value& out) {
    if (depth > limits_.max_depth) {
        return fail(node, "The XML is nested deeper than the limit of " + std::to_string(limits_.max_depth) + ".");
    }
    std::vector<Group> groups;
    for (xmlNode* child = node->children; child != nullptr; child = child->next) {
        if (child->type == XML_TEXT_NODE || child->type == XML_CDATA_SECTION_NODE) {
            if (!is_blank(view(child->content))) {
                return fail(child, "Text is not allowed here; FHIR XML puts values in value attributes.");
            }
            continue;
        }
        if (child->type != XML_ELEMENT_NODE) continue;  // comments and processing instructions are dropped
        const std::string_view name = view(child->name);
        const std::size_t outer = path.size();
        path += '.';
        path += name;
        const auto resolved = model::resolve_property(parent, name);
        if (!resolved || resolved->element->xml_attribute || name.starts_with('_')) {
            return fail(child, "Unknown element <" + std::string(name) + ">.");
        }
        const Slot slot = detail::classify(*resolved->element, resolved->type);
        const char* expected_ns = slot.shape == Shape::xhtml ? detail::xhtml_namespace : detail::fhir_namespace;
        if (!in_namespace(child, expected_ns)) {
            return fail(child, "The element <" + std::string(name) + "> is not in the namespace " + expected_ns + ".");
        }
        Group* group = nullptr;
        bool element_seen = false;  // a choice seen under another type's name counts too
        for (Group& g : groups) {
            if (g.name == name) group = &g;
            element_seen = element_seen || g.element == resolved->element;
        }
        if (group == nullptr && !(element_seen && !resolved->element->repeats())) {
            group = &groups.emplace_back(Group{name, resolved->element, slot.shape, {}, {}});
        } else if (!resolved->element->repeats()) {
            return fail(child, "The element <" + std::string(name) + "> occurs more than once but allows at most one.");
        }
        if (resolved->element->repeats()) {
            path += '[';
            path += std::to_string(group->values.size());
            path += ']';
        }
        if (!element(child, slot, depth + 1, *group)) return false;
        path.resize(outer);
    }
    for (Group& g : groups) {
        const bool repeats = g.element->repeats();
        auto pack = [repeats](std::vector<json::Value>& items) {
            if (!repeats) return std::move(items.front());
            json::Value array = json::Value::array();
            array.items() = std::move(items);
            return array;
        };
        if (g.shape != Shape::primitive) {
            out.set(g.name, pack(g.values));
            continue;
        }
        bool any_value = false, any_extra = false;
        for (const auto& v : g.values) any_value = any_value || !v.is_null();
        for (const auto& v : g.extras) any_extra = any_extra || !v.is_null();
        if (any_value) out.set(g.name, pack(g.values));
        if (any_extra) out.set("_" + std::string(g.name), pack(g.extras));
    }
    return true;
}

bool Reader::element(xmlNode* child, const Slot& slot, std::size_t depth, Group& group) {
    if (depth > limits_.max_depth) {
        return fail(child, "The XML is nested deeper than the limit of " + std::to_string(limits_.max_depth) + ".");
    }
    json::Value value;
    json::Value extra;
    switch (slot.shape) {
        case Shape::primitive:
            if (!primitive(child, slot, depth, value, extra)) return false;
            break;
        case Shape::xhtml:
            if (view(child->name) != "div") return fail(child, "The narrative must be an xhtml <div>.");
            value = json::Value::string(detail::dump_element(child));
            break;
        case Shape::resource:
            if (!wrapped(child, depth, value)) return false;
            break;
        case Shape::complex:
            value = json::Value::object();
            if (!attributes(child, slot.parent, value)) return false;
            if (!elements(child, slot.parent, depth, value)) return false;
            break;
    }
    group.values.push_back(std::move(value));
    group.extras.push_back(std::move(extra));
    return true;
}

bool Reader::primitive(xmlNode* node, const Slot& slot, std::size_t depth, json::Value& value, json::Value& extra) {
    json::Value ext = json::Value::object();
    bool has_value = false;
    for (xmlAttr* a = node->properties; a != nullptr; a = a->next) {
        if (a->ns != nullptr) continue;
        const std::string_view name = view(a->name);
        if (name == "id") {
            ext.set("id", json::Value::string(attribute_value(a)));
        } else if (name == "value") {
            std::string text = attribute_value(a);
            has_value = true;
            switch (detail::json_kind(slot.type)) {
                case detail::JsonKind::string:
                    value = json::Value::string(std::move(text));
                    break;
                case detail::JsonKind::boolean:
                    if (text != "true" && text != "false") return fail(node, "A boolean must be true or false.");
                    value = json::Value::boolean(text == "true");
                    break;
                case detail::JsonKind::number:
                    if (!json::is_number_text(text)) {
                        return fail(node, "The value is not a valid " + std::string(slot.type) + ".");
                    }
                    value = json::Value::number(std::move(text));
                    break;
            }
        } else {
            return fail(node, "Unknown attribute '" + std::string(name) + "' on a primitive element.");
        }
    }
    if (!elements(node, slot.parent, depth, ext)) return false;
    if (!ext.members().empty()) extra = std::move(ext);
    if (!has_value && extra.is_null()) {
        return fail(node, "A primitive element needs a value attribute, an id or extensions.");
    }
    return true;
}

// <resource><Patient>...</Patient></resource>
bool Reader::wrapped(xmlNode* node, std::size_t depth, json::Value& out) {
    if (node->properties != nullptr) return fail(node, "An element that holds a resource has no attributes.");
    xmlNode* inner = nullptr;
    for (xmlNode* c = node->children; c != nullptr; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            if (!is_blank(view(c->content))) return fail(c, "Text is not allowed here.");
        } else if (c->type == XML_ELEMENT_NODE) {
            if (inner != nullptr) return fail(c, "An element that holds a resource holds exactly one.");
            inner = c;
        }
    }
    if (inner == nullptr) return fail(node, "An element that holds a resource holds exactly one.");
    if (depth + 1 > limits_.max_depth) {
        return fail(inner, "The XML is nested deeper than the limit of " + std::to_string(limits_.max_depth) + ".");
    }
    return resource(inner, depth + 1, out);
}

}  // namespace

ParseResult parse(std::string_view xml, const ParseLimits& limits) {
    ParseResult result;
    if (xml.size() > limits.max_bytes) {
        result.error.message = "The XML is larger than the limit of " + std::to_string(limits.max_bytes) + " bytes.";
        return result;
    }
    detail::HardenedResult doc = detail::parse_hardened(xml);
    if (!doc.doc) {
        result.error.line = doc.line;
        result.error.column = doc.column;
        result.error.message = std::move(doc.message);
        return result;
    }
    xmlNode* root = xmlDocGetRootElement(doc.doc.get());
    if (root == nullptr) {
        result.error.message = "The XML has no root element.";
        return result;
    }
    Reader reader(limits);
    json::Value value;
    reader.path = std::string(view(root->name));
    if (!reader.resource(root, 1, value)) {
        result.error = std::move(reader.error);
        return result;
    }
    result.value = std::move(value);
    return result;
}

}  // namespace helsebro::fhir::xml
