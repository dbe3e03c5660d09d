#include "adapter/ingress/writes.hpp"

#include "adapter/auth/auth.hpp"
#include "adapter/ingress/reply.hpp"

namespace helsebro::ingress {

namespace {

store::StoredReply to_stored(const http::Response& r, std::string request_sha256) {
    store::StoredReply s;
    s.request_sha256 = std::move(request_sha256);
    s.status = r.status;
    for (const auto& h : r.headers) s.headers.emplace_back(h.name, h.value);
    s.body = r.body;
    return s;
}

http::Response from_stored(store::StoredReply s) {
    http::Response r;
    r.status = s.status;
    for (auto& [n, v] : s.headers) r.headers.push_back({std::move(n), std::move(v)});
    r.body = std::move(s.body);
    return r;
}

http::Response busy() {
    auto r = outcome_reply(503, "transient", "Too many writes are waiting to be stored; send it again shortly.");
    r.headers.push_back({"Retry-After", "1"});
    return r;
}

}  // namespace

void submit_write(store::Store& store, std::shared_ptr<WriteState> state, Work work, http::Respond respond,
                  spdlog::logger& log) {
    std::string digest;
    if (!state->key.empty()) {
        auto d = auth::sha256(state->request.body);
        digest.assign(reinterpret_cast<const char*>(d.data()), d.size());
    }
    auto job = [state, digest, work = std::move(work)](store::Tx& tx) {
        const auto& sender = state->request.principal;
        if (!state->key.empty()) {
            if (auto first = tx.find_reply(sender, state->key)) {
                state->reply = first->request_sha256 == digest
                                   ? from_stored(std::move(*first))
                                   : outcome_reply(409, "conflict",
                                                   "This identifier was used before for a message with other content; "
                                                   "the first one was kept. Send new content with a new identifier.",
                                                   state->kind == "message" ? "Bundle.entry[0].resource.id"
                                                                            : "Bundle.identifier");
                return true;
            }
        }
        store::ReceivedMessage m{sender, state->request.method, state->request.target,
                                 std::string(state->request.header("content-type")), state->kind,
                                 state->request.body};
        auto message_id = tx.record_message(m);
        bool keep = true;
        http::Response reply = work(tx, message_id, keep);
        if (keep && !state->key.empty() && reply.status < 400)
            tx.save_reply(sender, state->key, message_id, to_stored(reply, digest));
        // Only now: had anything above thrown, the job rolls back and the sender must hear so.
        state->reply = std::move(reply);
        return keep;
    };
    auto done = [state, respond, &log](bool committed) {
        if (!committed || !state->reply) {
            log.error("A {} from {} was not stored; the sender was told to send it again.", state->kind,
                      state->request.principal);
            auto r = outcome_reply(503, "transient", "The request was not stored; send it again.");
            r.headers.push_back({"Retry-After", "1"});
            return respond(std::move(r));
        }
        respond(std::move(*state->reply));
    };
    auto bytes = state->request.body.size();
    if (!store.submit(std::move(job), std::move(done), bytes)) respond(busy());
}

std::string identifier_key(const fhir::json::Value& bundle) {
    const fhir::json::Value* ident = bundle.find("identifier");
    if (!ident || !ident->is_object()) return {};
    auto value = ident->string_at("value");
    if (!value || value->empty()) return {};
    std::string system(ident->string_at("system").value_or(""));
    return "identifier:" + std::to_string(system.size()) + ":" + system + "|" + std::string(*value);
}

std::string message_key(const std::string& header_id) { return "MessageHeader:" + header_id; }

}  // namespace helsebro::ingress
