// libFuzzer target for what the FHIR API does with a request before anything is stored: routing,
// JSON parsing, the resource checks, and planning a Bundle (ids, references, serialization).
// Input: the request target, a newline, the body. Build and run with scripts/fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "adapter/ingress/bundle.hpp"
#include "adapter/ingress/messaging.hpp"
#include "adapter/ingress/resource_ops.hpp"
#include "adapter/ingress/route.hpp"
#include "fhir/json.hpp"

using namespace helsebro;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    auto newline = input.find('\n');
    std::string_view target = input.substr(0, newline);
    std::string_view body = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
    for (const char* method : {"GET", "POST", "PUT"}) (void)ingress::route(method, target);
    (void)ingress::parse_entry_url(target);

    fhir::json::ParseLimits limits;
    limits.max_depth = 32;
    auto parsed = fhir::json::parse(body, limits);
    if (!parsed.value) return 0;
    if (!ingress::check_resource(*parsed.value, "").empty()) return 0;
    auto type = parsed.value->string_at("resourceType");
    if (type != "Bundle") {
        (void)ingress::prepare(*parsed.value, *type, "fuzz");
        return 0;
    }
    (void)ingress::check_entries(*parsed.value);
    ingress::MessageInfo info;
    (void)ingress::check_message(*parsed.value, info);
    fhir::json::Value copy = *parsed.value;
    (void)ingress::plan_bundle(copy, true);
    (void)ingress::plan_bundle(*parsed.value, false);
    return 0;
}
