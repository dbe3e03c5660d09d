#include "adapter/ingress/capability.hpp"

#include "fhir/json.hpp"
#include "fhir/resource_types.hpp"
#include "fhir/search_params.hpp"

namespace helsebro::ingress {

using fhir::json::Value;

namespace {

Value str(const char* s) { return Value::string(s); }

Value codes(std::initializer_list<const char*> list) {
    Value a = Value::array();
    for (const char* c : list) {
        Value o = Value::object();
        o.set("code", str(c));
        a.push_back(std::move(o));
    }
    return a;
}

// What search answers for the type: the parameters it indexes, and _id and _lastUpdated. Name and
// type only: all are the standard R4 ones, and a definition url each would triple the statement.
Value search_params(std::string_view type) {
    Value list = Value::array();
    for (const auto* p : fhir::search::params(type)) {
        if (!fhir::search::indexed(*p) && p->code != "_id" && p->code != "_lastUpdated") continue;
        Value param = Value::object();
        param.set("name", Value::string(std::string(p->code)));
        param.set("type", Value::string(std::string(fhir::search::to_string(p->kind))));
        list.push_back(std::move(param));
    }
    return list;
}

Value resource_entry(std::string_view type) {
    Value r = Value::object();
    r.set("type", Value::string(std::string(type)));
    r.set("interaction", codes({"read", "vread", "update", "create", "search-type", "history-instance"}));
    r.set("versioning", str("versioned"));
    r.set("readHistory", Value::boolean(true));
    r.set("updateCreate", Value::boolean(true));
    r.set("conditionalCreate", Value::boolean(true));
    r.set("conditionalUpdate", Value::boolean(false));
    r.set("conditionalDelete", str("not-supported"));
    r.set("searchParam", search_params(type));
    return r;
}

}  // namespace

std::string capability_statement(const std::string& base_url, const std::string& started_at) {
    Value cs = Value::object();
    cs.set("resourceType", str("CapabilityStatement"));
    cs.set("status", str("active"));
    cs.set("date", Value::string(started_at));
    cs.set("publisher", str("Helsebro"));
    cs.set("kind", str("instance"));
    Value software = Value::object();
    software.set("name", str("Helsebro"));
    software.set("version", str(HELSEBRO_VERSION));
    cs.set("software", std::move(software));
    Value impl = Value::object();
    impl.set("description", str("Helsebro: FHIR intake for shared care plans and handovers"));
    impl.set("url", Value::string(base_url));
    cs.set("implementation", std::move(impl));
    cs.set("fhirVersion", str("4.0.1"));
    Value formats = Value::array();
    formats.push_back(str("application/fhir+json"));
    formats.push_back(str("json"));
    formats.push_back(str("application/fhir+xml"));
    formats.push_back(str("xml"));
    cs.set("format", std::move(formats));

    Value rest = Value::object();
    rest.set("mode", str("server"));
    rest.set("documentation",
             str("Writes are answered only after they are durable. A Bundle or message sent again with the same "
                 "Bundle.identifier (or MessageHeader.id) by the same client gets the first answer again. "
                 "Search finds current versions; results come in the order resources were created, 20 a page "
                 "by default and at most 1000 (_count), with a next link that neither skips nor repeats "
                 "results when others write in between. No total is given. Unknown parameters are refused "
                 "(400) unless the request has Prefer: handling=lenient. Reference parameters take the "
                 ":identifier modifier (patient:identifier=system|value)."));
    Value security = Value::object();
    security.set("cors", Value::boolean(false));
    security.set("description",
                 str("Every request but this CapabilityStatement needs the bearer token of a client declared in "
                     "the server's configuration."));
    rest.set("security", std::move(security));
    Value resources = Value::array();
    for (auto type : fhir::resource_types()) resources.push_back(resource_entry(type));
    rest.set("resource", std::move(resources));
    rest.set("interaction", codes({"transaction", "batch"}));
    Value op = Value::object();
    op.set("name", str("process-message"));
    op.set("definition", str("http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message"));
    Value ops = Value::array();
    ops.push_back(std::move(op));
    rest.set("operation", std::move(ops));
    Value rests = Value::array();
    rests.push_back(std::move(rest));
    cs.set("rest", std::move(rests));

    Value messaging = Value::object();
    messaging.set("documentation",
                  str("Messages are accepted synchronously by $process-message or a message Bundle posted to the "
                      "base; each is stored as received before the response message is sent."));
    Value messagings = Value::array();
    messagings.push_back(std::move(messaging));
    cs.set("messaging", std::move(messagings));

    Value document = Value::object();
    document.set("mode", str("consumer"));
    document.set("documentation", str("A document Bundle posted to the base is stored as received."));
    document.set("profile", str("http://hl7.org/fhir/StructureDefinition/Bundle"));
    Value documents = Value::array();
    documents.push_back(std::move(document));
    cs.set("document", std::move(documents));
    return fhir::json::write(cs);
}

}  // namespace helsebro::ingress
