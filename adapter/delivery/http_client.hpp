// The HTTP/1.1 client that carries outgoing messages to one recipient (Boost.Beast, OpenSSL):
// a keep-alive pool of at most max_connections, a deadline on every step, TLS that verifies the
// peer and its name by default. It reports what happened and never retries: backoff, attempts and
// dead letters belong to the delivery engine. No Boost in this header.
//
// Threads: each Client owns an io_context and one io thread. post() may be called from any
// thread; every callback runs on the io thread (or, after shutdown(), on the caller's thread), so
// a callback must not block and must not destroy its Client.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "adapter/http/http.hpp"

namespace helsebro::delivery {

// Where a recipient's FHIR base lives, as config::detail::parse_base_url checked it.
struct Endpoint {
    bool tls = true;
    std::string host;       // name or IP literal; IPv6 without brackets
    std::uint16_t port = 443;
    std::string base_path;  // "" or "/fhir"; request paths are appended to it
};

struct TlsOptions {
    std::string ca_file;           // PEM bundle to trust; empty: the system's default store
    bool verify_peer = true;       // off only for a test bed: it also skips the name check
    std::string client_cert_file;  // PEM chain for mutual TLS; empty: no client certificate
    std::string client_key_file;   // PEM private key of client_cert_file
};

struct ClientOptions {
    std::string recipient_id;  // names the logger ("delivery:<id>") and nothing else
    // The whole exchange (waiting for a connection included) must finish within this.
    std::chrono::milliseconds timeout{std::chrono::seconds(30)};
    // Caps on each step, inside `timeout`.
    std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
    std::chrono::milliseconds handshake_timeout{std::chrono::seconds(10)};
    std::chrono::milliseconds write_timeout{std::chrono::seconds(30)};
    std::chrono::milliseconds read_timeout{std::chrono::seconds(30)};
    // A connection idle longer than this is closed instead of reused: servers drop idle ones.
    std::chrono::milliseconds idle_timeout{std::chrono::seconds(30)};
    unsigned max_connections = 4;  // the recipient's max_in_flight
    std::uint64_t max_response_bytes = 4 * 1024 * 1024;
    std::uint32_t max_response_header_bytes = 16 * 1024;
    TlsOptions tls;
    std::vector<http::Header> default_headers;  // e.g. Authorization: Bearer <token>
};

enum class Failure {
    none,               // a response arrived (of any status)
    connect_failed,     // name resolution or TCP connect failed
    tls_failed,         // handshake failed: untrusted certificate, wrong name, refused client cert
    timeout,            // a step or the whole exchange ran out of time
    connection_closed,  // the connection broke while the request was under way
    bad_response,       // the answer is not valid HTTP/1.1
    too_large,          // the answer exceeds max_response_bytes (or its header the header limit)
    cancelled,          // the Client was shut down first
};

std::string_view to_string(Failure f);

struct Result {
    Failure failure = Failure::none;
    std::string detail;  // why it failed, for the operator's log; never carries the body
    int status = 0;      // when failure == none
    std::vector<http::Header> headers;
    std::string body;
    std::chrono::milliseconds elapsed{0};

    bool ok() const { return failure == Failure::none; }
    // The first header of that name (case-insensitive), or empty.
    std::string_view header(std::string_view name) const;
};

using Callback = std::function<void(Result)>;

class Client {
public:
    // Loads the CA, client certificate and key now: throws std::runtime_error with a sentence
    // naming the file when one cannot be used (bad config is fatal at start-up).
    Client(Endpoint endpoint, ClientOptions options);
    ~Client();  // shutdown()
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // POSTs `body` to base_path + path. `headers` come after the default headers (Content-Type
    // belongs here). `done` is called exactly once. Thread-safe.
    void post(std::string path, std::vector<http::Header> headers, std::string body, Callback done);
    // The same with `method` POST or PUT (std::invalid_argument for any other); GET too, with an
    // empty body, for the admin commands of the CLI.
    void send(std::string_view method, std::string path, std::vector<http::Header> headers, std::string body,
              Callback done);

    // Fails queued and in-flight requests with Failure::cancelled, closes every connection and
    // joins the io thread. Idempotent; later posts are answered with cancelled at once.
    void shutdown();

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace helsebro::delivery
