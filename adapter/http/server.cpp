#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <chrono>
#include <ctime>
#include <utility>
#include <mutex>
#include <thread>

#include <pthread.h>
#include <unordered_map>

#include "adapter/http/http.hpp"

namespace helsebro::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using std::chrono::seconds;

namespace {

// The Date header, formatted at most once a second per thread.
const std::string& http_date() {
    thread_local std::time_t cached_at = 0;
    thread_local std::string cached;
    std::time_t now = std::time(nullptr);
    if (now != cached_at) {
        cached = format_date(now);
        cached_at = now;
    }
    return cached;
}

// What an unread request body may still send after an early answer before we stop listening.
constexpr auto linger_time = std::chrono::seconds(2);

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

std::string format_date(std::int64_t unix_seconds) {
    std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return buf;
}

std::string_view Request::header(std::string_view name) const {
    for (const auto& h : headers)
        if (iequals(h.name, name)) return h.value;
    return {};
}

class Session;

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
    ServerOptions options;
    Handler& handler;
    net::io_context ioc;
    // Accepting, signals and the shutdown timer run on this strand: io threads never race on them.
    net::strand<net::io_context::executor_type> strand{net::make_strand(ioc)};
    tcp::acceptor acceptor{strand};
    net::signal_set signals{strand};
    net::steady_timer grace{strand};
    net::steady_timer accept_retry{strand};
    std::chrono::steady_clock::time_point last_accept_warning{};
    std::shared_ptr<spdlog::logger> log;

    std::mutex sessions_mutex;
    std::unordered_map<std::uint64_t, std::weak_ptr<Session>> sessions;
    std::uint64_t next_session = 0;
    std::atomic<bool> stopping{false};

    Impl(ServerOptions o, Handler& h) : options(std::move(o)), handler(h) {
        log = spdlog::get("http");
        if (!log) log = spdlog::default_logger()->clone("http");
    }

    void accept();
    void begin_stop();
    void wait_for_signal();
    void force_stop(const char* why);
    bool forced = false;

    template <class... Args>
    void warn_rarely(spdlog::format_string_t<Args...> fmt, Args&&... args) {
        auto now = std::chrono::steady_clock::now();
        if (now - last_accept_warning < std::chrono::seconds(10)) return;
        last_accept_warning = now;
        log->warn(fmt, std::forward<Args>(args)...);
    }
    void session_ended(std::uint64_t id);
};

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket socket, std::shared_ptr<Server::Impl> server, std::uint64_t id)
        : stream_(std::move(socket)), server_(std::move(server)), id_(id) {
        beast::error_code ec;
        auto ep = stream_.socket().remote_endpoint(ec);
        if (!ec) remote_ = ep.address().to_string();
    }
    ~Session() { server_->session_ended(id_); }

    void start() {
        net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_head(); });
    }

    // From Server::stop: an idle connection closes now, a busy one after its response.
    void drain() {
        net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
            self->draining_ = true;
            // A read may have taken a request's first bytes already without us seeing them yet,
            // so an idle-looking connection is not closed here: its read is cancelled, and
            // on_head tells an idle connection (closed) from a request under way (answered).
            beast::error_code ec;
            if (self->state_ == State::reading_head) self->stream_.socket().cancel(ec);
        });
    }

    void force_close() {
        net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->close(); });
    }

