#pragma once

#include <string>

namespace helsebro::cli {

// `helsebro convert --to xml|json FILE|-`: the resource in the other FHIR format on stdout. The
// input's format is told from its first character. 0 on success; 1 when the input is no FHIR
// (the reason, with line and path, on stderr); 2 when it cannot be read.
int convert(const std::string& to, const std::string& file);

}  // namespace helsebro::cli
