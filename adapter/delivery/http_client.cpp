#include "adapter/delivery/http_client.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>

#include <sys/socket.h>
#include <pthread.h>

#include <cerrno>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>

namespace helsebro::delivery {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string_view to_string(Failure f) {
    switch (f) {
        case Failure::none: return "none";
        case Failure::connect_failed: return "connect_failed";
        case Failure::tls_failed: return "tls_failed";
        case Failure::timeout: return "timeout";
        case Failure::connection_closed: return "connection_closed";
        case Failure::bad_response: return "bad_response";
        case Failure::too_large: return "too_large";
        case Failure::cancelled: return "cancelled";
    }
    return "unknown";
}

std::string_view Result::header(std::string_view name) const {
    for (const auto& h : headers)
        if (http::iequals(h.name, name)) return h.value;
    return {};
}

namespace {

struct Job {
    bhttp::verb method = bhttp::verb::post;
    std::string target;
    std::vector<http::Header> headers;
    std::string body;
    Callback done;
    Clock::time_point submitted;
    Clock::time_point deadline;
};

bool is_ip_literal(const std::string& host) {
    beast::error_code ec;
    net::ip::make_address(host, ec);
    return !ec;
}

std::string host_header(const Endpoint& e) {
    std::string host = e.host.find(':') != std::string::npos ? "[" + e.host + "]" : e.host;
    bool default_port = e.port == (e.tls ? 443 : 80);
    return default_port ? host : host + ":" + std::to_string(e.port);
}

std::string join_target(const std::string& base, std::string_view path) {
    while (!path.empty() && path.front() == '/') path.remove_prefix(1);
    if (path.empty()) return base.empty() ? "/" : base;
    return base + "/" + std::string(path);
}

[[noreturn]] void unusable(const std::string& what, const std::string& file, const beast::error_code& ec) {
    throw std::runtime_error("The " + what + " '" + file + "' cannot be used: " + ec.message() + ".");
}

std::unique_ptr<ssl::context> make_tls_context(const TlsOptions& o) {
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    beast::error_code ec;
    if (o.ca_file.empty()) {
        ctx->set_default_verify_paths(ec);
        if (ec) unusable("system CA store", "default", ec);
    } else {
        ctx->load_verify_file(o.ca_file, ec);
        if (ec) unusable("CA file", o.ca_file, ec);
    }
    ctx->set_verify_mode(o.verify_peer ? ssl::verify_peer : ssl::verify_none);
    if (o.client_cert_file.empty() != o.client_key_file.empty())
        throw std::runtime_error("A client certificate needs both its certificate file and its key file.");
    if (!o.client_cert_file.empty()) {
        ctx->use_certificate_chain_file(o.client_cert_file, ec);
        if (ec) unusable("client certificate", o.client_cert_file, ec);
        ctx->use_private_key_file(o.client_key_file, ssl::context::pem, ec);
        if (ec) unusable("client key", o.client_key_file, ec);
        if (SSL_CTX_check_private_key(ctx->native_handle()) != 1)
            throw std::runtime_error("The client key '" + o.client_key_file + "' does not match the certificate '" +
                                     o.client_cert_file + "'.");
    }
    return ctx;
}

bool is_closed(const beast::error_code& ec) {
    return ec == net::error::eof || ec == bhttp::error::end_of_stream || ec == net::error::connection_reset ||
           ec == net::error::broken_pipe || ec == net::error::connection_aborted || ec == ssl::error::stream_truncated;
}

// How a failed write or read is reported. Errors from OpenSSL itself (an alert, e.g. the server
// refusing our client certificate after a TLS 1.3 handshake) are TLS failures.
Failure classify_io(const beast::error_code& ec) {
    if (ec == beast::error::timeout) return Failure::timeout;
    if (ec == bhttp::error::body_limit || ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow)
        return Failure::too_large;
    if (is_closed(ec)) return Failure::connection_closed;
    if (ec.category() == net::error::get_ssl_category()) return Failure::tls_failed;
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_version).category()) return Failure::bad_response;
    return Failure::connection_closed;
}

}  // namespace

class Connection;

struct Client::Impl {
    Impl(Endpoint e, ClientOptions o);

    void submit(Job job);
    void complete(Job& job, Result result);
    void connection_done(const std::shared_ptr<Connection>& c, bool keep);
    void stop_all();

    Endpoint endpoint;
    ClientOptions options;
    std::string host_header;
    bool ip_host;
    std::unique_ptr<ssl::context> tls;  // null for plain http
    std::shared_ptr<spdlog::logger> log;