private:
    enum class State { reading_head, reading_body, handling, writing, closed };

    const ServerOptions& options() const { return server_->options; }

    // Between requests (no read pending), idle means nothing buffered and nothing in the socket.
    bool request_arriving() {
        beast::error_code ec;
        return buffer_.size() > 0 || stream_.socket().available(ec) > 0;
    }

    void read_head() {
        if (draining_ && !request_arriving()) return close();
        parser_.emplace();
        parser_->header_limit(options().max_header_bytes);
        parser_->body_limit(options().max_body_bytes);
        continue_head(seconds(options().idle_timeout_seconds));
    }

    void continue_head(std::chrono::seconds deadline) {
        state_ = State::reading_head;
        stream_.expires_after(deadline);
        bhttp::async_read_header(stream_, buffer_, *parser_,
                                 beast::bind_front_handler(&Session::on_head, shared_from_this()));
    }

    void on_head(beast::error_code ec, std::size_t) {
        // Stopping cancelled the read: go on if a request had begun, else this was an idle connection.
        if (ec == net::error::operation_aborted && draining_ && (parser_->got_some() || request_arriving()))
            return continue_head(seconds(options().read_timeout_seconds));
        if (ec) return read_failed(ec);
        head_ = Request{};
        const auto& msg = parser_->get();
        head_.method = std::string(msg.method_string());
        head_.target = std::string(msg.target());
        head_.remote = remote_;
        for (const auto& f : msg) head_.headers.push_back({std::string(f.name_string()), std::string(f.value())});

        keep_alive_ = msg.keep_alive();  // early answers honour Connection: close and HTTP/1.0 too
        auto length = parser_->content_length();
        if (length && *length > options().max_body_bytes)
            return reply(server_->handler.error(413, "The request body is larger than this server accepts."), true);
        if (auto early = server_->handler.check_head(head_)) {
            bool unread_body = !parser_->is_done();
            return reply(std::move(*early), unread_body);
        }
        if (parser_->is_done()) return dispatch();
        if (iequals(head_.header("expect"), "100-continue")) return send_continue();
        read_body();
    }

    void send_continue() {
        continue_ = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
        stream_.expires_after(seconds(options().write_timeout_seconds));
        bhttp::async_write(stream_, *continue_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec) return self->close();
            self->read_body();
        });
    }

    void read_body() {
        state_ = State::reading_body;
        stream_.expires_after(seconds(options().read_timeout_seconds));
        bhttp::async_read(stream_, buffer_, *parser_,
                          beast::bind_front_handler(&Session::on_body, shared_from_this()));
    }

    void on_body(beast::error_code ec, std::size_t) {
        if (ec) return read_failed(ec);
        dispatch();
    }

    void dispatch() {
        state_ = State::handling;
        Request request = std::move(head_);  // keeps what check_head learned
        request.body = std::move(parser_->get().body());
        keep_alive_ = parser_->get().keep_alive();
        // Holds the io_context open while the store finishes the request on its own thread.
        auto work = std::make_shared<net::executor_work_guard<net::io_context::executor_type>>(
            server_->ioc.get_executor());
        auto self = shared_from_this();
        auto respond = [self, work](Response r) mutable {
            net::post(self->stream_.get_executor(), [self, work, r = std::move(r)]() mutable {
                self->reply(std::move(r), false);
                work.reset();
            });
        };
        try {
            server_->handler.handle(std::move(request), std::move(respond));
        } catch (const std::exception& e) {
            server_->log->error("A request handler failed unexpectedly: {}", e.what());
            reply(server_->handler.error(500, "The server failed to handle the request."), false);
        }
    }

    void read_failed(beast::error_code ec) {
        if (ec == bhttp::error::end_of_stream || ec == net::error::eof || ec == net::error::operation_aborted ||
            ec == net::error::connection_reset)
            return close();
        // The stream's deadline has already closed the socket: there is no one left to tell.
        if (ec == beast::error::timeout) return close();
        if (ec == bhttp::error::body_limit)
            return reply(server_->handler.error(413, "The request body is larger than this server accepts."), true);
        if (ec == bhttp::error::header_limit)
            return reply(server_->handler.error(431, "The request header is larger than this server accepts."), true);
        server_->log->debug("Malformed HTTP from {}: {}", remote_, ec.message());
        reply(server_->handler.error(400, "The request is not valid HTTP/1.1: " + ec.message() + "."), true);
    }

    void reply(Response r, bool close_after) {
        if (state_ == State::closed) return;
        state_ = State::writing;
        auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
        res->version(11);
        res->result(static_cast<unsigned>(r.status));
        res->set(bhttp::field::server, "helsebro");
        res->set(bhttp::field::date, http_date());
        for (auto& h : r.headers) res->insert(h.name, h.value);
        res->body() = std::move(r.body);
        close_after_ = close_after || r.close || !keep_alive_ || draining_;
        res->keep_alive(!close_after_);
        res->prepare_payload();
        response_ = res;
        stream_.expires_after(seconds(options().write_timeout_seconds));
        bhttp::async_write(stream_, *res, beast::bind_front_handler(&Session::on_write, shared_from_this()));
    }

    void on_write(beast::error_code ec, std::size_t) {
        response_.reset();
        keep_alive_ = true;
        if (ec) return close();
        if (close_after_) return linger_close();
        read_head();
    }

    // Closing with unread request bytes makes the kernel send a reset, which can destroy our
    // answer (a 413, a 401) before the client reads it. So: stop sending, read and discard
    // for a moment, then close.
    void linger_close() {
        if (state_ == State::closed) return;
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        if (ec) return close();
        stream_.expires_after(linger_time);
        discard_ = std::make_shared<std::array<char, 16384>>();
        discard_input();
    }

    void discard_input() {
        stream_.async_read_some(net::buffer(*discard_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec) return self->close();
            self->discard_input();
        });
    }

    void close() {
        if (state_ == State::closed) return;
        state_ = State::closed;
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream_.socket().close(ec);
    }

    beast::tcp_stream stream_;
    std::shared_ptr<Server::Impl> server_;
    std::uint64_t id_;
    std::string remote_;
    beast::flat_buffer buffer_;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
    Request head_;
    std::shared_ptr<bhttp::response<bhttp::string_body>> response_;
    std::shared_ptr<bhttp::response<bhttp::empty_body>> continue_;
    std::shared_ptr<std::array<char, 16384>> discard_;
    State state_ = State::reading_head;
    bool keep_alive_ = true;
    bool close_after_ = false;
    bool draining_ = false;
};

