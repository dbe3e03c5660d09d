#pragma once

#include <string>
#include <vector>

namespace helsebro::cli {

// `helsebro validate FILE...`: prints an OperationOutcome per file (a collection Bundle of them
// for several files); returns 0 when every file is valid FHIR R4, 1 when one is not, 2 when a
// file cannot be read.
int validate_files(const std::vector<std::string>& files);

}  // namespace helsebro::cli
