#include <spdlog/spdlog.h>

#include <unordered_map>

#include "adapter/ingress/bundle.hpp"
#include "adapter/ingress/capability.hpp"
#include "adapter/ingress/ingress.hpp"
#include "adapter/ingress/messaging.hpp"
#include "adapter/ingress/negotiate.hpp"
#include "adapter/ingress/reply.hpp"
#include "adapter/ingress/resource_ops.hpp"
#include "adapter/ingress/route.hpp"
#include "adapter/ingress/search.hpp"
#include "adapter/ingress/writes.hpp"
#include "fhir/json.hpp"
#include "fhir/validate.hpp"
#include "fhir/xml.hpp"

namespace helsebro::ingress {

namespace {

std::string_view query_value(const Route& r, std::string_view name) {
    for (const auto& [k, v] : r.query)
        if (k == name) return v;
    return {};
}

const char* route_name(Op op) {
    switch (op) {
        case Op::capabilities: return "metadata";
        case Op::bundle: return "bundle";
        case Op::process_message: return "$process-message";
        case Op::create: return "create";
        case Op::update: return "update";
        case Op::read: return "read";
        case Op::vread: return "vread";
        case Op::search: return "search";
        case Op::history: return "history";
        case Op::health: return "health";
    }
    return "?";
}

http::Response route_refusal(const RouteError& e) {
    auto r = outcome_reply(e.status, e.code, e.message);
    if (!e.allow.empty()) r.headers.push_back({"Allow", e.allow});
    return r;
}

std::shared_ptr<WriteState> write_state(http::Request req, std::string kind, std::string key = {}) {
    return std::make_shared<WriteState>(WriteState{std::move(req), std::move(kind), std::move(key), std::nullopt});
}

// Answers are made in JSON; a client that asked for XML gets them turned into XML on the way out.
http::Respond in_xml(http::Respond respond) {
    return [respond = std::move(respond)](http::Response r) {
        for (auto& h : r.headers) {
            if (!http::iequals(h.name, "Content-Type") || r.body.empty()) continue;
            auto tree = fhir::json::parse(r.body);
            auto xml = tree.value ? fhir::xml::write_checked(*tree.value, 512) : fhir::xml::WriteResult{};
            if (!xml.xml) break;  // cannot happen for what we wrote; the JSON answer is still right
            r.body = std::move(*xml.xml);
            h.value = "application/fhir+xml; charset=utf-8";
        }
        respond(std::move(r));
    };
}

}  // namespace

struct FhirApi::Impl {
    std::shared_ptr<const config::Config> config;
    store::Store& store;
    auth::Authenticator auth;
    std::string base_url;
    std::string capabilities;
    std::shared_ptr<spdlog::logger> log;

    std::unordered_map<std::string, config::Validation> validation;  // per client id; default reject
    std::function<std::vector<std::string>()> open_circuits;

    std::optional<Value> parse(const http::Request& req, http::Respond& respond, const std::string& root);
    bool conforms(const Value& resource, const http::Request& req, http::Respond& respond);
    http::Response stored_reply(const EntryResult& r, int status_if_ok, Return ret, bool location);
    void submit(std::shared_ptr<WriteState> state, Work work, http::Respond respond) {
        submit_write(store, std::move(state), std::move(work), std::move(respond), *log);
    }

