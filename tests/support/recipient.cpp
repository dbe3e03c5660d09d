#include "tests/support/recipient.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <list>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace helsebro::testing {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

constexpr std::uint32_t kHeaderLimit = 64 * 1024;
constexpr std::chrono::milliseconds kWaitPoll{50};

const char* const kDefaultBody =
    R"({"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"informational"}]})";

RecipientReply default_reply(const ReceivedRequest&) {
    RecipientReply r;
    r.body = kDefaultBody;
    r.headers = {{"Content-Type", "application/fhir+json"}};
    return r;
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

// Beast's sync read/write over a plain blocking descriptor. A raw fd rather
// than an asio socket because stop() shuts the descriptor down from another
// thread to wake a blocked recv(), which asio does not promise is safe on
// its socket objects.
class FdStream {
public:
    explicit FdStream(int fd) : fd_(fd) {}

    template <class MutableBuffers>
    std::size_t read_some(const MutableBuffers& buffers, beast::error_code& ec) {
        ec = {};
        for (auto it = net::buffer_sequence_begin(buffers); it != net::buffer_sequence_end(buffers); ++it) {
            net::mutable_buffer b = *it;
            if (b.size() == 0) continue;
            for (;;) {
                ssize_t n = ::recv(fd_, b.data(), b.size(), 0);
                if (n > 0) return static_cast<std::size_t>(n);
                if (n == 0) {
                    ec = net::error::eof;
                    return 0;
                }
                if (errno != EINTR) {
                    ec.assign(errno, boost::system::system_category());
                    return 0;
                }
            }
        }
        return 0;
    }
    template <class MutableBuffers>
    std::size_t read_some(const MutableBuffers& buffers) {
        beast::error_code ec;
        std::size_t n = read_some(buffers, ec);
        if (ec) throw boost::system::system_error(ec);
        return n;
    }

    template <class ConstBuffers>
    std::size_t write_some(const ConstBuffers& buffers, beast::error_code& ec) {
        ec = {};
        iovec iov[16];
        std::size_t count = 0;
        for (auto it = net::buffer_sequence_begin(buffers);
             it != net::buffer_sequence_end(buffers) && count < std::size(iov); ++it) {
            net::const_buffer b = *it;
            if (b.size() == 0) continue;
            iov[count++] = {const_cast<void*>(b.data()), b.size()};
        }
        if (count == 0) return 0;
        msghdr msg{};
        msg.msg_iov = iov;
        msg.msg_iovlen = count;
        for (;;) {
            // MSG_NOSIGNAL: a peer that hung up must not SIGPIPE the whole test binary.
            ssize_t n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
            if (n >= 0) return static_cast<std::size_t>(n);
            if (errno != EINTR) {
                ec.assign(errno, boost::system::system_category());
                return 0;
            }
        }
    }
    template <class ConstBuffers>
    std::size_t write_some(const ConstBuffers& buffers) {
        beast::error_code ec;
        std::size_t n = write_some(buffers, ec);
        if (ec) throw boost::system::system_error(ec);
        return n;
    }

private:
    int fd_;
};

[[noreturn]] void throw_errno(const std::string& what) { throw std::system_error(errno, std::generic_category(), what); }

int listen_on(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) throw_errno("Recipient: socket");
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 128) != 0) {
        int e = errno;
        ::close(fd);
        throw std::system_error(e, std::generic_category(), "Recipient: listen on 127.0.0.1:" + std::to_string(port));
    }
    return fd;
}

std::uint16_t bound_port(int fd) {
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) throw_errno("Recipient: getsockname");
    return ntohs(addr.sin_port);
}

// Errors the peer caused by sending something we refuse: worth an answer.
// Everything else (EOF, reset, our own shutdown) just ends the connection.
int status_for_parse_error(const beast::error_code& ec) {
    if (ec.category() != http::make_error_code(http::error::bad_target).category()) return 0;
    if (ec == http::error::end_of_stream || ec == http::error::partial_message) return 0;
    if (ec == http::error::body_limit) return 413;
    if (ec == http::error::header_limit) return 431;
    return 400;
}