    net::io_context ioc{1};
    net::executor_work_guard<net::io_context::executor_type> work{ioc.get_executor()};
    std::thread thread;
    std::mutex submit_mutex;  // orders post() against shutdown()
    bool stopped = false;     // under submit_mutex

    // Below: touched on the io thread only.
    bool stopping = false;
    std::uint64_t next_connection = 0;
    std::unordered_map<std::uint64_t, std::shared_ptr<Connection>> open;  // every connection counts
    std::vector<std::shared_ptr<Connection>> idle;  // most recently used last
    std::deque<Job> waiting;  // every connection busy; deadlines in order, as timeout is shared
    net::steady_timer waiting_timer{ioc};

private:
    void start_on_new_connection(Job job);
    void pump();
    void arm_waiting_timer();
    void expire_waiting();
};

// One keep-alive connection; it runs one exchange at a time, its Job held in job_.
class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(Client::Impl& pool, std::uint64_t id) : pool_(pool), id_(id), resolver_(pool.ioc), timer_(pool.ioc) {
        if (pool.tls)
            tls_.emplace(pool.ioc, *pool.tls);
        else
            plain_.emplace(pool.ioc);
    }

    std::uint64_t id() const { return id_; }

    void start(Job job) {
        job_ = std::move(job);
        timer_.expires_at(step(pool_.options.connect_timeout));
        timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
            if (!ec) self->resolver_.cancel();  // resolving took the whole connect step
        });
        resolver_.async_resolve(pool_.endpoint.host, std::to_string(pool_.endpoint.port),
                                beast::bind_front_handler(&Connection::on_resolve, shared_from_this()));
    }

    void exchange(Job job) {
        job_ = std::move(job);
        reused_ = true;
        write();
    }

    // Whether an idle connection may carry another request. A server that closed it, or sent
    // anything unasked (a TLS close_notify, stray bytes), makes it unusable: only a connection
    // with nothing to read is safe to write on, or a request could fail for a stale reason.
    bool reusable() {
        if (Clock::now() - idle_since_ > pool_.options.idle_timeout) return false;
        if (buffer_.size() > 0) return false;
        if (tls_ && SSL_pending(tls_->native_handle()) > 0) return false;
        char byte;
        auto n = ::recv(tcp().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }

    void mark_idle() { idle_since_ = Clock::now(); }

    // Closes at once, without a TLS close_notify: waiting for the server's answer to one could
    // outlast any deadline, and a server must cope with a plain close anyway.
    void close() {
        beast::error_code ec;
        resolver_.cancel();
        timer_.cancel();
        tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
        tcp().close();
    }

private:
    beast::tcp_stream& tcp() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

    template <class F>
    void with_stream(F&& f) {
        if (tls_)
            f(*tls_);
        else
            f(*plain_);
    }

    // A step's deadline: its own cap, never past the exchange's.
    Clock::time_point step(milliseconds cap) const { return std::min(Clock::now() + cap, job_.deadline); }

    void on_resolve(beast::error_code ec, tcp::resolver::results_type results) {
        timer_.cancel();
        if (ec == net::error::operation_aborted && !pool_.stopping)
            return fail(Failure::timeout, "resolving the host name took too long");
        if (ec) return fail(Failure::connect_failed, "resolving the host name failed: " + ec.message());
        tcp().expires_at(step(pool_.options.connect_timeout));
        tcp().async_connect(results, beast::bind_front_handler(&Connection::on_connect, shared_from_this()));
    }

    void on_connect(beast::error_code ec, const tcp::endpoint&) {
        if (ec == beast::error::timeout) return fail(Failure::timeout, "connecting took too long");
        if (ec) return fail(Failure::connect_failed, "connecting failed: " + ec.message());
        if (tls_) return handshake();
        write();
    }

    void handshake() {
        SSL* ssl = tls_->native_handle();
        const auto& host = pool_.endpoint.host;
        // SNI carries names only (RFC 6066); the certificate must match the name or the address.
        if (!pool_.ip_host) SSL_set_tlsext_host_name(ssl, host.c_str());
        X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (pool_.ip_host)
            X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
        else
            X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
        tcp().expires_at(step(pool_.options.handshake_timeout));
        tls_->async_handshake(ssl::stream_base::client,
                              beast::bind_front_handler(&Connection::on_handshake, shared_from_this()));
    }

    void on_handshake(beast::error_code ec) {
        if (ec == beast::error::timeout) return fail(Failure::timeout, "the TLS handshake took too long");
        if (ec) return fail(Failure::tls_failed, "the TLS handshake failed: " + tls_reason(ec));
        write();
    }

    std::string tls_reason(const beast::error_code& ec) {
        long verify = SSL_get_verify_result(tls_->native_handle());
        if (verify == X509_V_OK) return ec.message();
        return ec.message() + " (" + X509_verify_cert_error_string(verify) + ")";
    }

    void write() {
        request_.emplace(job_.method, job_.target, 11);
        auto& req = *request_;
        req.set(bhttp::field::host, pool_.host_header);
        req.set(bhttp::field::user_agent, "helsebro");
        for (const auto& h : pool_.options.default_headers) req.set(h.name, h.value);
        for (const auto& h : job_.headers) req.set(h.name, h.value);
        req.body() = std::move(job_.body);
        req.keep_alive(true);
        req.prepare_payload();
        tcp().expires_at(step(pool_.options.write_timeout));
        with_stream([&](auto& s) {
            bhttp::async_write(s, req, beast::bind_front_handler(&Connection::on_write, shared_from_this()));
        });
    }

    void on_write(beast::error_code ec, std::size_t) {
        request_.reset();
        if (ec) return fail(classify_io(ec), "sending the request failed: " + ec.message());
        read();
    }

    void read() {
        parser_.emplace();
        parser_->body_limit(pool_.options.max_response_bytes);
        parser_->header_limit(pool_.options.max_response_header_bytes);
        tcp().expires_at(step(pool_.options.read_timeout));
        with_stream([&](auto& s) {
            bhttp::async_read_header(s, buffer_, *parser_,
                                     beast::bind_front_handler(&Connection::on_header, shared_from_this()));
        });
    }

    // Beast 1.74's response parser does not hold a Content-Length to body_limit (chunked bodies
    // it does limit), so a declared length is checked here before any of the body is read.
    void on_header(beast::error_code ec, std::size_t) {
        if (ec) return fail(classify_io(ec), "reading the response failed: " + ec.message());
        auto length = parser_->content_length();
        if (length && *length > pool_.options.max_response_bytes)
            return fail(Failure::too_large, "the response declares " + std::to_string(*length) + " bytes");
        with_stream([&](auto& s) {
            bhttp::async_read(s, buffer_, *parser_, beast::bind_front_handler(&Connection::on_read, shared_from_this()));
        });
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec) return fail(classify_io(ec), "reading the response failed: " + ec.message());
        if (parser_->get().body().size() > pool_.options.max_response_bytes)
            return fail(Failure::too_large, "the response body exceeds the limit");
        tcp().expires_never();
        auto& msg = parser_->get();
        Result r;
        r.status = static_cast<int>(msg.result_int());
        for (const auto& f : msg) r.headers.push_back({std::string(f.name_string()), std::string(f.value())});
        r.body = std::move(msg.body());
        bool keep = msg.keep_alive();
        parser_.reset();
        finish(std::move(r), keep);
    }

    void fail(Failure f, std::string detail) {
        Result r;
        r.failure = pool_.stopping ? Failure::cancelled : f;
        r.detail = pool_.stopping ? "the client was shut down" : std::move(detail);
        finish(std::move(r), false);
    }

    void finish(Result r, bool keep) {
        auto self = shared_from_this();
        if (r.ok())
            pool_.log->debug("POST answered {} in {} ms (connection {}{}).", r.status,
                             std::chrono::duration_cast<milliseconds>(Clock::now() - job_.submitted).count(), id_,
                             reused_ ? ", reused" : "");
        pool_.complete(job_, std::move(r));
        pool_.connection_done(self, keep);
    }

    Client::Impl& pool_;
    std::uint64_t id_;
    tcp::resolver resolver_;
    net::steady_timer timer_;  // bounds name resolution, which tcp_stream's deadline does not
    std::optional<beast::tcp_stream> plain_;
    std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
    beast::flat_buffer buffer_;
    Job job_;
    std::optional<bhttp::request<bhttp::string_body>> request_;
    std::optional<bhttp::response_parser<bhttp::string_body>> parser_;  // a new one per response
    Clock::time_point idle_since_{};
    bool reused_ = false;
};

