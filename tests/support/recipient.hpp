#pragma once
// A real HTTP/1.1 server that plays the recipient of the daemon's outgoing
// FHIR messages in integration tests. One thread per connection (blocking
// I/O), so a slow answer on one connection never holds up another, and
// stop() can cut every connection at once to simulate a recipient outage.
// Beast/Asio live only in recipient.cpp so test TUs stay cheap to compile.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace helsebro::testing {

struct ReceivedRequest {
    std::string method, target, body;
    std::map<std::string, std::string> headers;  // lower-case names; repeated headers joined with ", "
    std::chrono::steady_clock::time_point at;    // when the whole request had arrived
    std::size_t connection = 0;                  // 0-based accept order over the Recipient's life (keep-alive checks)
};

struct RecipientReply {
    enum class Action {
        respond,
        close_without_answer,  // after `delay`, close the connection; the peer sees EOF instead of a status line
    };
    Action action = Action::respond;
    int status = 200;
    std::string body;  // may be empty: sent as Content-Length: 0
    // Sent as given, e.g. {"Retry-After","2"}, {"Content-Type","application/fhir+json"}; Content-Length
    // is always computed. {"Connection","close"} makes the server close after answering.
    std::vector<std::pair<std::string, std::string>> headers;
    std::chrono::milliseconds delay{0};  // wait this long before answering (slow recipient); stop() cuts it short
};

class Recipient {
public:
    using Handler = std::function<RecipientReply(const ReceivedRequest&)>;

    // Well above the 16 MiB messages the daemon may send; larger bodies get 413 and a close.
    static constexpr std::size_t kMaxBodyBytes = 64u << 20;

    // Listens on 127.0.0.1:port (0: any free port) at once; throws std::system_error if it cannot.
    // An empty handler means the default: 200, Content-Type application/fhir+json and an informational
    // OperationOutcome. A handler that throws is answered 500 with the exception's message.
    // Handlers run on connection threads, concurrently, and must return: stop() waits for them.
    explicit Recipient(Handler handler = {}, std::uint16_t port = 0);
    ~Recipient();  // stop(), and joins every thread
    Recipient(const Recipient&) = delete;
    Recipient& operator=(const Recipient&) = delete;

    std::uint16_t port() const;    // the same across stop()/start()
    std::string base_url() const;  // "http://127.0.0.1:<port>/fhir"
    void set_handler(Handler h);   // thread-safe; takes effect for the next request

    // Closes the listener (new connections are refused) and shuts down every open connection: peers
    // see EOF, or a reset if they keep sending. Requests in flight (also those waiting out a delay) get
    // no answer. Returns once the connection threads have finished, but for the caller's own when
    // called from a handler (that one ends when the handler returns). Idempotent.
    void stop();
    // Listens again on the same port (SO_REUSEADDR). Idempotent; throws std::system_error if the
    // port has been taken meanwhile.
    void start();
    bool running() const;

    // Every complete request, in arrival order, recorded before the handler runs (so also those
    // answered with close_without_answer). Requests that failed to parse are not recorded.
    std::vector<ReceivedRequest> requests() const;
    std::size_t count() const;
    void clear();
    std::size_t connections_accepted() const;  // over the Recipient's life

    // Waits until pred(requests()) holds, checked whenever a request arrives (or clear() is called)
    // and at least every 50 ms; false on timeout. pred runs on a copy, without any lock held.
    bool wait_for(const std::function<bool(const std::vector<ReceivedRequest>&)>& pred,
                  std::chrono::milliseconds timeout) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace helsebro::testing
