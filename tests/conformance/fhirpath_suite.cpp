#include "tests/conformance/fhirpath_suite.hpp"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>

#include "fhir/xml.hpp"

namespace helsebro::conformance::fhirpath_suite {

namespace {

namespace fp = fhir::fhirpath;
using fhir::json::Value;

std::string attribute(xmlNode* node, const char* name) {
    xmlChar* v = xmlGetProp(node, reinterpret_cast<const xmlChar*>(name));
    if (!v) return {};
    std::string s(reinterpret_cast<const char*>(v));
    xmlFree(v);
    return s;
}

std::string content(xmlNode* node) {
    xmlChar* v = xmlNodeGetContent(node);
    if (!v) return {};
    std::string s(reinterpret_cast<const char*>(v));
    xmlFree(v);
    return s;
}

bool is(xmlNode* node, const char* name) {
    return node->type == XML_ELEMENT_NODE && xmlStrEqual(node->name, reinterpret_cast<const xmlChar*>(name));
}

Case read_case(xmlNode* test, const std::string& group) {
    Case c;
    c.group = group;
    c.name = attribute(test, "name");
    c.input_file = attribute(test, "inputfile");
    c.predicate = attribute(test, "predicate") == "true";
    c.ordered = attribute(test, "ordered") != "false";
    for (xmlNode* child = test->children; child; child = child->next) {
        if (is(child, "expression")) {
            c.expression = content(child);
            c.invalid = attribute(child, "invalid");
        } else if (is(child, "output")) {
            c.outputs.push_back({attribute(child, "type"), content(child)});
        }
    }
    return c;
}

std::optional<std::string> read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return std::nullopt;
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool iequals(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                      [](char x, char y) { return std::tolower(static_cast<unsigned char>(x)) ==
                                                  std::tolower(static_cast<unsigned char>(y)); });
}

// The suite writes temporal outputs as literals (@1974-12-25, @T10:30); toString() has no '@'.
std::string expected_text(const Output& o) {
    bool temporal = o.type.empty() || o.type == "date" || o.type == "dateTime" || o.type == "time";
    if (!temporal || !o.text.starts_with('@')) return o.text;
    return o.text.substr(o.text.starts_with("@T") ? 2 : 1);
}

// A complex node's JSON is cut short: a whole narrative would bury the report.
std::string item_text(const fp::Item& item) {
    if (auto text = item.to_text()) return *text;
    auto json = fhir::json::write(item.to_json());
    if (json.size() <= 80) return json;
    std::size_t cut = 77;
    while (cut > 0 && (static_cast<unsigned char>(json[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 character
    return json.substr(0, cut) + "...";
}

// The suite names types as FHIR does ("boolean", "date", "code"), the system types only differing
// in case ("Boolean", "Date"), so a case-insensitive name is the type check both engines agree on.
bool matches(const Output& expected, const fp::Item& got) {
    if (!expected.type.empty() && !iequals(expected.type, got.type_name())) return false;
    auto text = got.to_text();
    return text && *text == expected_text(expected);
}

bool matches_all(const Case& c, const fp::Collection& got) {
    if (got.size() != c.outputs.size()) return false;
    if (c.ordered) {
        for (std::size_t i = 0; i < got.size(); ++i)
            if (!matches(c.outputs[i], got[i])) return false;
        return true;
    }
    std::vector<bool> used(got.size(), false);
    for (const auto& expected : c.outputs) {
        std::size_t i = 0;
        while (i < got.size() && (used[i] || !matches(expected, got[i]))) ++i;
        if (i == got.size()) return false;
        used[i] = true;
    }
    return true;
}

std::string describe(const std::vector<Output>& outputs) {
    std::string s = "[";
    for (const auto& o : outputs)
        s += (s.size() > 1 ? ", " : "") + (o.type.empty() ? "" : o.type + " ") + o.text;
    return s + "]";
}

std::string describe(const fp::Collection& items) {
    std::string s = "[";
    for (const auto& item : items) s += (s.size() > 1 ? ", " : "") + std::string(item.type_name()) + " " + item_text(item);
    return s + "]";
}

std::string describe(const fp::Error& e) {
    return std::string(fp::to_string(e.kind)) + " error at " + std::to_string(e.line) + ":" +
           std::to_string(e.column) + ": " + e.message;
}

bool expected_error(const std::string& invalid, fp::Error::Kind kind) {
    if (invalid == "true") return true;
    if (invalid == "syntax") return kind == fp::Error::Kind::syntax;
    if (invalid == "semantic") return kind == fp::Error::Kind::semantic;
    if (invalid == "execution") return kind == fp::Error::Kind::execution;
    return false;
}

Verdict judge_error(const Case& c, const fp::Error& error, Verdict v) {
    v.got = describe(error);
    v.passed = expected_error(c.invalid, error.kind);
    return v;
}

}  // namespace

Suite load(const std::filesystem::path& file) {
    Suite suite;
    std::unique_ptr<xmlDoc, void (*)(xmlDoc*)> doc(xmlReadFile(file.c_str(), nullptr, XML_PARSE_NONET), xmlFreeDoc);
    if (!doc || !xmlDocGetRootElement(doc.get())) {
        suite.error = "cannot read " + file.string();
        return suite;
    }
    for (xmlNode* group = xmlDocGetRootElement(doc.get())->children; group; group = group->next) {
        if (!is(group, "group")) continue;
        std::string name = attribute(group, "name");
        for (xmlNode* test = group->children; test; test = test->next)
            if (is(test, "test")) suite.cases.push_back(read_case(test, name));
    }
    return suite;
}

Inputs::Parsed Inputs::parse(const std::filesystem::path& path) {
    auto text = read_file(path);
    if (!text) return {std::nullopt, "cannot read " + path.string()};
    // Both parsers report alike; their results differ only in type.
    auto done = [&](auto r) -> Parsed {
        if (r.value) return {std::move(r.value), {}};
        return {std::nullopt, path.filename().string() + ":" + std::to_string(r.error.line) + ": " + r.error.message};
    };
    return path.extension() == ".xml" ? done(fhir::xml::parse(*text)) : done(fhir::json::parse(*text));
}

const Value* Inputs::get(const std::string& file, std::string& error) {
    auto it = parsed_.find(file);
    if (it == parsed_.end()) it = parsed_.emplace(file, parse(dir_ / file)).first;
    error = it->second.error;
    return it->second.value ? &*it->second.value : nullptr;
}

fp::CompileOptions compile_options(const Value* input) {
    fp::CompileOptions options;
    if (input) options.context_type = input->string_at("resourceType").value_or("");
    return options;
}

fp::Environment environment() {
    fp::Environment env;
    env.clock = [] { return std::chrono::sys_days{std::chrono::year{2026} / 11 / 25} + std::chrono::hours{12}; };
    return env;
}

Verdict run(const Case& c, Inputs& inputs) {
    Verdict v;
    v.expected = c.invalid.empty() ? describe(c.outputs) : c.invalid == "true" ? "any error" : c.invalid + " error";
    std::string input_error;
    const Value* input = c.input_file.empty() ? nullptr : inputs.get(c.input_file, input_error);
    if (!input_error.empty()) {
        v.got = "no input: " + input_error;
        return v;
    }
    auto compiled = fp::compile(c.expression, compile_options(input));
    if (!compiled.expression) return judge_error(c, compiled.error, std::move(v));
    const Value none;  // no input: a null tree (the cases without input only use literals)
    auto result = compiled.expression->evaluate(input ? *input : none, environment());
    if (!result.items) return judge_error(c, result.error, std::move(v));
    fp::Collection got = c.predicate ? fp::Collection{fp::Item(!result.items->empty())} : *result.items;
    v.got = describe(got);
    v.passed = c.invalid.empty() && matches_all(c, got);
    return v;
}

}  // namespace helsebro::conformance::fhirpath_suite
