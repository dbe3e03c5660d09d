#include "tests/support/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <poll.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <stdexcept>

namespace helsebro::testing {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = net::steady_timer::clock_type;

constexpr std::uint64_t kBodyLimit = 1ull << 30;  // $export-sized bodies must not trip Beast's 8 MB default
constexpr std::uint32_t kHeaderLimit = 64 * 1024;

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

tcp::endpoint loopback_endpoint(const std::string& host, std::uint16_t port) {
    if (host != "127.0.0.1" && host != "::1")
        throw std::invalid_argument("HttpClient: only 127.0.0.1 and ::1 are allowed, got '" + host + "'");
    return {net::ip::make_address(host), port};
}

std::string host_header(const std::string& host, std::uint16_t port) {
    return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// Runs the io_context until every pending operation completed. Each
// operation is bounded by the tcp_stream's expiry, so this cannot hang.
void run_all(net::io_context& ioc) {
    ioc.restart();
    ioc.run();
}

std::unique_ptr<beast::tcp_stream> connect(net::io_context& ioc, const tcp::endpoint& ep, Clock::time_point deadline) {
    auto stream = std::make_unique<beast::tcp_stream>(ioc);
    stream->expires_at(deadline);
    beast::error_code result;
    stream->async_connect(ep, [&](beast::error_code ec) { result = ec; });
    run_all(ioc);
    if (result) {
        throw std::runtime_error("HTTP connect to " + ep.address().to_string() + ":" + std::to_string(ep.port()) +
                                 " failed: " + (result == beast::error::timeout ? "timeout" : result.message()));
    }
    beast::error_code ignored;
    stream->socket().set_option(tcp::no_delay(true), ignored);
    return stream;
}

struct Exchange {
    beast::error_code write_ec, read_ec;
    bool got_bytes = false;    // any response byte arrived
    bool header_done = false;  // status line and headers complete
    bool keep_alive = false;
    Response response;
    bool timed_out() const { return read_ec == beast::error::timeout || write_ec == beast::error::timeout; }
};

// Writes `bytes` and reads one response at the same time. Concurrency
// matters: a server that rejects a request early (413, 431) may stop reading,
// and a write-then-read client would block until the deadline instead of
// seeing the answer.
Exchange exchange(net::io_context& ioc, beast::tcp_stream& stream, beast::flat_buffer& buffer,
                  const std::string& bytes, bool head, Clock::time_point deadline) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(kBodyLimit);
    parser.header_limit(kHeaderLimit);
    if (head) parser.skip(true);

    Exchange ex;
    bool read_done = false, write_done = false;
    stream.expires_at(deadline);
    net::async_write(stream, net::buffer(bytes), [&](beast::error_code ec, std::size_t) {
        ex.write_ec = ec;
        write_done = true;
    });
    http::async_read(stream, buffer, parser, [&](beast::error_code ec, std::size_t) {
        ex.read_ec = ec;
        read_done = true;
        if (!write_done) stream.cancel();  // answered before consuming our bytes; stop pushing them
    });
    run_all(ioc);

    ex.got_bytes = parser.got_some();
    ex.header_done = parser.is_header_done();
    if (ex.header_done) {
        auto& msg = parser.get();
        ex.keep_alive = msg.keep_alive();
        ex.response.status = static_cast<int>(msg.result_int());
        for (const auto& field : msg) {
            std::string name = lower(std::string(field.name_string()));
            auto [it, inserted] = ex.response.headers.try_emplace(name, std::string(field.value()));
            if (!inserted) it->second += ", " + std::string(field.value());
        }
        ex.response.body = std::move(msg.body());
    }
    return ex;
}

bool idempotent(const std::string& method) {
    return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" || method == "OPTIONS";
}

void reject_crlf(std::string_view what, std::string_view s) {
    if (s.find_first_of("\r\n") != std::string_view::npos)
        throw std::invalid_argument("HttpClient: CR/LF in " + std::string(what) + " (use raw_exchange for malformed requests)");
}

std::string serialize(const std::string& method, const std::string& target, const std::string& host,
                      const std::string& body, const std::map<std::string, std::string>& headers) {
    reject_crlf("method", method);
    reject_crlf("target", target);
    bool has_host = false, has_length = false;
    for (const auto& [k, v] : headers) {
        reject_crlf("header", k);
        reject_crlf("header", v);
        auto name = lower(k);
        has_host |= name == "host";
        has_length |= name == "content-length" || name == "transfer-encoding";
    }
    std::string out = method + " " + target + " HTTP/1.1\r\n";
    if (!has_host) out += "Host: " + host + "\r\n";
    for (const auto& [k, v] : headers) out += k + ": " + v + "\r\n";
    if (!has_length && (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH"))
        out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    out += "\r\n";
    out += body;
    return out;
}

// True if the idle keep-alive socket has been closed by the peer (or has
// unsolicited bytes, e.g. a 408 before closing): either way it is unusable.
bool peer_closed(beast::tcp_stream& stream) {
    pollfd p{stream.socket().native_handle(), POLLIN | POLLRDHUP, 0};
    return ::poll(&p, 1, 0) != 0;
}

}  // namespace

std::string Response::header(const std::string& lower_name) const {
    auto it = headers.find(lower(lower_name));
    return it == headers.end() ? std::string{} : it->second;
}

struct HttpClient::Impl {
    net::io_context ioc;
    tcp::endpoint endpoint;
    std::string host;
    std::chrono::milliseconds timeout;
    std::string token;
    std::unique_ptr<beast::tcp_stream> stream;
    beast::flat_buffer buffer;
    std::size_t connections = 0;

    void drop() {
        if (stream) {
            beast::error_code ignored;
            stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
            stream->socket().close(ignored);
        }
        stream.reset();
        buffer.clear();
    }

    // Returns true when an existing connection is reused.
    bool ensure_connected(Clock::time_point deadline) {
        if (stream && stream->socket().is_open() && buffer.size() == 0 && !peer_closed(*stream)) return true;
        drop();
        stream = connect(ioc, endpoint, deadline);
        ++connections;
        return false;
    }
};

HttpClient::HttpClient(std::uint16_t port, std::string host) : HttpClient(port, std::move(host), kDefaultTimeout) {}

HttpClient::HttpClient(std::uint16_t port, std::string host, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
    impl_->endpoint = loopback_endpoint(host, port);
    impl_->host = host_header(host, port);
    impl_->timeout = timeout;
}

HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

void HttpClient::set_token(std::string token) { impl_->token = std::move(token); }
void HttpClient::set_timeout(std::chrono::milliseconds timeout) { impl_->timeout = timeout; }
void HttpClient::close() { impl_->drop(); }
std::size_t HttpClient::connections_opened() const { return impl_->connections; }

Response HttpClient::request(const std::string& method, const std::string& target, const std::string& body,
                             std::map<std::string, std::string> headers) {
    const auto deadline = Clock::now() + impl_->timeout;
    const std::string bytes = serialize(method, target, impl_->host, body, headers);
    const std::string what = "HTTP " + method + " " + target;

    for (int attempt = 0;; ++attempt) {
        const bool reused = impl_->ensure_connected(deadline);
        Exchange ex = exchange(impl_->ioc, *impl_->stream, impl_->buffer, bytes, method == "HEAD", deadline);
        // Interim 1xx responses precede the real one on the same connection.
        while (!ex.read_ec && ex.response.status >= 100 && ex.response.status < 200 && ex.response.status != 101)
            ex = exchange(impl_->ioc, *impl_->stream, impl_->buffer, {}, method == "HEAD", deadline);

        if (ex.timed_out()) {
            impl_->drop();
            throw std::runtime_error(what + ": no complete response within " +
                                     std::to_string(impl_->timeout.count()) + " ms");
        }
        if (!ex.read_ec) {
            if (!ex.keep_alive || ex.write_ec) impl_->drop();
            return std::move(ex.response);
        }
        impl_->drop();
        // The server may close an idle keep-alive connection just as we reuse
        // it. Retrying is safe when it cannot have acted on the request: the
        // write failed, or nothing came back for an idempotent method.
        if (attempt == 0 && reused && !ex.got_bytes && (ex.write_ec || idempotent(method))) continue;
        throw std::runtime_error(what + ": " + (ex.got_bytes ? "truncated response: " : "no response: ") +
                                 ex.read_ec.message() + (ex.write_ec ? " (write: " + ex.write_ec.message() + ")" : ""));
    }
}

Response HttpClient::with_defaults(const std::string& method, const std::string& target, const std::string& body,
                                   std::map<std::string, std::string> headers) {
    std::map<std::string, std::string> merged;
    if (!impl_->token.empty()) merged["Authorization"] = "Bearer " + impl_->token;
    merged["Accept"] = "application/fhir+json";
    if (!body.empty()) merged["Content-Type"] = "application/fhir+json";
    for (auto& [k, v] : headers) {
        const std::string name = lower(k);
        std::erase_if(merged, [&](const auto& kv) { return lower(kv.first) == name; });
    }
    merged.merge(headers);
    return request(method, target, body, std::move(merged));
}

Response HttpClient::get(const std::string& target) { return with_defaults("GET", target, {}, {}); }

Response HttpClient::post(const std::string& target, const std::string& body, std::map<std::string, std::string> headers) {
    return with_defaults("POST", target, body, std::move(headers));
}

Response HttpClient::put(const std::string& target, const std::string& body, std::map<std::string, std::string> headers) {
    return with_defaults("PUT", target, body, std::move(headers));
}

Response HttpClient::del(const std::string& target, std::map<std::string, std::string> headers) {
    return with_defaults("DELETE", target, {}, std::move(headers));
}

Response raw_exchange(std::uint16_t port, const std::string& bytes, std::chrono::seconds timeout) {
    return raw_exchange(port, bytes, std::chrono::milliseconds(timeout), "127.0.0.1");
}

Response raw_exchange(std::uint16_t port, const std::string& bytes, std::chrono::milliseconds timeout,
                      const std::string& host) {
    const auto deadline = Clock::now() + timeout;
    net::io_context ioc;
    auto stream = connect(ioc, loopback_endpoint(host, port), deadline);
    beast::flat_buffer buffer;
    Exchange ex = exchange(ioc, *stream, buffer, bytes, false, deadline);
    if (ex.timed_out() && !ex.header_done)
        throw std::runtime_error("raw_exchange: no response within " + std::to_string(timeout.count()) + " ms");
    if (!ex.header_done) return Response{};
    return std::move(ex.response);
}

}  // namespace helsebro::testing
