// The admin API at /admin, for the clients the config names as administrators:
//   POST /admin/mappings/reload   load mappings.dir again; 200 with the new version, or 422 with
//                                 every load error (the rules in force stay)
//   GET  /admin/processing        what the processing stage has done, the rule set in force, and
//                                 the messages that wait (failed, or behind a failed one) with why
// Every call is logged with the client's id.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "adapter/auth/auth.hpp"
#include "adapter/http/http.hpp"
#include "adapter/mapping/mapping.hpp"
#include "adapter/processing/processing.hpp"
#include "adapter/store/store.hpp"

namespace helsebro::admin {

struct ReloadResult {
    std::string version;                    // of the rule set in force afterwards
    std::vector<mapping::LoadError> errors;  // empty when the reload took
};

// The rule set in force and how to replace it: shared by SIGHUP and POST /admin/mappings/reload.
class Rules {
public:
    using Loader = std::function<mapping::Loaded()>;
    Rules(Loader load, std::shared_ptr<const mapping::RuleSet> initial, processing::Processor* processor = nullptr);
    std::shared_ptr<const mapping::RuleSet> current() const;
    void attach(processing::Processor* processor);
    // Loads in full first; only a complete, valid rule set replaces the one in force. Messages
    // that failed or waited are then processed again with it.
    ReloadResult reload();

private:
    Loader load_;
    std::shared_ptr<const mapping::RuleSet> current_;  // std::atomic_load/store
    processing::Processor* processor_;
    std::mutex reload_mutex_;
};

class AdminApi {
public:
    AdminApi(const auth::Authenticator& auth, std::vector<std::string> admins, Rules& rules,
             const processing::Processor& processor, const store::Store& store);
    static bool is_admin_path(std::string_view target) { return target.starts_with("/admin/") || target == "/admin"; }
    std::optional<http::Response> check_head(http::Request& head) const;
    http::Response handle(const http::Request& request);

private:
    const auth::Authenticator& auth_;
    std::vector<std::string> admins_;
    Rules& rules_;
    const processing::Processor& processor_;
    const store::Store& store_;
};

}  // namespace helsebro::admin
