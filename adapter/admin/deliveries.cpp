#include "adapter/admin/deliveries.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

#include "adapter/admin/replies.hpp"
#include "adapter/ingress/route.hpp"
#include "fhir/json.hpp"
#include "fhir/operation_outcome.hpp"

namespace helsebro::admin {
namespace {

namespace json = fhir::json;

constexpr std::size_t max_ids_per_change = 10000;

json::Value num(std::int64_t n) { return json::Value::number(std::to_string(n)); }
json::Value str(std::string s) { return json::Value::string(std::move(s)); }

using detail::logger;
using detail::problem;
using detail::reply;

std::optional<std::int64_t> to_int(std::string_view s) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
    return v;
}

std::int64_t age_seconds(const std::string& instant) {
    auto at = store::from_instant(instant);
    if (!at) return 0;
    return std::max<std::int64_t>(
        0, std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - *at).count());
}

json::Value summary_of(const store::OutboxEntry& e) {
    json::Value v = json::Value::object();
    v.set("id", str(e.queued.id));
    v.set("recipient", str(e.queued.recipient));
    v.set("state", str(e.state));
    v.set("message", num(e.queued.message_id));
    v.set("created_at", str(e.queued.created_at));
    if (!e.finished_at.empty()) v.set("finished_at", str(e.finished_at));
    v.set("attempts", num(e.queued.attempts));
    if (!e.last_attempt_at.empty()) v.set("last_attempt_at", str(e.last_attempt_at));
    if (e.last_status) v.set("last_status", num(e.last_status));
    if (!e.last_error.empty()) v.set("last_error", str(e.last_error));
    if (!e.reason.empty()) v.set("reason", str(e.reason));
    return v;
}

// since/until compare with created_at as text: only a UTC instant or a prefix of one does that
// right (2026-11-25, 2026-11-25T08, 2026-11-25T08:30:00.000Z).
bool instant_prefix(std::string_view s) {
    static constexpr std::string_view shape = "0000-00-00T00:00:00.000Z";
    if (s.empty() || s.size() > shape.size()) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (shape[i] == '0' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i]) return false;
    }
    return s.size() >= 4;
}

// The filter of a list or of a replay/discard "filter" object: the same names either way.
std::optional<std::string> read_filter(const std::vector<std::pair<std::string, std::string>>& params,
                                       store::DeadLetterFilter& f) {
    for (const auto& [name, value] : params) {
        if (name == "recipient") f.recipient = value;
        else if ((name == "since" || name == "until") && !instant_prefix(value))
            return "'" + name + "' must be a UTC instant or its beginning, such as 2026-11-25 or 2026-11-25T08:30:00Z";
        else if (name == "since") f.since = value;
        else if (name == "until") f.until = value;
        else if (name == "status" || name == "message" || name == "after" || name == "limit") {
            auto n = to_int(value);
            if (!n) return "'" + name + "' must be a whole number";
            if (name == "status") f.status = static_cast<int>(*n);
            else if (name == "message") f.message_id = *n;
            else if (name == "after") f.after_seq = *n;
            else f.limit = static_cast<std::size_t>(std::clamp<std::int64_t>(*n, 1, 1000));
        } else {
            return "unknown filter '" + name + "' (recipient, since, until, status, message, after, limit)";
        }
    }
    return std::nullopt;
}

}  // namespace

DeliveryAdmin::DeliveryAdmin(store::Store& store, delivery::Engine& engine, std::vector<config::Recipient> recipients)
    : store_(store), engine_(engine), recipients_(std::move(recipients)) {}

bool DeliveryAdmin::handles(std::string_view path) {
    return path == "/admin/queue" || path == "/admin/audit" || path == "/admin/deadletters" ||
           path.starts_with("/admin/deadletters/");
}

