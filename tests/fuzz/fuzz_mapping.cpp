// libFuzzer target for the mapping rules: any text as a rule file is loaded (errors reported, never
// a crash), and a rule set that loads is applied to a small discharge message. Build and run with
// scripts/fuzz.sh.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string_view>

#include "adapter/mapping/mapping.hpp"

using namespace helsebro;

namespace {

const std::filesystem::path& dir() {
    static const std::filesystem::path d = [] {
        auto p = std::filesystem::temp_directory_path() / ("helsebro-fuzz-mapping-" + std::to_string(::getpid()));
        std::filesystem::create_directories(p);
        return p;
    }();
    return d;
}

const fhir::json::Value& message() {
    static const fhir::json::Value m = *fhir::json::parse(R"({"resourceType":"Bundle","type":"message","entry":[
      {"fullUrl":"urn:uuid:1","resource":{"resourceType":"MessageHeader","eventCoding":{
         "system":"urn:oid:2.16.578.1.12.4.1.1.8279","code":"UTSKRIVNINGSRAPPORT"},"source":{"endpoint":"urn:x"}}},
      {"fullUrl":"urn:uuid:2","resource":{"resourceType":"Patient","identifier":[{"system":"urn:oid:2.16.578.1.12.4.1.4.1","value":"13816900216"}],
         "generalPractitioner":[{"identifier":{"system":"urn:oid:2.16.578.1.12.4.1.4.4","value":"9144889"}}]}},
      {"fullUrl":"urn:uuid:3","resource":{"resourceType":"Encounter","status":"finished","class":{"code":"IMP"},
         "period":{"end":"2026-01-14"},"subject":{"reference":"urn:uuid:2"}}}]})").value;
    return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::ofstream(dir() / "rules.yaml", std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    mapping::LoadOptions options;
    options.recipients = std::vector<mapping::Recipient>{{"gp", "https://gp.example/fhir", {"1"}, {}, {"9144889"}}};
    auto loaded = mapping::load(dir().string(), options);
    if (!loaded.rules) return 0;
    mapping::Input in;
    in.resource = &message();
    in.message_id = "fuzz";
    (void)mapping::apply(*loaded.rules, in, [](const mapping::PatientKey&) { return std::vector<fhir::json::Value>{}; });
    return 0;
}
