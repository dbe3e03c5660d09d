// The FHIR REST API at /fhir: authentication, content negotiation, routing, and the store jobs that
// make each write durable before it is answered.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "adapter/auth/auth.hpp"
#include "adapter/config/config.hpp"
#include "adapter/http/http.hpp"
#include "adapter/store/store.hpp"

namespace helsebro::ingress {

class FhirApi final : public http::Handler {
public:
    FhirApi(std::shared_ptr<const config::Config> config, store::Store& store, auth::Authenticator auth);
    ~FhirApi() override;

    std::optional<http::Response> check_head(http::Request& head) override;
    void handle(http::Request request, http::Respond respond) override;
    http::Response error(int status, std::string_view message) override;
    // /health/ready names the recipients this returns (their circuits are open) as warnings.
    void report_delivery(std::function<std::vector<std::string>()> open_circuits);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace helsebro::ingress