void DeliveryAdmin::handle(const http::Request& request, http::Respond respond) {
    const auto qmark = request.target.find('?');
    const std::string_view path = std::string_view(request.target).substr(0, qmark);
    const bool get = request.method == "GET";
    try {
        if (path == "/admin/queue") return get ? queue(std::move(respond)) : respond(problem(405, "not-supported", "Use GET."));
        if (path == "/admin/deadletters") return get ? list(request, std::move(respond)) : respond(problem(405, "not-supported", "Use GET."));
        if (path == "/admin/deadletters/replay" || path == "/admin/deadletters/discard") {
            if (request.method != "POST") return respond(problem(405, "not-supported", "Use POST."));
            return change(request, path.ends_with("replay"), std::move(respond));
        }
        if (path == "/admin/audit") {
            if (!get) return respond(problem(405, "not-supported", "Use GET."));
            std::int64_t before = 0;
            std::size_t limit = 100;
            if (qmark != std::string::npos)
                for (const auto& [name, value] : ingress::parse_query(request.target.substr(qmark + 1))) {
                    auto n = to_int(value);
                    if (!n || (name != "before" && name != "limit"))
                        return respond(problem(400, "invalid", "The audit log takes before and limit, whole numbers."));
                    if (name == "before") before = *n;
                    else limit = static_cast<std::size_t>(std::clamp<std::int64_t>(*n, 1, 1000));
                }
            json::Value entries = json::Value::array();
            for (const auto& a : store_.audit_log(before, limit)) {
                json::Value e = json::Value::object();
                e.set("id", num(a.id));
                e.set("at", str(a.at));
                e.set("client", str(a.client));
                e.set("action", str(a.action));
                e.set("target", str(a.target));
                if (!a.detail.empty()) e.set("detail", str(a.detail));
                entries.push_back(std::move(e));
            }
            json::Value body = json::Value::object();
            body.set("audit", std::move(entries));
            return respond(reply(200, body));
        }
        const std::string_view id = path.substr(std::string_view("/admin/deadletters/").size());
        if (!get) return respond(problem(405, "not-supported", "Use GET."));
        return show(id, std::move(respond));
    } catch (const std::exception& e) {
        logger()->error("Admin request {} failed: {}", path, e.what());
        respond(problem(503, "transient", "The store could not answer; try again."));
    }
}

void DeliveryAdmin::queue(http::Respond respond) {
    std::map<std::string, json::Value> by_id;
    auto entry = [&](const std::string& id) -> json::Value& {
        auto [it, fresh] = by_id.try_emplace(id, json::Value::object());
        if (fresh) {
            it->second.set("recipient", str(id));
            const bool known = std::any_of(recipients_.begin(), recipients_.end(), [&](const auto& r) { return r.id == id; });
            it->second.set("in_address_book", json::Value::boolean(known));
            it->second.set("queued", num(0));
            it->second.set("dead", num(0));
        }
        return it->second;
    };
    for (const auto& r : recipients_) entry(r.id);
    for (const auto& q : store_.queue_summary()) {
        json::Value& e = entry(q.recipient);
        e.set("queued", num(q.queued));
        e.set("dead", num(q.dead));
        if (!q.oldest_created_at.empty()) {
            e.set("oldest_queued_at", str(q.oldest_created_at));
            e.set("oldest_age_seconds", num(age_seconds(q.oldest_created_at)));
        }
    }
    for (const auto& s : engine_.status()) {
        json::Value& e = entry(s.id);
        e.set("circuit", str(s.circuit));
        if (s.consecutive_faults) e.set("consecutive_faults", num(s.consecutive_faults));
        if (!s.next_probe_at.empty()) e.set("next_probe_at", str(s.next_probe_at));
        if (!s.paused_until.empty()) e.set("paused_until", str(s.paused_until));
        e.set("in_flight", num(static_cast<std::int64_t>(s.in_flight)));
        e.set("delivered_since_start", num(static_cast<std::int64_t>(s.delivered)));
        e.set("retries_since_start", num(static_cast<std::int64_t>(s.retried)));
        e.set("dead_since_start", num(static_cast<std::int64_t>(s.dead)));
        if (!s.last_attempt_at.empty()) e.set("last_attempt_at", str(s.last_attempt_at));
        if (s.last_status) e.set("last_status", num(s.last_status));
        if (!s.last_error.empty()) e.set("last_error", str(s.last_error));
    }
    json::Value list = json::Value::array();
    for (auto& [id, e] : by_id) list.push_back(std::move(e));
    json::Value body = json::Value::object();
    body.set("recipients", std::move(list));
    respond(reply(200, body));
}

void DeliveryAdmin::list(const http::Request& request, http::Respond respond) {
    store::DeadLetterFilter f;
    const auto qmark = request.target.find('?');
    if (qmark != std::string::npos)
        if (auto error = read_filter(ingress::parse_query(request.target.substr(qmark + 1)), f))
            return respond(problem(400, "invalid", "Dead letters: " + *error + "."));
    auto rows = store_.dead_letters(f);
    json::Value out = json::Value::array();
    for (const auto& e : rows) out.push_back(summary_of(e));
    json::Value body = json::Value::object();
    body.set("deadletters", std::move(out));
    if (rows.size() == f.limit) body.set("next_after", num(rows.back().queued.seq));
    respond(reply(200, body));
}

