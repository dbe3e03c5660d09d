#include "adapter/admin/admin.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "adapter/admin/replies.hpp"
#include "fhir/json.hpp"
#include "fhir/operation_outcome.hpp"

namespace helsebro::admin {
namespace {

namespace json = fhir::json;

using detail::logger;
using detail::outcome;
using detail::reply;

}  // namespace

Rules::Rules(Loader load, std::shared_ptr<const mapping::RuleSet> initial, processing::Processor* processor)
    : load_(std::move(load)), current_(std::move(initial)), processor_(processor) {}

std::shared_ptr<const mapping::RuleSet> Rules::current() const { return std::atomic_load(&current_); }

void Rules::attach(processing::Processor* processor) { processor_ = processor; }

ReloadResult Rules::reload() {
    std::lock_guard lock(reload_mutex_);
    mapping::Loaded loaded;
    try {
        loaded = load_();
    } catch (const std::exception& e) {
        // Whatever goes wrong reading the new rules, the daemon and the rules in force stay.
        loaded.errors.push_back(mapping::LoadError{"", 0, 0, std::string("the rules could not be read: ") + e.what(), {}});
    }
    if (!loaded.rules) {
        for (const auto& e : loaded.errors) logger()->error("Mapping rules: {}", e.to_string());
        logger()->error("The new mapping rules were refused ({} problems); rule set {} stays in force.", loaded.errors.size(),
                        mapping::version(*current()));
        return ReloadResult{mapping::version(*current()), std::move(loaded.errors)};
    }
    const auto previous = mapping::version(*current());
    std::atomic_store(&current_, std::shared_ptr<const mapping::RuleSet>(loaded.rules));
    logger()->info("Mapping rules reloaded: rule set {} replaces {}.", mapping::version(*loaded.rules), previous);
    if (processor_) processor_->retry_failed();
    return ReloadResult{mapping::version(*loaded.rules), {}};
}

AdminApi::AdminApi(const auth::Authenticator& auth, std::vector<std::string> admins, Rules& rules,
                   const processing::Processor& processor, const store::Store& store)
    : auth_(auth), admins_(std::move(admins)), rules_(rules), processor_(processor), store_(store) {}

std::optional<http::Response> AdminApi::check_head(http::Request& head) const {
    auto who = auth_.authenticate(head.header("authorization"));
    if (!who) {
        auto r = outcome(401, {fhir::error("login", "A valid bearer token is needed (Authorization: Bearer <token>).")});
        r.headers.push_back({"WWW-Authenticate", "Bearer realm=\"helsebro\""});
        return r;
    }
    if (std::find(admins_.begin(), admins_.end(), *who) == admins_.end()) {
        logger()->warn("Client {} was refused the admin API: it is not in admin.clients.", *who);
        return outcome(403, {fhir::error("forbidden", "This client may not use the admin API (config admin.clients).")});
    }
    head.principal = std::move(*who);
    return std::nullopt;
}

http::Response AdminApi::handle(const http::Request& request) {
    const std::string_view path = std::string_view(request.target).substr(0, request.target.find('?'));
    if (path == "/admin/mappings/reload") {
        if (request.method != "POST") return outcome(405, {fhir::error("not-supported", "Use POST to reload the mapping rules.")});
        logger()->info("Client {} asked to reload the mapping rules.", request.principal);
        auto result = rules_.reload();
        if (result.errors.empty()) {
            fhir::Issue ok{fhir::Severity::information, "informational", "Rule set " + result.version + " is in force.", {}, {}, {}};
            return outcome(200, {ok});
        }
        std::vector<fhir::Issue> issues;
        for (const auto& e : result.errors) issues.push_back(fhir::error("invalid", e.to_string()));
        issues.push_back(fhir::Issue{fhir::Severity::information, "informational",
                                     "Rule set " + result.version + " stays in force.", {}, {}, {}});
        return outcome(422, issues);
    }
    if (path == "/admin/processing") {
        if (request.method != "GET") return outcome(405, {fhir::error("not-supported", "Use GET.")});
        const auto s = processor_.stats();
        json::Value body = json::Value::object();
        body.set("rule_set", json::Value::string(mapping::version(*rules_.current())));
        body.set("processed", json::Value::number(std::to_string(s.processed)));
        body.set("failed", json::Value::number(std::to_string(s.failed)));
        body.set("waiting", json::Value::number(std::to_string(s.waiting)));
        body.set("record_changes", json::Value::number(std::to_string(s.changes)));
        body.set("messages_queued", json::Value::number(std::to_string(s.messages)));
        // What waits and why; the reasons name rules and places, never patients (errors are
        // written so), and the patients column is left out.
        json::Value waiting = json::Value::array();
        for (const auto& u : store_.unfinished(100)) {
            json::Value w = json::Value::object();
            w.set("message", json::Value::number(std::to_string(u.message_id)));
            w.set("state", json::Value::string(u.state));
            w.set("kind", json::Value::string(u.kind));
            w.set("sender", json::Value::string(u.sender));
            w.set("received_at", json::Value::string(u.received_at));
            w.set("rule_set", json::Value::string(u.rule_set));
            if (!u.error.empty()) w.set("error", json::Value::string(u.error));
            waiting.push_back(std::move(w));
        }
        body.set("unfinished", std::move(waiting));
        return reply(200, body);
    }
    return outcome(404, {fhir::error("not-found", "No such admin resource.")});
}

}  // namespace helsebro::admin
