#pragma once
// Synchronous HTTP/1.1 client for integration tests. Beast/Asio live only in
// http_client.cpp so test TUs stay cheap to compile.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace helsebro::testing {

struct Response {
    int status = 0;                              // 0: no response (raw_exchange only)
    std::map<std::string, std::string> headers;  // lower-case names; repeated headers joined with ", "
    std::string body;
    // "" when absent. The name is lower-cased before the lookup.
    std::string header(const std::string& lower_name) const;
};

class HttpClient {
public:
    static constexpr std::chrono::milliseconds kDefaultTimeout{10'000};

    // Only 127.0.0.1 and ::1 are accepted (std::invalid_argument otherwise):
    // the tests must never reach beyond the machine. Connects lazily.
    explicit HttpClient(std::uint16_t port, std::string host = "127.0.0.1");
    HttpClient(std::uint16_t port, std::string host, std::chrono::milliseconds timeout);
    ~HttpClient();
    HttpClient(HttpClient&&) noexcept;
    HttpClient& operator=(HttpClient&&) noexcept;
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // Sends exactly `headers` plus Host and (for a body, POST, PUT or PATCH)
    // Content-Length; no token, no Accept. Reuses the keep-alive connection
    // and reconnects transparently when the server has closed it. Throws
    // std::runtime_error on connect/IO errors or when the whole exchange
    // exceeds the timeout.
    Response request(const std::string& method, const std::string& target, const std::string& body = {},
                     std::map<std::string, std::string> headers = {});

    // get/post/put/del add "Authorization: Bearer <token>" (if a token is
    // set), "Accept: application/fhir+json" and, with a body,
    // "Content-Type: application/fhir+json". Entries in `headers` override
    // these (names compared case-insensitively).
    void set_token(std::string token);
    Response get(const std::string& target);
    Response post(const std::string& target, const std::string& body, std::map<std::string, std::string> headers = {});
    Response put(const std::string& target, const std::string& body, std::map<std::string, std::string> headers = {});
    Response del(const std::string& target, std::map<std::string, std::string> headers = {});

    void set_timeout(std::chrono::milliseconds timeout);  // per request, connect included
    void close();                                          // drop the keep-alive connection
    // TCP connections opened so far (lets tests assert keep-alive reuse).
    std::size_t connections_opened() const;

private:
    Response with_defaults(const std::string& method, const std::string& target, const std::string& body,
                           std::map<std::string, std::string> headers);

    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Sends raw bytes on a fresh connection and reads one response (for
// malformed-request tests). The read runs concurrently with the write, so a
// server that answers early (413 after the headers) and stops reading is
// still observed. status 0 when the server closed (or reset) without sending
// a complete status line and headers; a truncated body is returned as far as
// it arrived. Throws only if the connection cannot be made or on timeout.
Response raw_exchange(std::uint16_t port, const std::string& bytes,
                      std::chrono::seconds timeout = std::chrono::seconds(10));
// Same, with a sub-second timeout and an explicit host (127.0.0.1 or ::1).
Response raw_exchange(std::uint16_t port, const std::string& bytes, std::chrono::milliseconds timeout,
                      const std::string& host = "127.0.0.1");

}  // namespace helsebro::testing