void DeliveryAdmin::show(std::string_view id, http::Respond respond) {
    auto e = store_.outgoing(id, /*with_body=*/false);
    if (!e) return respond(problem(404, "not-found", "No outgoing message has that id."));
    json::Value body = summary_of(*e);
    // The recipient's own words: what an operator needs to fix the cause before a replay.
    if (!e->last_response.empty()) {
        auto parsed = json::parse(e->last_response, {64});
        body.set("response", parsed.value ? std::move(*parsed.value) : str(e->last_response));
    }
    respond(reply(200, body));
}

void DeliveryAdmin::change(const http::Request& request, bool replay, http::Respond respond) {
    const char* action = replay ? "replay" : "discard";
    auto parsed = json::parse(request.body, {16});
    if (!parsed.value || !parsed.value->is_object())
        return respond(problem(400, "structure", std::string("The body of a ") + action + " is a JSON object: {\"ids\": [...]} or {\"filter\": {...}}."));
    const json::Value& in = *parsed.value;
    std::vector<std::string> ids;
    bool more = false;  // the filter matched more than one request takes
    if (const json::Value* list = in.find("ids")) {
        if (!list->is_array()) return respond(problem(400, "structure", "'ids' is a list of message ids."));
        for (const auto& v : list->items()) {
            if (!v.is_string() || v.text().empty()) return respond(problem(400, "structure", "'ids' is a list of message ids."));
            ids.push_back(v.text());
        }
    }
    if (const json::Value* filter = in.find("filter")) {
        if (!filter->is_object()) return respond(problem(400, "structure", "'filter' is an object: recipient, since, until, status, message."));
        std::vector<std::pair<std::string, std::string>> params;
        for (const auto& [name, value] : filter->members()) {
            if (!value.is_string() && value.kind() != json::Value::Kind::number)
                return respond(problem(400, "structure", "'filter." + name + "' is a string or a number."));
            params.emplace_back(name, value.text());
        }
        store::DeadLetterFilter f;
        f.limit = max_ids_per_change;
        if (auto error = read_filter(params, f)) return respond(problem(400, "invalid", "'filter': " + *error + "."));
        auto matching = store_.dead_letters(f);
        more = matching.size() == f.limit;
        for (const auto& e : matching) ids.push_back(e.queued.id);
    } else if (!in.find("ids")) {
        return respond(problem(400, "required", std::string("Name what to ") + action + ": \"ids\" or \"filter\"."));
    }
    std::string reason;
    if (!replay) {
        auto r = in.string_at("reason");
        if (!r || r->find_first_not_of(" \t\r\n") == std::string_view::npos)
            return respond(problem(400, "required", "A discard needs a \"reason\": it is kept in the audit log."));
        reason = std::string(*r);
    }
    std::set<std::string> seen;
    ids.erase(std::remove_if(ids.begin(), ids.end(), [&](const std::string& id) { return !seen.insert(id).second; }), ids.end());
    if (ids.size() > max_ids_per_change)
        return respond(problem(400, "too-costly", "At most 10000 messages per request."));

    struct Shared {
        std::vector<std::string> changed, unchanged;
    };
    auto shared = std::make_shared<Shared>();
    const std::string client = request.principal;
    auto job = [ids, reason, client, replay, action, shared](store::Tx& tx) {
        shared->changed.clear();
        shared->unchanged.clear();
        for (const auto& id : ids) {
            const bool done = replay ? tx.replay_outgoing(id) : tx.discard_outgoing(id, reason);
            (done ? shared->changed : shared->unchanged).push_back(id);
            if (done) tx.audit(client, action, id, reason);
        }
        return true;
    };
    auto done = [this, respond, shared, client, action, more](bool committed) {
        if (!committed) return respond(problem(503, "transient", "The store could not record it; nothing changed. Try again."));
        logger()->info("Client {} asked to {} {} messages: {} changed.", client, action,
                       shared->changed.size() + shared->unchanged.size(), shared->changed.size());
        engine_.rescan(action == std::string("discard") ? shared->changed : std::vector<std::string>{});
        json::Value body = json::Value::object();
        json::Value changed = json::Value::array(), unchanged = json::Value::array();
        for (const auto& id : shared->changed) changed.push_back(str(id));
        for (const auto& id : shared->unchanged) unchanged.push_back(str(id));
        body.set(std::string(action) == "replay" ? "replayed" : "discarded", std::move(changed));
        // Already delivered, queued (for a replay), or unknown: left as they were.
        body.set("unchanged", std::move(unchanged));
        // The filter matched more than one request changes: the rest needs another request.
        if (more) body.set("more", json::Value::boolean(true));
        respond(reply(200, body));
    };
    if (!store_.submit(job, done, ids.size() * 64))
        respond(problem(503, "transient", "The store is busy; try again."));
}

}  // namespace helsebro::admin