ReceivedRequest to_received(http::request<http::string_body>& msg, std::size_t connection) {
    ReceivedRequest r;
    r.method = std::string(msg.method_string());
    r.target = std::string(msg.target());
    for (const auto& field : msg) {
        auto [it, inserted] = r.headers.try_emplace(lower(std::string(field.name_string())), std::string(field.value()));
        if (!inserted) it->second += ", " + std::string(field.value());
    }
    r.body = std::move(msg.body());
    r.connection = connection;
    return r;
}

http::response<http::string_body> to_response(const RecipientReply& reply, bool request_keep_alive) {
    http::response<http::string_body> res;
    res.version(11);
    res.result(static_cast<unsigned>(reply.status));
    for (const auto& [name, value] : reply.headers) {
        const std::string n = lower(name);
        if (n == "content-length" || n == "transfer-encoding") continue;  // framing is ours to get right
        res.insert(name, value);
    }
    res.body() = reply.body;
    res.prepare_payload();
    if (!request_keep_alive) res.keep_alive(false);
    return res;
}

}  // namespace

struct Recipient::Impl {
    struct Conn {
        int fd = -1;            // closed, and set to -1, only under mu
        std::size_t id = 0;
        bool dropped = false;   // stop() shut the socket down: give no further answers
        bool done = false;      // the thread is about to return: join() will not block
        std::thread thread;
    };
    using ConnList = std::list<std::shared_ptr<Conn>>;

    std::uint16_t port = 0;
    int wake_fd = -1;  // eventfd: tells the accept thread to return

    // Serialises start()/stop(). The accept thread never takes it, and nobody
    // holds it while joining a connection thread, so a handler may call stop().
    std::mutex lifecycle;
    int listen_fd = -1;
    std::thread acceptor;

    mutable std::mutex mu;
    // Signals new requests, clear(), and stop() to waiting delays.
    mutable std::condition_variable cv;
    std::shared_ptr<const Handler> handler;
    std::vector<ReceivedRequest> received;
    std::uint64_t clears = 0;  // lets wait_for() copy only what is new since its last look
    ConnList conns;
    std::size_t accepted = 0;
    bool listening = false;

    static void join_all(ConnList& list) {
        for (auto& c : list)
            if (c->thread.joinable()) c->thread.join();
        list.clear();
    }

    void reap_finished() {
        ConnList finished;
        {
            std::lock_guard lock(mu);
            for (auto it = conns.begin(); it != conns.end();) {
                auto next = std::next(it);
                if ((*it)->done) finished.splice(finished.end(), conns, it);
                it = next;
            }
        }
        join_all(finished);
    }

