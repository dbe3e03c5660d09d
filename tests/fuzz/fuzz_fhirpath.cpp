// libFuzzer target for FHIRPath: any text is compiled, and whatever compiles is evaluated on a
// small Patient and a Bundle, without crashing, hanging or leaking. Build and run with scripts/fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fhir/fhirpath.hpp"
#include "fhir/json.hpp"

using namespace helsebro::fhir;

namespace {

const json::Value& input() {
    static const json::Value v = *json::parse(R"({"resourceType":"Bundle","type":"collection","entry":[
      {"fullUrl":"urn:uuid:1","resource":{"resourceType":"Patient","id":"p","active":true,
        "name":[{"family":"Ås","given":["Kari","Øydis"]}],"birthDate":"1969-11-13",
        "_birthDate":{"extension":[{"url":"u","valueDecimal":1.50}]},
        "contained":[{"resourceType":"Organization","id":"o"}],"managingOrganization":{"reference":"#o"}}},
      {"resource":{"resourceType":"Observation","status":"final","subject":{"reference":"urn:uuid:1"},
        "valueQuantity":{"value":72.5,"code":"kg","system":"http://unitsofmeasure.org"},
        "effectiveDateTime":"2026-11-25T10:00:00+01:00"}}]})").value;
    return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    for (std::string_view type : {std::string_view{}, std::string_view{"Bundle"}}) {
        auto compiled = fhirpath::compile(text, {type});
        if (!compiled.expression) continue;
        fhirpath::Environment env;
        env.max_items = 10000;
        env.clock = [] { return std::chrono::system_clock::time_point{}; };
        (void)compiled.expression->evaluate(input(), env);
    }
    return 0;
}