void Server::Impl::accept() {
    acceptor.async_accept(net::make_strand(ioc), [self = shared_from_this()](beast::error_code ec, tcp::socket s) {
        if (self->stopping || ec == net::error::operation_aborted) return;
        if (ec) {
            // Typically out of file descriptors: retrying at once would spin and flood the log.
            self->warn_rarely("Accepting a connection failed ({}); retrying shortly.", ec.message());
            self->accept_retry.expires_after(std::chrono::milliseconds(200));
            self->accept_retry.async_wait([self](beast::error_code e) {
                if (!e && !self->stopping) self->accept();
            });
            return;
        }
        std::shared_ptr<Session> session;
        {
            std::lock_guard lock(self->sessions_mutex);
            if (self->sessions.size() < self->options.max_connections) {
                auto id = self->next_session++;
                session = std::make_shared<Session>(std::move(s), self, id);
                self->sessions.emplace(id, session);
            }
        }
        if (session) {
            session->start();
        } else {
            self->warn_rarely("Refused a connection: {} are open, the limit (http.max_connections).",
                              self->options.max_connections);
            // Best effort, so a proxy sees a retryable answer rather than a reset; a fresh socket's
            // send buffer takes these bytes without blocking.
            static constexpr std::string_view busy =
                "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            beast::error_code ignored;
            net::write(s, net::buffer(busy.data(), busy.size()), ignored);
            s.shutdown(tcp::socket::shutdown_both, ignored);
            s.close(ignored);
        }
        self->accept();
    });
}

void Server::Impl::wait_for_signal() {
    signals.async_wait([self = shared_from_this()](beast::error_code ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
            self->log->info("Received SIGHUP: reloading.");
            if (self->options.on_reload) self->options.on_reload();
            return self->wait_for_signal();
        }
        const char* name = sig == SIGTERM ? "SIGTERM" : "SIGINT";
        if (self->stopping) return self->force_stop(name);  // a second signal: stop now
        self->log->info("Received {}.", name);
        self->begin_stop();
        self->wait_for_signal();
    });
}