    void health(const Route& r, http::Respond respond);
    void read(const Route& r, http::Respond respond);
    void create(Route r, http::Request req, http::Respond respond);
    void update(Route r, http::Request req, http::Respond respond);
    void bundle(http::Request req, http::Respond respond, bool message_only);
    void message(std::shared_ptr<WriteState> state, Value bundle, http::Respond respond);
    void store_bundle(std::shared_ptr<WriteState> state, Value bundle, http::Respond respond);
};

FhirApi::FhirApi(std::shared_ptr<const config::Config> config, store::Store& store, auth::Authenticator auth)
    : impl_(std::make_unique<Impl>(Impl{std::move(config), store, std::move(auth), {}, {}, {}, {}, {}})) {
    auto& d = *impl_;
    const auto& http = d.config->http;
    if (!http.public_base_url.empty()) {
        d.base_url = http.public_base_url;
    } else {
        bool v6 = http.listen_host.find(':') != std::string::npos;
        d.base_url = "http://" + (v6 ? "[" + http.listen_host + "]" : http.listen_host) + ":" +
                     std::to_string(http.listen_port) + "/fhir";
    }
    d.capabilities = capability_statement(d.base_url, store::now_instant());
    for (const auto& c : d.config->auth.clients) d.validation[c.id] = c.validation;
    d.log = spdlog::get("ingress");
    if (!d.log) d.log = spdlog::default_logger()->clone("ingress");
}

FhirApi::~FhirApi() = default;

void FhirApi::report_delivery(std::function<std::vector<std::string>()> open_circuits) {
    impl_->open_circuits = std::move(open_circuits);
}

std::optional<http::Response> FhirApi::check_head(http::Request& head) {
    auto routed = route(head.method, head.target);
    if (!routed.route) return route_refusal(routed.error);
    const Route& rt = *routed.route;
    if (rt.op == Op::health) return std::nullopt;

    if (!response_format(query_value(rt, "_format"), head.header("accept")))
        return outcome_reply(406, "not-supported",
                             "This server answers in FHIR JSON (application/fhir+json) or XML (application/fhir+xml).");
    if (rt.op == Op::capabilities) return std::nullopt;  // public, as FHIR clients expect

    auto who = impl_->auth.authenticate(head.header("authorization"));
    if (!who) {
        auto r = outcome_reply(401, "login", "A valid bearer token is needed (Authorization: Bearer <token>).");
        r.headers.push_back({"WWW-Authenticate", "Bearer realm=\"helsebro\""});
        return r;
    }
    head.principal = std::move(*who);

    if (head.method == "POST" || head.method == "PUT") {
        auto type = head.header("content-type");
        if (type.empty() || !media_format(type) || !charset_is_utf8(type))
            return outcome_reply(415, "not-supported",
                                 "Send FHIR as application/fhir+json or application/fhir+xml (UTF-8).");
    }
    return std::nullopt;
}

http::Response FhirApi::error(int status, std::string_view message) {
    const char* code = status == 408 ? "timeout" : status == 413 || status == 431 ? "too-long"
                                                 : status >= 500               ? "exception"
                                                                               : "structure";
    return outcome_reply(status, code, std::string(message));
}

void FhirApi::handle(http::Request request, http::Respond respond) {
    auto& d = *impl_;
    auto routed = route(request.method, request.target);
    if (!routed.route) return respond(route_refusal(routed.error));
    Route rt = std::move(*routed.route);
    if (rt.op != Op::health && response_format(query_value(rt, "_format"), request.header("accept")) == Format::xml)
        respond = in_xml(std::move(respond));
    // Only the kind of request and who sent it: paths and bodies may carry personal data.
    d.log->debug("{} {} from {}", route_name(rt.op), rt.type, request.principal);
    switch (rt.op) {
        case Op::health: return d.health(rt, std::move(respond));
        case Op::capabilities: return respond(resource_reply(200, d.capabilities));
        case Op::read:
        case Op::vread: return d.read(rt, std::move(respond));
        case Op::search:
            return respond(ingress::search(d.store, d.base_url, rt.type, rt.query, request.header("prefer"), {}));
        case Op::history:
            return respond(ingress::history(d.store, d.base_url, rt.type, rt.id, rt.query, request.header("prefer"), {}));
        case Op::create: return d.create(std::move(rt), std::move(request), std::move(respond));
        case Op::update: return d.update(std::move(rt), std::move(request), std::move(respond));
        case Op::bundle: return d.bundle(std::move(request), std::move(respond), false);
        case Op::process_message: return d.bundle(std::move(request), std::move(respond), true);
    }
}

void FhirApi::Impl::health(const Route& r, http::Respond respond) {
    // Live: the process answers. Ready: it can also store what it accepts. A recipient that is
    // down does not make it unready (accepting and queueing is exactly what it should go on
    // doing) but is reported as a warning, in the shape of the IETF health-check draft.
    bool ready = r.id == "live" || store.healthy();
    http::Response out;
    out.status = ready ? 200 : 503;
    out.headers.push_back({"Content-Type", "application/health+json"});
    if (!ready) {
        out.body = "{\"status\":\"fail\",\"output\":\"the last commit failed\"}";
    } else if (auto open = r.id == "ready" && open_circuits ? open_circuits() : std::vector<std::string>{}; !open.empty()) {
        Value checks = Value::array();
        for (const auto& id : open) {
            Value c = Value::object();
            c.set("componentId", Value::string(id));
            c.set("status", Value::string("warn"));
            c.set("output", Value::string("the recipient is not answering; its messages wait in the queue"));
            checks.push_back(std::move(c));
        }
        Value body = Value::object();
        body.set("status", Value::string("warn"));
        Value all = Value::object();
        all.set("delivery:circuit", std::move(checks));
        body.set("checks", std::move(all));
        out.body = fhir::json::write(body);
    } else {
        out.body = "{\"status\":\"pass\"}";
    }
    respond(std::move(out));
}

std::optional<Value> FhirApi::Impl::parse(const http::Request& req, http::Respond& respond, const std::string& root) {
    if (req.body.empty()) {
        respond(outcome_reply(400, "required", "The request has no body; send a FHIR resource."));
        return std::nullopt;
    }
    if (media_format(req.header("content-type")) == Format::xml) {
        fhir::xml::ParseLimits limits;
        limits.max_depth = config->fhir.max_json_depth;
        limits.max_bytes = config->http.max_body_bytes;
        auto parsed = fhir::xml::parse(req.body, limits);
        if (!parsed.value) {
            const auto& e = parsed.error;
            fhir::Issue issue = fhir::error("structure", "The body is not FHIR XML (line " + std::to_string(e.line) +
                                                             "): " + e.message,
                                            e.path.empty() ? root : e.path);
            if (e.line) issue.line = e.line;
            if (e.column) issue.column = e.column;
            respond(outcome_reply(400, {issue}));
            return std::nullopt;
        }
        return std::move(parsed.value);
    }
    fhir::json::ParseLimits limits;
    limits.max_depth = config->fhir.max_json_depth;
    auto parsed = fhir::json::parse(req.body, limits);
    if (!parsed.value) {
        const auto& e = parsed.error;
        fhir::Issue issue = fhir::error("structure", "The body is not valid JSON at line " + std::to_string(e.line) +
                                                         ", column " + std::to_string(e.column) + ": " + e.message,
                                        e.path.empty() ? root : root + "." + e.path);
        issue.line = e.line;
        issue.column = e.column;
        respond(outcome_reply(400, {issue}));
        return std::nullopt;
    }
    return std::move(parsed.value);
}

// FHIR R4 validation of what arrives. A client set to `warn` gets its data stored anyway (the
// count is logged, never the content); everyone else gets 400 with every issue and its path.
bool FhirApi::Impl::conforms(const Value& resource, const http::Request& req, http::Respond& respond) {
    auto issues = fhir::validate(resource);
    if (!fhir::has_errors(issues)) return true;
    auto mode = validation.find(req.principal);
    if (mode != validation.end() && mode->second == config::Validation::warn) {
        log->info("Accepted invalid FHIR from {} ({} issues; the client is set to validation: warn).", req.principal,
                  issues.size());
        return true;
    }
    respond(outcome_reply(400, issues));
    return false;
}

http::Response FhirApi::Impl::stored_reply(const EntryResult& r, int status_if_ok, Return ret, bool location) {
    if (!r.ok()) return outcome_reply(r.status, r.issues);
    http::Response out;
    if (ret == Return::representation) {
        out = resource_reply(status_if_ok, r.body);
    } else if (ret == Return::outcome) {
        fhir::Issue i;
        i.severity = fhir::Severity::information;
        i.code = "informational";
        i.diagnostics = r.type + "/" + r.id + " is stored as version " + std::to_string(r.version) + ".";
        out = outcome_reply(status_if_ok, {i});
    } else {
        out.status = status_if_ok;
    }
    add_version_headers(out, base_url, r.type, r.id, r.version, r.last_updated, location);
    return out;
}

void FhirApi::Impl::read(const Route& r, http::Respond respond) {
    auto v = r.op == Op::vread ? store.read_version(r.type, r.id, r.version) : store.read(r.type, r.id);
    if (!v) {
        return respond(outcome_reply(404, "not-found",
                                     r.op == Op::vread ? "That version of " + r.type + "/" + r.id + " is not known here."
                                                       : r.type + "/" + r.id + " is not known here."));
    }
    auto reply = resource_reply(200, std::move(v->json));
    add_version_headers(reply, base_url, v->type, v->id, v->version, v->last_updated, false);
    respond(std::move(reply));
}

void FhirApi::Impl::create(Route r, http::Request req, http::Respond respond) {
    auto resource = parse(req, respond, r.type);
    if (!resource) return;
    if (auto issues = check_resource(*resource, "", r.type, /*check_id=*/false); !issues.empty())
        return respond(outcome_reply(400, issues));
    if (!conforms(*resource, req, respond)) return;
    if (auto refused = refuse_unresolved_references(*resource, r.type, "a create"))
        return respond(outcome_reply(refused->status, refused->issues));
    auto ret = preferred_return(req.header("prefer"), Return::representation);
    std::string if_none_exist(req.header("if-none-exist"));
    auto prepared = std::make_shared<Prepared>(prepare(std::move(*resource), r.type, store::new_id()));
    auto work = [this, r = std::move(r), ret, if_none_exist, prepared](store::Tx& tx, std::int64_t message_id, bool& keep) {
        if (!if_none_exist.empty()) {
            if (auto existing = find_existing(tx, r.type, if_none_exist, "If-None-Exist")) {
                keep = false;  // nothing of this request is kept: the match answers it
                return stored_reply(*existing, 200, ret, true);
            }
        }
        auto result = ingress::create(tx, message_id, *prepared);
        keep = result.ok();
        return stored_reply(result, 201, ret, true);
    };
    submit(write_state(std::move(req), "create"), std::move(work), std::move(respond));
}

void FhirApi::Impl::update(Route r, http::Request req, http::Respond respond) {
    auto resource = parse(req, respond, r.type);
    if (!resource) return;
    if (auto issues = check_resource(*resource, "", r.type); !issues.empty())
        return respond(outcome_reply(400, issues));
    auto id = resource->string_at("id");
    if (!id) return respond(outcome_reply(400, "required", "An update needs the resource's id in the body.", r.type + ".id"));
    if (*id != r.id) return respond(outcome_reply(400, "invalid", "The id in the body differs from the id in the URL.", r.type + ".id"));
    if (!conforms(*resource, req, respond)) return;
    if (auto refused = refuse_unresolved_references(*resource, r.type, "an update"))
        return respond(outcome_reply(refused->status, refused->issues));
    auto ret = preferred_return(req.header("prefer"), Return::representation);
    std::string if_match(req.header("if-match"));
    auto prepared = std::make_shared<Prepared>(prepare(std::move(*resource), r.type, r.id));
    auto work = [this, ret, if_match, prepared](store::Tx& tx, std::int64_t message_id, bool& keep) {
        auto result = ingress::update(tx, message_id, *prepared, if_match);
        keep = result.ok();
        return stored_reply(result, result.status, ret, result.status == 201);
    };
    submit(write_state(std::move(req), "update"), std::move(work), std::move(respond));
}

void FhirApi::Impl::bundle(http::Request req, http::Respond respond, bool message_only) {
    auto bundle = parse(req, respond, "Bundle");
    if (!bundle) return;
    if (auto issues = check_resource(*bundle, "", "Bundle"); !issues.empty()) return respond(outcome_reply(400, issues));
    if (!conforms(*bundle, req, respond)) return;
    const Value* type_value = bundle->find("type");
    if (!type_value || !type_value->is_string())
        return respond(outcome_reply(400, type_value ? "value" : "required",
                                     type_value ? "Bundle.type must be a code (a string)." : "Bundle.type is missing.",
                                     "Bundle.type"));
    std::string kind = type_value->text();
    if (message_only && kind != "message")
        return respond(outcome_reply(400, "invalid", "$process-message takes a Bundle of type message.", "Bundle.type"));
    if (kind == "message" || kind == "collection" || kind == "document") {
        if (auto issues = check_entries(*bundle); !issues.empty()) return respond(outcome_reply(400, issues));
        auto state = write_state(std::move(req), kind, identifier_key(*bundle));
        if (kind == "message") return message(std::move(state), std::move(*bundle), std::move(respond));
        return store_bundle(std::move(state), std::move(*bundle), std::move(respond));
    }
    if (kind != "transaction" && kind != "batch")
        return respond(outcome_reply(400, "invalid",
                                     "A " + kind + " Bundle cannot be processed; send transaction, batch, message, "
                                     "collection or document, or create it at /fhir/Bundle.",
                                     "Bundle.type"));
    auto state = write_state(std::move(req), kind, identifier_key(*bundle));
    auto plan = std::make_shared<Plan>(plan_bundle(*bundle, kind == "transaction"));
    if (!plan->issues.empty()) return respond(outcome_reply(plan->status, plan->issues));
    auto ret = preferred_return(state->request.header("prefer"), Return::minimal);
    auto work = [this, plan, ret](store::Tx& tx, std::int64_t message_id, bool& keep) {
        bool representation = ret == Return::representation;
        auto outcome = plan->transaction ? run_transaction(tx, message_id, *plan, representation, base_url)
                                         : run_batch(tx, message_id, *plan, representation, base_url);
        keep = outcome.keep;
        return resource_reply(outcome.status, std::move(outcome.body));
    };
    submit(std::move(state), std::move(work), std::move(respond));
}

void FhirApi::Impl::message(std::shared_ptr<WriteState> state, Value bundle, http::Respond respond) {
    auto info = std::make_shared<MessageInfo>();
    if (auto issues = check_message(bundle, *info); !issues.empty()) return respond(outcome_reply(400, issues));
    // A message is known by its MessageHeader.id (what a response message refers to).
    state->key = message_key(info->header_id);
    auto work = [this, info](store::Tx& tx, std::int64_t, bool& keep) {
        keep = true;
        return resource_reply(200, response_message(*info, base_url, tx.now()));
    };
    submit(std::move(state), std::move(work), std::move(respond));
}

void FhirApi::Impl::store_bundle(std::shared_ptr<WriteState> state, Value bundle, http::Respond respond) {
    if (state->kind == "document") {
        const Value* entries = bundle.find("entry");
        const Value* first = entries && entries->is_array() && !entries->items().empty()
                                 ? entries->items().front().find("resource")
                                 : nullptr;
        if (!first || first->string_at("resourceType") != "Composition")
            return respond(outcome_reply(400, "invalid", "A document Bundle starts with a Composition (bdl-11).",
                                         "Bundle.entry[0].resource"));
        const Value* ident = bundle.find("identifier");
        if (!ident || !ident->string_at("system") || !ident->string_at("value"))
            return respond(outcome_reply(400, "required", "A document Bundle needs an identifier with system and value (bdl-9).",
                                         "Bundle.identifier"));
        if (!bundle.string_at("timestamp"))
            return respond(outcome_reply(400, "required", "A document Bundle needs a timestamp (bdl-10).", "Bundle.timestamp"));
    }
    auto ret = preferred_return(state->request.header("prefer"), Return::representation);
    auto prepared = std::make_shared<Prepared>(prepare(std::move(bundle), "Bundle", store::new_id()));
    auto work = [this, ret, prepared](store::Tx& tx, std::int64_t message_id, bool& keep) {
        auto result = ingress::create(tx, message_id, *prepared);
        keep = result.ok();
        return stored_reply(result, 201, ret, true);
    };
    submit(std::move(state), std::move(work), std::move(respond));
}

}  // namespace helsebro::ingress