Client::Impl::Impl(Endpoint e, ClientOptions o)
    : endpoint(std::move(e)),
      options(std::move(o)),
      host_header(delivery::host_header(endpoint)),
      ip_host(is_ip_literal(endpoint.host)) {
    if (options.max_connections == 0) options.max_connections = 1;
    if (endpoint.tls) tls = make_tls_context(options.tls);
    auto name = "delivery:" + options.recipient_id;
    log = spdlog::get(name);
    if (!log) log = spdlog::default_logger()->clone(name);
}

void Client::Impl::submit(Job job) {
    if (stopping) return complete(job, Result{Failure::cancelled, "the client was shut down", 0, {}, {}, {}});
    while (!idle.empty()) {
        auto c = std::move(idle.back());
        idle.pop_back();
        if (c->reusable()) return c->exchange(std::move(job));
        c->close();
        open.erase(c->id());
    }
    if (open.size() < options.max_connections) return start_on_new_connection(std::move(job));
    waiting.push_back(std::move(job));
    if (waiting.size() == 1) arm_waiting_timer();
}

void Client::Impl::start_on_new_connection(Job job) {
    auto c = std::make_shared<Connection>(*this, next_connection++);
    open.emplace(c->id(), c);
    c->start(std::move(job));
}

void Client::Impl::complete(Job& job, Result result) {
    result.elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - job.submitted);
    if (!result.ok())
        log->debug("POST failed after {} ms: {} ({}).", result.elapsed.count(), to_string(result.failure),
                   result.detail);
    auto done = std::move(job.done);
    try {
        done(std::move(result));
    } catch (const std::exception& e) {
        log->error("A delivery callback failed unexpectedly: {}", e.what());
    }
}