void Server::Impl::force_stop(const char* why) {
    std::vector<std::shared_ptr<Session>> left;
    {
        std::lock_guard lock(sessions_mutex);
        for (auto& [id, w] : sessions)
            if (auto s = w.lock()) left.push_back(std::move(s));
    }
    log->warn("{}: closing {} connection(s) with requests unanswered; their senders will retry.", why, left.size());
    forced = true;
    for (auto& s : left) s->force_close();
    // A request whose answer never comes must not keep the process alive.
    ioc.stop();
}

void Server::Impl::begin_stop() {
    if (stopping.exchange(true)) return;
    log->info("Stopping: no new connections; finishing requests in flight (up to {} s).",
              options.shutdown_grace_seconds);
    if (options.on_stopping) options.on_stopping();
    beast::error_code ec;
    acceptor.close(ec);
    accept_retry.cancel();
    std::vector<std::shared_ptr<Session>> live;
    {
        std::lock_guard lock(sessions_mutex);
        for (auto& [id, w] : sessions)
            if (auto s = w.lock()) live.push_back(std::move(s));
    }
    for (auto& s : live) s->drain();
    grace.expires_after(seconds(options.shutdown_grace_seconds));
    grace.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (ec) {  // every session ended in time
            beast::error_code ignored;
            self->signals.cancel(ignored);
            return;
        }
        self->force_stop("The grace period is over");
    });
    session_ended(static_cast<std::uint64_t>(-1));
}

void Server::Impl::session_ended(std::uint64_t id) {
    bool none_left;
    {
        std::lock_guard lock(sessions_mutex);
        sessions.erase(id);
        none_left = sessions.empty();
    }
    if (none_left && stopping) net::post(strand, [self = shared_from_this()] { self->grace.cancel(); });
}

Server::Server(ServerOptions options, Handler& handler)
    : impl_(std::make_shared<Impl>(std::move(options), handler)) {}

Server::~Server() = default;

void Server::listen() {
    auto& d = *impl_;
    // Signals are ours before anyone is told we are ready, or an early SIGTERM would kill us.
    d.signals.add(SIGTERM);
    d.signals.add(SIGINT);
    if (d.options.on_reload) d.signals.add(SIGHUP);
    d.wait_for_signal();
    beast::error_code ec;
    auto address = net::ip::make_address(d.options.host, ec);
    if (ec) {
        // A host name such as "localhost": listen on the first address it resolves to.
        tcp::resolver resolver(d.ioc);
        auto results = resolver.resolve(d.options.host, std::to_string(d.options.port));
        address = results.begin()->endpoint().address();
    }
    tcp::endpoint ep(address, d.options.port);
    d.acceptor.open(ep.protocol());
    d.acceptor.set_option(net::socket_base::reuse_address(true));
    if (address.is_v6()) d.acceptor.set_option(net::ip::v6_only(true));
    d.acceptor.bind(ep);
    d.acceptor.listen(net::socket_base::max_listen_connections);
}

std::uint16_t Server::port() const { return impl_->acceptor.local_endpoint().port(); }

std::string Server::address() const {
    auto ep = impl_->acceptor.local_endpoint();
    auto host = ep.address().to_string();
    if (ep.address().is_v6()) host = "[" + host + "]";
    return host + ":" + std::to_string(ep.port());
}

bool Server::run() {
    auto& d = *impl_;
    d.accept();
    unsigned n = d.options.threads ? d.options.threads : std::max(1u, std::thread::hardware_concurrency());
    auto serve = [&d] {
        // A handler that throws must not end the process: log it and keep serving.
        for (;;) {
            try {
                d.ioc.run();
                return;
            } catch (const std::exception& e) {
                d.log->error("An HTTP handler failed unexpectedly: {}", e.what());
            }
        }
    };
    std::vector<std::thread> threads;
    for (unsigned i = 1; i < n; ++i)
        threads.emplace_back([serve] {
            pthread_setname_np(pthread_self(), "hb-http");
            serve();
        });
    serve();
    for (auto& t : threads) t.join();
    return !d.forced;
}

void Server::stop() {
    net::post(impl_->strand, [impl = impl_] { impl->begin_stop(); });
}

}  // namespace helsebro::http
