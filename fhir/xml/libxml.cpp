#include "fhir/xml/libxml.hpp"

#include <libxml/xmlerror.h>
#include <libxml/xmlsave.h>

#include <climits>
#include <mutex>

namespace helsebro::fhir::xml::detail {
namespace {

struct CtxtFree {
    void operator()(xmlParserCtxt* c) const { xmlFreeParserCtxt(c); }
};

struct Guard {
    bool doctype = false;
};

// SAX hook: a DOCTYPE stops the parser before its internal subset (entity declarations) is read.
void refuse_doctype(void* ctx, const xmlChar*, const xmlChar*, const xmlChar*) {
    auto* ctxt = static_cast<xmlParserCtxt*>(ctx);
    if (ctxt->_private != nullptr) static_cast<Guard*>(ctxt->_private)->doctype = true;
    xmlStopParser(ctxt);
}

void init_once() {
    static std::once_flag flag;
    std::call_once(flag, [] { xmlInitParser(); });
}

std::string trimmed(const char* message) {
    std::string s = message == nullptr ? std::string("The XML is not well-formed.") : std::string(message);
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    if (!s.empty() && s.back() != '.') s += '.';
    return s;
}

}  // namespace

HardenedResult parse_hardened(std::string_view text) {
    init_once();
    HardenedResult result;
    if (text.size() > static_cast<std::size_t>(INT_MAX)) {
        result.message = "The XML is too large.";
        return result;
    }
    std::unique_ptr<xmlParserCtxt, CtxtFree> ctxt(xmlNewParserCtxt());
    if (!ctxt) {
        result.message = "Out of memory.";
        return result;
    }
    Guard guard;
    ctxt->_private = &guard;
    ctxt->sax->internalSubset = refuse_doctype;
    ctxt->sax->externalSubset = refuse_doctype;
    // Deliberately absent: XML_PARSE_NOENT (entity substitution), XML_PARSE_DTDLOAD, XML_PARSE_DTDATTR,
    // XML_PARSE_DTDVALID, XML_PARSE_XINCLUDE, XML_PARSE_HUGE.
    const int options =
        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA | XML_PARSE_BIG_LINES;
    xmlDoc* doc = xmlCtxtReadMemory(ctxt.get(), text.data(), static_cast<int>(text.size()), nullptr, nullptr, options);
    result.doc.reset(doc);
    const xmlError* err = xmlCtxtGetLastError(ctxt.get());
    if (guard.doctype || (doc != nullptr && (doc->intSubset != nullptr || doc->extSubset != nullptr))) {
        result.doc.reset();
        result.line = err != nullptr && err->line > 0 ? static_cast<std::size_t>(err->line) : 0;
        result.column = err != nullptr && err->int2 > 0 ? static_cast<std::size_t>(err->int2) : 0;
        result.message = "A DOCTYPE is not allowed in FHIR XML (no DTDs, no entity declarations).";
        return result;
    }
    if (doc == nullptr || !ctxt->wellFormed) {
        result.doc.reset();
        result.line = err != nullptr && err->line > 0 ? static_cast<std::size_t>(err->line) : 0;
        result.column = err != nullptr && err->int2 > 0 ? static_cast<std::size_t>(err->int2) : 0;
        result.message = trimmed(err != nullptr ? err->message : nullptr);
    }
    return result;
}

std::string dump_element(xmlNode* element) {
    DocPtr doc(xmlNewDoc(xml_chars("1.0")));
    xmlNode* copy = xmlDocCopyNode(element, doc.get(), 1);
    if (copy == nullptr) return {};
    xmlDocSetRootElement(doc.get(), copy);
    xmlReconciliateNs(doc.get(), copy);
    xmlBuffer* buffer = xmlBufferCreate();
    xmlOutputBuffer* out = xmlOutputBufferCreateBuffer(buffer, nullptr);
    // With an explicit encoding libxml2 writes non-ASCII characters as they are, not as &#x..;.
    xmlNodeDumpOutput(out, doc.get(), copy, 0, 0, "UTF-8");
    xmlOutputBufferClose(out);
    std::string markup(reinterpret_cast<const char*>(xmlBufferContent(buffer)),
                       static_cast<std::size_t>(xmlBufferLength(buffer)));
    xmlBufferFree(buffer);
    return markup;
}

}  // namespace helsebro::fhir::xml::detail
