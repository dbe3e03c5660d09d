// The admin API's delivery part (the CLI's `helsebro queue` and `helsebro deadletters` call it):
//   GET  /admin/queue                       per recipient: queued, oldest, dead, circuit, last error
//   GET  /admin/deadletters?recipient=&since=&until=&status=&message=&after=&limit=
//   GET  /admin/deadletters/{id}            one message's delivery record and the recipient's answer
//   POST /admin/deadletters/replay          {"ids": [...]} or {"filter": {...}}: queued again
//   POST /admin/deadletters/discard         {"ids": [...], "reason": "..."}: given up, with a reason
//   GET  /admin/audit?before=&limit=        who replayed or discarded what, newest first
// Replays and discards are committed together with their audit entries. Answers are JSON; errors
// are OperationOutcomes.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "adapter/config/config.hpp"
#include "adapter/delivery/delivery.hpp"
#include "adapter/http/http.hpp"
#include "adapter/store/store.hpp"

namespace helsebro::admin {

class DeliveryAdmin {
public:
    DeliveryAdmin(store::Store& store, delivery::Engine& engine, std::vector<config::Recipient> recipients);
    static bool handles(std::string_view path);
    // `request.principal` is the administrator; `respond` may be called from the store's thread.
    void handle(const http::Request& request, http::Respond respond);

private:
    void queue(http::Respond respond);
    void list(const http::Request& request, http::Respond respond);
    void show(std::string_view id, http::Respond respond);
    void change(const http::Request& request, bool replay, http::Respond respond);

    store::Store& store_;
    delivery::Engine& engine_;
    std::vector<config::Recipient> recipients_;
};

}  // namespace helsebro::admin