void Client::Impl::connection_done(const std::shared_ptr<Connection>& c, bool keep) {
    if (keep && !stopping) {
        c->mark_idle();
        idle.push_back(c);
    } else {
        c->close();
        open.erase(c->id());
    }
    pump();
}

void Client::Impl::pump() {
    while (!waiting.empty() && !stopping && (!idle.empty() || open.size() < options.max_connections)) {
        Job job = std::move(waiting.front());
        waiting.pop_front();
        submit(std::move(job));
    }
    if (!waiting.empty()) arm_waiting_timer();
}

// A request that waited its whole timeout for a free connection fails as a timeout.
void Client::Impl::arm_waiting_timer() {
    waiting_timer.expires_at(waiting.front().deadline);
    waiting_timer.async_wait([this](beast::error_code ec) {
        if (!ec) expire_waiting();
    });
}

void Client::Impl::expire_waiting() {
    auto now = Clock::now();
    while (!waiting.empty() && waiting.front().deadline <= now) {
        Job job = std::move(waiting.front());
        waiting.pop_front();
        complete(job, Result{Failure::timeout, "no connection became free in time", 0, {}, {}, {}});
    }
    if (!waiting.empty()) arm_waiting_timer();
}

void Client::Impl::stop_all() {
    stopping = true;
    waiting_timer.cancel();
    while (!waiting.empty()) {
        Job job = std::move(waiting.front());
        waiting.pop_front();
        complete(job, Result{Failure::cancelled, "the client was shut down", 0, {}, {}, {}});
    }
    idle.clear();
    // Busy connections see their operations aborted and report cancelled; idle ones just go.
    auto all = std::move(open);
    open.clear();
    for (auto& [id, c] : all) c->close();
}

Client::Client(Endpoint endpoint, ClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(endpoint), std::move(options))) {
    impl_->thread = std::thread([impl = impl_.get()] {
        pthread_setname_np(pthread_self(), "hb-delivery");
        impl->ioc.run();
    });
}

Client::~Client() { shutdown(); }

void Client::post(std::string path, std::vector<http::Header> headers, std::string body, Callback done) {
    send("POST", std::move(path), std::move(headers), std::move(body), std::move(done));
}

void Client::send(std::string_view method, std::string path, std::vector<http::Header> headers, std::string body,
                  Callback done) {
    auto now = Clock::now();
    const bhttp::verb verb = bhttp::string_to_verb(method);
    if (verb != bhttp::verb::post && verb != bhttp::verb::put && verb != bhttp::verb::get)
        throw std::invalid_argument("the delivery client sends GET, POST and PUT only");
    Job job{verb, join_target(impl_->endpoint.base_path, path), std::move(headers), std::move(body), std::move(done), now,
            now + impl_->options.timeout};
    {
        std::lock_guard lock(impl_->submit_mutex);
        if (!impl_->stopped) {
            net::post(impl_->ioc, [impl = impl_.get(), job = std::move(job)]() mutable { impl->submit(std::move(job)); });
            return;
        }
    }
    impl_->complete(job, Result{Failure::cancelled, "the client was shut down", 0, {}, {}, {}});
}

void Client::shutdown() {
    {
        std::lock_guard lock(impl_->submit_mutex);
        if (impl_->stopped) return;
        impl_->stopped = true;
        net::post(impl_->ioc, [impl = impl_.get()] { impl->stop_all(); });
    }
    impl_->work.reset();
    // A name lookup under way cannot be interrupted: joining may wait for it to return.
    if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace helsebro::delivery
