// The HTTP/1.1 server (Boost.Beast): keep-alive, limits and deadlines from config, graceful stop.
// It knows nothing of FHIR: a Handler decides what each request means. No Boost in this header.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace helsebro::http {

struct Header {
    std::string name;
    std::string value;
};

struct Request {
    std::string method;
    std::string target;  // as sent: path and query
    std::vector<Header> headers;
    std::string body;
    std::string remote;     // peer address, for logs
    std::string principal;  // set by Handler::check_head (who sent it), carried to handle()

    // The first header of that name (case-insensitive), or empty.
    std::string_view header(std::string_view name) const;
};

struct Response {
    int status = 200;
    std::vector<Header> headers;
    std::string body;
    bool close = false;  // close the connection after this response
};

// Call exactly once, from any thread.
using Respond = std::function<void(Response)>;

class Handler {
public:
    virtual ~Handler() = default;
    // Called with the header only (empty body). Returning a response answers at once and the body is
    // never read: refusals (401, 415, 413) cost the sender's bytes, not ours.
    virtual std::optional<Response> check_head(Request& head) = 0;
    virtual void handle(Request request, Respond respond) = 0;
    // An answer for what the server itself detected: 400 (bad HTTP), 408, 413, 431.
    virtual Response error(int status, std::string_view message) = 0;
};

// HTTP's case-insensitive comparison of header names and tokens (ASCII only).
bool iequals(std::string_view a, std::string_view b);
// RFC 9110 IMF-fixdate, e.g. "Wed, 25 Nov 2026 08:30:12 GMT".
std::string format_date(std::int64_t unix_seconds);

struct ServerOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;
    unsigned threads = 0;  // 0: one per core
    std::uint64_t max_body_bytes = 10 * 1024 * 1024;
    std::uint32_t max_header_bytes = 16 * 1024;
    unsigned max_connections = 10000;
    unsigned read_timeout_seconds = 30;
    unsigned write_timeout_seconds = 30;
    unsigned idle_timeout_seconds = 60;
    unsigned shutdown_grace_seconds = 20;
    std::function<void()> on_stopping;  // called once when a graceful stop begins
    // Called on SIGHUP (from the server's strand: hand long work to another thread). When unset,
    // SIGHUP is left to its default.
    std::function<void()> on_reload;
};

class Server {
public:
    Server(ServerOptions options, Handler& handler);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds and listens, and takes SIGTERM/SIGINT (and SIGHUP with on_reload); throws std::system_error on failure. The port is
    // known afterwards.
    void listen();
    std::uint16_t port() const;
    std::string address() const;  // "127.0.0.1:8080" or "[::1]:8080"

    // Serves until SIGTERM or SIGINT (or stop()): then stops accepting, lets requests in flight finish
    // (up to shutdown_grace_seconds), closes idle connections, and returns. False when the grace
    // period ran out or a second signal came: some requests were cut off unanswered.
    bool run();
    void stop();  // thread-safe

    struct Impl;  // public only so the connections in server.cpp can name it

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace helsebro::http
