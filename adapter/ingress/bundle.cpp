#include "adapter/ingress/bundle.hpp"

#include <functional>
#include <unordered_map>
#include <unordered_set>

#include "adapter/ingress/reply.hpp"
#include "adapter/store/store.hpp"

namespace helsebro::ingress {

namespace {

using fhir::error;

std::string entry_path(std::size_t i) { return "Bundle.entry[" + std::to_string(i) + "]"; }

void refuse(PlannedEntry& e, int status, fhir::Issue issue) {
    e.refused_status = status;
    e.issues.push_back(std::move(issue));
}

void check_entry(PlannedEntry& e, Value& entry) {
    auto at = entry_path(e.index);
    if (!entry.is_object()) return refuse(e, 400, error("structure", "A Bundle entry is a JSON object.", at));
    if (auto full = entry.string_at("fullUrl")) e.full_url = std::string(*full);
    Value* request = entry.find("request");
    if (!request || !request->is_object())
        return refuse(e, 400, error("required", "Each entry of a transaction or batch needs a request.", at + ".request"));
    auto method = request->string_at("method");
    auto url = request->string_at("url");
    if (!method) return refuse(e, 400, error("required", "request.method is missing.", at + ".request.method"));
    if (!url) return refuse(e, 400, error("required", "request.url is missing.", at + ".request.url"));
    e.method = std::string(*method);
    if (auto v = request->string_at("ifNoneExist")) e.if_none_exist = std::string(*v);
    if (auto v = request->string_at("ifMatch")) e.if_match = std::string(*v);

    if (e.method != "POST" && e.method != "PUT" && e.method != "GET")
        return refuse(e, 400, error("not-supported", "This server supports POST, PUT and GET in Bundles, not " + e.method + ".",
                                    at + ".request.method"));
    auto parsed = parse_entry_url(*url);
    if (!parsed)
        return refuse(e, 400, error("value", "request.url must be a relative FHIR url such as Patient or Patient/123.",
                                    at + ".request.url"));
    e.url = std::move(*parsed);
    bool wants_id = e.method != "POST";
    if (wants_id != !e.url.id.empty() || (e.method != "GET" && (e.url.version != 0 || !e.url.query.empty())))
        return refuse(e, 400, error("value",
                                    e.method == "POST" ? "A POST entry's url is the resource type alone."
                                                       : "A " + e.method + " entry's url is Type/id.",
                                    at + ".request.url"));
    if (e.method == "GET") return;

    Value* resource = entry.find("resource");
    if (!resource) return refuse(e, 400, error("required", "A " + e.method + " entry needs a resource.", at + ".resource"));
    auto issues = check_resource(*resource, at + ".resource", e.url.type, e.method == "PUT");
    if (!issues.empty()) {
        e.refused_status = 400;
        e.issues = std::move(issues);
        return;
    }
    if (e.method == "PUT") {
        auto id = resource->string_at("id");
        if (!id || *id != e.url.id)
            return refuse(e, 400, error("value", "The resource's id must be the id in request.url.", at + ".resource.id"));
    }
    e.resource = std::move(*resource);
}

// Serializes what can be: entries whose references are all settled.
void prepare_entry(PlannedEntry& e) {
    e.prepared = prepare(std::move(*e.resource), e.url.type, e.id);
    e.resource.reset();
}

std::string quoted(const std::string& s) { return fhir::json::write(Value::string(s)); }

void append_entry_response(std::string& out, const EntryResult& r, bool representation, const std::string& base_url) {
    out += '{';
    if (r.ok()) {
        out += "\"fullUrl\":" + quoted(base_url + "/" + r.type + "/" + r.id) + ',';
        if (representation) out += "\"resource\":" + r.body + ',';
        out += "\"response\":{\"status\":" + quoted(status_line(r.status));
        out += ",\"location\":" + quoted(versioned_path(r.type, r.id, r.version));
        out += ",\"etag\":" + quoted(etag(r.version));
        out += ",\"lastModified\":" + quoted(r.last_updated) + "}}";
    } else {
        out += "\"response\":{\"status\":" + quoted(status_line(r.status));
        out += ",\"outcome\":" + fhir::json::write(fhir::operation_outcome(r.issues)) + "}}";
    }
}

std::string response_bundle(const char* type, const std::vector<EntryResult>& results, bool representation,
                             const std::string& base_url, const std::string& now) {
    std::string out = "{\"resourceType\":\"Bundle\",\"id\":" + quoted(store::new_id()) +
                      ",\"type\":\"" + type + "\",\"timestamp\":" + quoted(now) + ",\"entry\":[";
    for (std::size_t i = 0; i < results.size(); ++i) {
        if (i) out += ',';
        append_entry_response(out, results[i], representation, base_url);
    }
    out += "]}";
    return out;
}

BundleOutcome failed(EntryResult r, std::size_t index) {
    for (auto& issue : r.issues)
        if (issue.expression.empty()) issue.expression.push_back(entry_path(index));
    return {false, r.status, fhir::json::write(fhir::operation_outcome(r.issues))};
}

EntryResult write_entry(store::Tx& tx, std::int64_t message_id, const PlannedEntry& e) {
    if (e.method == "POST") return create(tx, message_id, *e.prepared);
    return update(tx, message_id, *e.prepared, e.if_match);
}

// A transaction may not touch one resource twice (FHIR R4 http.html#trules).
std::optional<EntryResult> overlapping(const Plan& plan, const std::vector<EntryResult>& matched) {
    std::unordered_map<std::string, std::size_t> seen;
    for (const auto& e : plan.entries) {
        if (e.method == "GET") continue;
        const std::string& id = matched[e.index].status ? matched[e.index].id : e.id;
        auto [it, fresh] = seen.emplace(e.url.type + "/" + id, e.index);
        if (!fresh)
            return failure(400, "invalid",
                           "Entries " + std::to_string(it->second) + " and " + std::to_string(e.index) +
                               " of the transaction change the same resource.",
                           entry_path(e.index));
    }
    return std::nullopt;
}

// Resolves references between a transaction's entries. `late` holds the fullUrls whose ids are
// known only in the store job (ifNoneExist); a reference to one of those, or a conditional
// reference, leaves the resource for the job (sets `waits`).
struct EntryResolver {
    const std::unordered_map<std::string, std::string>& resolved;
    const std::unordered_set<std::string>* late = nullptr;
    store::Tx* tx = nullptr;  // set in the store job: conditional references can be searched
    bool waits = false;

