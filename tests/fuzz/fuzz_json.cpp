// libFuzzer target for fhir::json. Not part of the default build: scripts/fuzz.sh builds and runs it.
// Properties checked: parse never crashes; whatever parses writes back to text that parses to
// the same tree and writes identically (write is a fixed point); errors carry a sane position.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fhir/json.hpp"

namespace json = helsebro::fhir::json;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    json::ParseLimits limits;
    limits.max_depth = 16;  // small, so depth errors are reached often
    const auto r = json::parse(text, limits);
    if (!r.value) {
        if (r.error.offset > size || r.error.line == 0 || r.error.column == 0 || r.error.message.empty()) std::abort();
        return 0;
    }
    const std::string once = json::write(*r.value);
    const auto again = json::parse(once, limits);
    if (!again.value || !(*again.value == *r.value)) std::abort();
    if (json::write(*again.value) != once) std::abort();
    return 0;
}
