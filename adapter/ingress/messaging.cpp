#include "adapter/ingress/messaging.hpp"

#include "adapter/store/store.hpp"
#include "fhir/resource_types.hpp"

namespace helsebro::ingress {

using fhir::json::Value;

namespace {
std::vector<fhir::Issue> one(std::string code, std::string text, std::string where) {
    return {fhir::error(std::move(code), std::move(text), std::move(where))};
}
}  // namespace

std::vector<fhir::Issue> check_message(const Value& bundle, MessageInfo& out) {
    const Value* entries = bundle.find("entry");
    if (!entries || !entries->is_array() || entries->items().empty())
        return one("required", "A message Bundle starts with a MessageHeader entry.", "Bundle.entry");
    const Value* header = entries->items().front().find("resource");
    if (!header || header->string_at("resourceType") != "MessageHeader")
        return one("invalid", "The first entry of a message Bundle must be a MessageHeader.", "Bundle.entry[0].resource");
    const std::string at = "Bundle.entry[0].resource";
    auto id = header->string_at("id");
    if (!id || !fhir::is_valid_id(*id))
        return one("required", "The MessageHeader needs a valid id: the response message refers to it.", at + ".id");
    out.header_id = std::string(*id);
    for (const char* key : {"eventCoding", "eventUri"}) {
        if (const Value* e = header->find(key)) {
            if (!out.event_key.empty())
                return one("invalid", "A MessageHeader has one event: eventCoding or eventUri, not both.", at + ".event[x]");
            out.event_key = key;
            out.event = *e;
        }
    }
    if (out.event_key.empty())
        return one("required", "The MessageHeader needs an event (eventCoding or eventUri).", at + ".event[x]");
    if (out.event_key == "eventUri" && (!out.event.is_string() || out.event.text().empty()))
        return one("value", "MessageHeader.eventUri must be a uri.", at + ".eventUri");
    if (out.event_key == "eventCoding" && (!out.event.is_object() || !out.event.string_at("code")))
        return one("required", "MessageHeader.eventCoding needs a code.", at + ".eventCoding.code");
    const Value* source = header->find("source");
    auto endpoint = source ? source->string_at("endpoint") : std::nullopt;
    if (!endpoint || endpoint->empty())
        return one("required", "The MessageHeader needs source.endpoint.", at + ".source.endpoint");
    out.source_endpoint = std::string(*endpoint);
    return {};
}

std::string response_message(const MessageInfo& m, const std::string& base_url, const std::string& now) {
    std::string header_id = store::new_id();
    Value header = Value::object();
    header.set("resourceType", Value::string("MessageHeader"));
    header.set("id", Value::string(header_id));
    header.set(m.event_key, m.event);
    Value destination = Value::object();
    destination.set("endpoint", Value::string(m.source_endpoint));
    Value destinations = Value::array();
    destinations.push_back(std::move(destination));
    header.set("destination", std::move(destinations));
    Value source = Value::object();
    source.set("name", Value::string("Helsebro"));
    source.set("software", Value::string("Helsebro"));
    source.set("version", Value::string(HELSEBRO_VERSION));
    source.set("endpoint", Value::string(base_url + "/$process-message"));
    header.set("source", std::move(source));
    Value response = Value::object();
    response.set("identifier", Value::string(m.header_id));
    response.set("code", Value::string("ok"));
    header.set("response", std::move(response));

    Value entry = Value::object();
    entry.set("fullUrl", Value::string("urn:uuid:" + header_id));
    entry.set("resource", std::move(header));
    Value entries = Value::array();
    entries.push_back(std::move(entry));

    Value bundle = Value::object();
    bundle.set("resourceType", Value::string("Bundle"));
    bundle.set("id", Value::string(store::new_id()));
    bundle.set("type", Value::string("message"));
    bundle.set("timestamp", Value::string(now));
    bundle.set("entry", std::move(entries));
    return fhir::json::write(bundle);
}

}  // namespace helsebro::ingress
