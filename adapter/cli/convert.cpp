#include "adapter/cli/convert.hpp"

#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "fhir/json.hpp"
#include "fhir/order.hpp"
#include "fhir/xml.hpp"

namespace helsebro::cli {

namespace {

bool read_all(const std::string& file, std::string& out) {
    if (file == "-") {
        out.assign(std::istreambuf_iterator<char>(std::cin), {});
        return true;
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) return false;
    std::ostringstream s;
    s << in.rdbuf();
    out = s.str();
    return true;
}

bool looks_like_xml(const std::string& text) {
    for (char c : text) {
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
        return c == '<';
    }
    return false;
}

int fail(const std::string& file, std::size_t line, const std::string& path, const std::string& message) {
    std::cerr << "helsebro convert: " << file;
    if (line) std::cerr << ":" << line;
    if (!path.empty()) std::cerr << " at " << path;
    std::cerr << ": " << message << "\n";
    return 1;
}

}  // namespace

int convert(const std::string& to, const std::string& file) {
    std::string text;
    if (!read_all(file, text)) {
        std::cerr << "helsebro convert: cannot read " << file << "\n";
        return 2;
    }
    std::optional<fhir::json::Value> tree;
    if (looks_like_xml(text)) {
        auto parsed = fhir::xml::parse(text);
        if (!parsed.value) return fail(file, parsed.error.line, parsed.error.path, parsed.error.message);
        tree = std::move(parsed.value);
    } else {
        fhir::json::ParseLimits limits;
        limits.max_depth = 512;
        auto parsed = fhir::json::parse(text, limits);
        if (!parsed.value) return fail(file, parsed.error.line, parsed.error.path, parsed.error.message);
        tree = std::move(parsed.value);
    }
    if (to == "json") {
        fhir::order_by_definition(*tree);
        std::cout << fhir::json::write(*tree) << "\n";
        return 0;
    }
    auto xml = fhir::xml::write_checked(*tree, 512);
    if (!xml.xml) return fail(file, 0, xml.path, xml.message);
    std::cout << *xml.xml;
    if (!xml.xml->ends_with('\n')) std::cout << "\n";
    return 0;
}

}  // namespace helsebro::cli
