// The `helsebro` command line: serve, check-config, validate, convert, fhirpath, config-reference,
// hash-token, version.
#pragma once

namespace helsebro::cli {

int run(int argc, char** argv);

}  // namespace helsebro::cli