    void accept_loop(int fd) {
        for (;;) {
            pollfd fds[2] = {{fd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
            if (::poll(fds, 2, -1) < 0) {
                if (errno == EINTR) continue;
                return;
            }
            if (fds[1].revents) {
                std::uint64_t ignored;
                [[maybe_unused]] auto n = ::read(wake_fd, &ignored, sizeof ignored);
                return;
            }
            for (;;) {
                // Without SOCK_NONBLOCK the accepted socket is blocking on Linux whatever the listener is.
                int c = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
                if (c >= 0) {
                    spawn(c);
                    continue;
                }
                if (errno == EINTR || errno == ECONNABORTED) continue;
                // EMFILE and the like would spin the poll loop; back off instead.
                if (errno != EAGAIN && errno != EWOULDBLOCK) std::this_thread::sleep_for(std::chrono::milliseconds(10));
                break;
            }
            reap_finished();
        }
    }

    void spawn(int fd) {
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        auto conn = std::make_shared<Conn>();
        conn->fd = fd;
        std::lock_guard lock(mu);
        conn->id = accepted++;
        conns.push_back(conn);
        try {
            conn->thread = std::thread([this, conn] { serve(conn); });
        } catch (const std::system_error&) {
            // Out of threads: the client sees its connection closed, as with any overloaded server.
            conns.pop_back();
            ::close(fd);
        }
    }

    void serve(const std::shared_ptr<Conn>& conn) {
        try {
            serve_requests(*conn);
        } catch (...) {
            // A thread must not let an exception escape; the connection just ends.
        }
        std::lock_guard lock(mu);
        ::close(conn->fd);
        conn->fd = -1;
        conn->done = true;
    }

    void serve_requests(Conn& conn) {
        FdStream stream(conn.fd);
        beast::flat_buffer buffer;
        for (;;) {
            http::request_parser<http::string_body> parser;
            parser.header_limit(kHeaderLimit);
            parser.body_limit(kMaxBodyBytes);
            beast::error_code ec;
            http::read_header(stream, buffer, parser, ec);
            if (!ec && beast::iequals(parser.get()[http::field::expect], "100-continue")) {
                static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
                net::write(stream, net::buffer(kContinue, sizeof kContinue - 1), ec);
            }
            if (!ec) http::read(stream, buffer, parser, ec);
            if (ec) {
                if (int status = status_for_parse_error(ec)) {
                    RecipientReply reply;
                    reply.status = status;
                    auto res = to_response(reply, false);
                    http::write(stream, res, ec);
                }
                return;
            }
            const bool keep_alive = parser.get().keep_alive();
            ReceivedRequest request = to_received(parser.get(), conn.id);
            const RecipientReply reply = answer(record(std::move(request)));
            if (reply.delay.count() > 0) {
                std::unique_lock lock(mu);
                cv.wait_for(lock, reply.delay, [&] { return conn.dropped; });
            }
            {
                std::lock_guard lock(mu);
                if (conn.dropped) return;
            }
            if (reply.action == RecipientReply::Action::close_without_answer) return;
            auto res = to_response(reply, keep_alive);
            http::write(stream, res, ec);
            if (ec || !res.keep_alive()) return;
        }
    }

    // Returns the handler to answer with, taken in the same critical section
    // that records the request, so set_handler() has a clear cut-over point.
    std::pair<ReceivedRequest, std::shared_ptr<const Handler>> record(ReceivedRequest request) {
        std::lock_guard lock(mu);
        request.at = Clock::now();  // under the lock, so `at` never decreases along requests()
        received.push_back(request);
        cv.notify_all();
        return {std::move(request), handler};
    }

    static RecipientReply answer(const std::pair<ReceivedRequest, std::shared_ptr<const Handler>>& job) {
        const auto& [request, h] = job;
        try {
            return h && *h ? (*h)(request) : default_reply(request);
        } catch (const std::exception& e) {
            RecipientReply r;
            r.status = 500;
            r.body = std::string("Recipient handler threw: ") + e.what();
            r.headers = {{"Content-Type", "text/plain"}};
            return r;
        }
    }

    void start() {
        std::lock_guard life(lifecycle);
        if (acceptor.joinable()) return;
        reap_finished();  // threads of a stop() called from their own handler
        // A wake-up left over from an accept thread that had already returned would end the new one at once.
        std::uint64_t stale;
        [[maybe_unused]] auto n = ::read(wake_fd, &stale, sizeof stale);
        listen_fd = listen_on(port);
        try {
            if (port == 0) port = bound_port(listen_fd);
            {
                std::lock_guard lock(mu);
                listening = true;
            }
            acceptor = std::thread([this, fd = listen_fd] { accept_loop(fd); });
        } catch (...) {
            ::close(listen_fd);
            listen_fd = -1;
            std::lock_guard lock(mu);
            listening = false;
            throw;
        }
    }

    void stop() {
        ConnList victims;
        {
            std::lock_guard life(lifecycle);
            if (acceptor.joinable()) {
                const std::uint64_t one = 1;
                [[maybe_unused]] auto n = ::write(wake_fd, &one, sizeof one);
                acceptor.join();
                // Closed only after the accept thread is gone, and before stop() returns, so the port is
                // free for start() and a client connecting now is refused rather than left in the backlog.
                ::close(listen_fd);
                listen_fd = -1;
            }
            std::lock_guard lock(mu);
            listening = false;
            for (auto& c : conns) {
                if (c->dropped || c->fd < 0) continue;
                c->dropped = true;
                // Wakes a recv()/send() blocked on this socket and sends the peer a FIN now.
                ::shutdown(c->fd, SHUT_RDWR);
            }
            victims.splice(victims.end(), conns);
            cv.notify_all();
        }
        // stop() from a handler: that thread cannot join itself; it is already
        // marked dropped and will be joined by a later start()/stop()/destructor.
        const auto self = std::this_thread::get_id();
        for (auto it = victims.begin(); it != victims.end();) {
            auto next = std::next(it);
            if ((*it)->thread.get_id() == self) {
                std::lock_guard lock(mu);
                conns.splice(conns.end(), victims, it);
            }
            it = next;
        }
        join_all(victims);
    }
};

Recipient::Recipient(Handler handler, std::uint16_t port) : impl_(std::make_unique<Impl>()) {
    impl_->port = port;
    if (handler) impl_->handler = std::make_shared<const Handler>(std::move(handler));
    impl_->wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (impl_->wake_fd < 0) throw_errno("Recipient: eventfd");
    try {
        impl_->start();
    } catch (...) {
        ::close(impl_->wake_fd);
        throw;
    }
}

Recipient::~Recipient() {
    impl_->stop();
    Impl::ConnList rest;
    {
        std::lock_guard lock(impl_->mu);
        rest.splice(rest.end(), impl_->conns);
    }
    Impl::join_all(rest);
    ::close(impl_->wake_fd);
}

std::uint16_t Recipient::port() const { return impl_->port; }

std::string Recipient::base_url() const { return "http://127.0.0.1:" + std::to_string(impl_->port) + "/fhir"; }

void Recipient::set_handler(Handler h) {
    auto p = h ? std::make_shared<const Handler>(std::move(h)) : nullptr;
    std::lock_guard lock(impl_->mu);
    impl_->handler = std::move(p);
}

void Recipient::stop() { impl_->stop(); }

void Recipient::start() { impl_->start(); }

bool Recipient::running() const {
    std::lock_guard lock(impl_->mu);
    return impl_->listening;
}

std::vector<ReceivedRequest> Recipient::requests() const {
    std::lock_guard lock(impl_->mu);
    return impl_->received;
}

std::size_t Recipient::count() const {
    std::lock_guard lock(impl_->mu);
    return impl_->received.size();
}

void Recipient::clear() {
    std::lock_guard lock(impl_->mu);
    impl_->received.clear();
    ++impl_->clears;
    impl_->cv.notify_all();
}

std::size_t Recipient::connections_accepted() const {
    std::lock_guard lock(impl_->mu);
    return impl_->accepted;
}

bool Recipient::wait_for(const std::function<bool(const std::vector<ReceivedRequest>&)>& pred,
                         std::chrono::milliseconds timeout) const {
    const auto deadline = Clock::now() + timeout;
    std::vector<ReceivedRequest> snapshot;
    std::uint64_t clears = 0;
    std::unique_lock lock(impl_->mu);
    for (;;) {
        // Copy only the new arrivals: a full copy per wake-up would be quadratic in big bodies.
        if (clears != impl_->clears || snapshot.size() > impl_->received.size()) {
            snapshot = impl_->received;
            clears = impl_->clears;
        } else {
            snapshot.insert(snapshot.end(), impl_->received.begin() + static_cast<std::ptrdiff_t>(snapshot.size()),
                            impl_->received.end());
        }
        lock.unlock();
        if (pred(snapshot)) return true;
        const auto now = Clock::now();
        if (now >= deadline) return false;
        lock.lock();
        impl_->cv.wait_until(lock, std::min(deadline, now + kWaitPoll), [&] {
            return impl_->clears != clears || impl_->received.size() != snapshot.size();
        });
    }
}

}  // namespace helsebro::testing
