// Small RAII and hardened-parsing helpers around libxml2, shared by the reader and the writer.
#pragma once

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <memory>
#include <string>
#include <string_view>

namespace helsebro::fhir::xml::detail {

struct DocFree {
    void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
using DocPtr = std::unique_ptr<xmlDoc, DocFree>;

struct HardenedResult {
    DocPtr doc;                // set on success
    std::size_t line = 0;      // of the error
    std::size_t column = 0;
    std::string message;       // a full sentence
};

// Parses XML from memory without DTD loading, entity substitution or network access, and refuses a
// DOCTYPE (internal or external) before anything in it is read. Thread-safe.
HardenedResult parse_hardened(std::string_view text);

// The element and its subtree as markup (UTF-8, no character references for non-ASCII), with the
// namespace declarations it needs on itself.
std::string dump_element(xmlNode* element);

inline std::string_view view(const xmlChar* s) {
    return s == nullptr ? std::string_view() : std::string_view(reinterpret_cast<const char*>(s));
}
inline const xmlChar* xml_chars(const char* s) { return reinterpret_cast<const xmlChar*>(s); }

}  // namespace helsebro::fhir::xml::detail
