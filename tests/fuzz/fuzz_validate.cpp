// libFuzzer target for fhir::validate: whatever parses as JSON is validated without crashing,
// and every issue names a place and a code. Build and run with scripts/fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fhir/json.hpp"
#include "fhir/validate.hpp"

using namespace helsebro;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fhir::json::ParseLimits limits;
    limits.max_depth = 64;
    auto parsed = fhir::json::parse(std::string_view(reinterpret_cast<const char*>(data), size), limits);
    if (!parsed.value) return 0;
    for (const auto& issue : fhir::validate(*parsed.value))
        if (issue.code.empty()) std::abort();
    (void)fhir::unchecked_invariants(*parsed.value);
    return 0;
}