    std::optional<std::string> operator()(const Reference& site, std::optional<EntryResult>& err) {
        bool placeholder = is_placeholder(site.value);
        // A uri equal to an entry's absolute fullUrl is a canonical URL, not a link: only
        // placeholders are rewritten outside Reference.reference.
        if (!site.is_reference && !placeholder) return std::nullopt;
        if (late && late->count(site.value)) {
            waits = true;
            return std::nullopt;
        }
        if (auto it = resolved.find(site.value); it != resolved.end()) return it->second;
        if (!site.is_reference) return std::nullopt;  // may be a real uuid, e.g. an identifier system
        if (placeholder) {
            err = failure(400, "not-found", "The reference points at no entry of this transaction.", site.path);
            return std::nullopt;
        }
        auto cond = conditional_reference(site.value);
        if (!cond) return std::nullopt;
        if (!tx) {
            waits = true;
            return std::nullopt;
        }
        auto match = find_existing(*tx, cond->first, cond->second, site.path);
        if (!match) {
            err = failure(412, "not-found", "The conditional reference matches no resource.", site.path);
            return std::nullopt;
        }
        if (!match->ok()) {
            err = std::move(match);
            return std::nullopt;
        }
        return match->type + "/" + match->id;
    }
};

void plan_transaction(Plan& plan) {
    std::unordered_map<std::string, std::string> resolved;  // fullUrl -> Type/id
    std::unordered_set<std::string> late;
    std::unordered_map<std::string, std::size_t> conditions;
    for (auto& e : plan.entries) {
        if (e.method == "POST" && !e.if_none_exist.empty()) {
            // Two creates on one condition would make two resources the condition then matches.
            auto [first, fresh] = conditions.emplace(e.url.type + "?" + e.if_none_exist, e.index);
            if (!fresh) {
                plan.issues.push_back(error("invalid",
                                            "Entries " + std::to_string(first->second) + " and " + std::to_string(e.index) +
                                                " create on the same condition.",
                                            entry_path(e.index) + ".request.ifNoneExist"));
                return;
            }
            if (!e.full_url.empty()) late.insert(e.full_url);
        } else if (e.method != "GET" && !e.full_url.empty()) {
            resolved[e.full_url] = e.url.type + "/" + e.id;
        }
    }
    for (auto& e : plan.entries) {
        if (!e.resource) continue;
        EntryResolver resolver{resolved, &late};
        auto err = rewrite_references(*e.resource, entry_path(e.index) + ".resource", std::ref(resolver));
        if (err) {
            plan.status = err->status;
            plan.issues = std::move(err->issues);
            return;
        }
        if (!resolver.waits) prepare_entry(e);
    }
}

void plan_batch(Plan& plan) {
    for (auto& e : plan.entries) {
        if (!e.resource || e.refused_status) continue;
        // Batch entries are independent (FHIR): nothing can resolve a reference to another entry.
        if (auto err = refuse_unresolved_references(*e.resource, entry_path(e.index) + ".resource", "a batch")) {
            e.refused_status = err->status;
            e.issues = std::move(err->issues);
            e.resource.reset();
            continue;
        }
        prepare_entry(e);
    }
}

}  // namespace

std::vector<fhir::Issue> check_entries(const Value& bundle) {
    const Value* entries = bundle.find("entry");
    if (!entries) return {};
    if (!entries->is_array()) return {error("structure", "Bundle.entry must be an array.", "Bundle.entry")};
    std::unordered_set<std::string> full_urls;
    for (std::size_t i = 0; i < entries->items().size(); ++i) {
        const Value& entry = entries->items()[i];
        auto at = entry_path(i);
        if (!entry.is_object()) return {error("structure", "A Bundle entry is a JSON object.", at)};
        if (auto full = entry.string_at("fullUrl"); full && !full_urls.insert(std::string(*full)).second)
            return {error("duplicate", "Two entries have the same fullUrl.", at + ".fullUrl")};
        if (const Value* resource = entry.find("resource")) {
            if (auto issues = check_resource(*resource, at + ".resource"); !issues.empty()) return issues;
        }
    }
    return {};
}

Plan plan_bundle(Value& bundle, bool transaction) {
    Plan plan;
    plan.transaction = transaction;
    Value* entries = bundle.find("entry");
    if (!entries) return plan;
    if (!entries->is_array()) {
        plan.issues.push_back(error("structure", "Bundle.entry must be an array.", "Bundle.entry"));
        return plan;
    }
    std::unordered_set<std::string> full_urls;
    for (std::size_t i = 0; i < entries->items().size(); ++i) {
        PlannedEntry e;
        e.index = i;
        check_entry(e, entries->items()[i]);
        if (!e.full_url.empty() && !full_urls.insert(e.full_url).second) {
            e.issues.clear();
            refuse(e, 400, error("duplicate", "Two entries have the same fullUrl.", entry_path(i) + ".fullUrl"));
        }
        if (transaction && e.refused_status) {
            plan.status = e.refused_status;
            for (auto& issue : e.issues) plan.issues.push_back(std::move(issue));
            return plan;
        }
        // A POST gets its id now even with ifNoneExist: used unless the store finds a match.
        e.id = e.method == "POST" ? store::new_id() : e.url.id;
        plan.entries.push_back(std::move(e));
    }
    if (transaction)
        plan_transaction(plan);
    else
        plan_batch(plan);
    return plan;
}

BundleOutcome run_transaction(store::Tx& tx, std::int64_t message_id, Plan& plan, bool representation,
                              const std::string& base_url) {
    std::vector<EntryResult> results(plan.entries.size());
    std::unordered_map<std::string, std::string> resolved;  // the fullUrls only the store could settle
    for (auto& e : plan.entries) {
        if (e.method != "POST" || e.if_none_exist.empty()) continue;
        auto existing = find_existing(tx, e.url.type, e.if_none_exist, entry_path(e.index) + ".request.ifNoneExist");
        if (existing && !existing->ok()) return failed(std::move(*existing), e.index);
        if (existing) results[e.index] = std::move(*existing);
        if (!e.full_url.empty())
            resolved[e.full_url] = e.url.type + "/" + (results[e.index].status ? results[e.index].id : e.id);
    }
    if (auto clash = overlapping(plan, results)) return failed(std::move(*clash), 0);

    for (auto& e : plan.entries) {
        if (!e.resource || results[e.index].status) continue;
        EntryResolver resolver{resolved, nullptr, &tx};
        if (auto err = rewrite_references(*e.resource, entry_path(e.index) + ".resource", std::ref(resolver)))
            return failed(std::move(*err), e.index);
        prepare_entry(e);
    }

    for (const char* method : {"POST", "PUT", "GET"}) {
        for (auto& e : plan.entries) {
            if (e.method != method || results[e.index].status) continue;
            EntryResult r = e.method == "GET" ? read(tx, e.url.type, e.url.id, e.url.version)
                                              : write_entry(tx, message_id, e);
            if (!r.ok()) return failed(std::move(r), e.index);
            results[e.index] = std::move(r);
        }
    }
    return {true, 200, response_bundle("transaction-response", results, representation, base_url, tx.now())};
}

BundleOutcome run_batch(store::Tx& tx, std::int64_t message_id, Plan& plan, bool representation,
                        const std::string& base_url) {
    std::vector<EntryResult> results;
    results.reserve(plan.entries.size());
    for (auto& e : plan.entries) {
        EntryResult r;
        if (e.refused_status) {
            r.status = e.refused_status;
            r.issues = e.issues;
        } else if (e.method == "GET") {
            r = read(tx, e.url.type, e.url.id, e.url.version);
        } else {
            std::optional<EntryResult> existing;
            if (e.method == "POST" && !e.if_none_exist.empty())
                existing = find_existing(tx, e.url.type, e.if_none_exist, entry_path(e.index) + ".request.ifNoneExist");
            r = existing ? std::move(*existing) : write_entry(tx, message_id, e);
        }
        for (auto& issue : r.issues)
            if (issue.expression.empty()) issue.expression.push_back(entry_path(e.index));
        results.push_back(std::move(r));
    }
    return {true, 200, response_bundle("batch-response", results, representation, base_url, tx.now())};
}

}  // namespace helsebro::ingress
