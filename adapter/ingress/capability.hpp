#pragma once

#include <string>

namespace helsebro::ingress {

// The CapabilityStatement, listing exactly the interactions this build implements.
std::string capability_statement(const std::string& base_url, const std::string& started_at);

}  // namespace helsebro::ingress
