#pragma once
// A deliberately small, misbehaviour-capable HTTP/1.1 server on raw POSIX
// sockets, used by support_self_test and support_fake_daemon to exercise the
// harness without the real daemon. Not for production; header-only so both
// executables share it without dragging Beast into either.

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace helsebro::testing {

struct TinyRequest {
    std::string method, target, body;
    std::map<std::string, std::string> headers;  // lower-case names
    std::size_t connection = 0;                  // 0-based accept order
    std::size_t index_on_connection = 0;         // 0-based request number on that connection
};

struct TinyReply {
    enum class Action {
        respond,               // answer, keep the connection open
        respond_then_close,    // answer (without "Connection: close"), then close: an idle-timeout look-alike
        close_without_answer,  // drop the connection after reading the request
        never_answer,          // read the request and go silent
    };
    Action action = Action::respond;
    int status = 200;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

class TinyHttpServer {
public:
    using Handler = std::function<TinyReply(const TinyRequest&)>;

    // Requests whose Content-Length exceeds max_body get 413 right after the
    // headers, without reading the body (like a real server protecting itself).
    explicit TinyHttpServer(Handler handler, std::size_t max_body = 1 << 20)
        : handler_(std::move(handler)), max_body_(max_body) {
        listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (listen_fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket");
        int one = 1;
        ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        socklen_t len = sizeof addr;
        if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 64) != 0 ||
            ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
            int e = errno;
            ::close(listen_fd_);
            throw std::system_error(e, std::generic_category(), "bind/listen 127.0.0.1:0");
        }
        port_ = ntohs(addr.sin_port);
    }
    ~TinyHttpServer() {
        for (auto& c : conns_) ::close(c.fd);
        ::close(listen_fd_);
    }
    TinyHttpServer(const TinyHttpServer&) = delete;
    TinyHttpServer& operator=(const TinyHttpServer&) = delete;

    std::uint16_t port() const { return port_; }
    std::size_t connections_accepted() const { return accepted_.load(); }
    std::size_t requests_seen() const { return requests_.load(); }
    std::size_t open_connections() const { return open_.load(); }

    // Serves until `stop_fd` becomes readable (a pipe, eventfd or signalfd).
    void serve(int stop_fd) {
        for (;;) {
            std::vector<pollfd> fds;
            fds.push_back({stop_fd, POLLIN, 0});
            fds.push_back({listen_fd_, POLLIN, 0});
            for (auto& c : conns_) fds.push_back({c.fd, POLLIN, 0});
            if (::poll(fds.data(), fds.size(), -1) < 0) {
                if (errno == EINTR) continue;
                throw std::system_error(errno, std::generic_category(), "poll");
            }
            if (fds[0].revents) return;
            if (fds[1].revents) accept_all();
            for (std::size_t i = 0; i < conns_.size(); ++i) {
                if (fds.size() > i + 2 && fds[i + 2].revents) on_readable(conns_[i]);
            }
            std::erase_if(conns_, [](const Conn& c) {
                if (c.fd >= 0 && !c.dead) return false;
                if (c.fd >= 0) ::close(c.fd);
                return true;
            });
            open_ = conns_.size();
        }
    }

private:
    struct Conn {
        int fd = -1;
        std::size_t id = 0;
        std::size_t requests = 0;
        std::string in;
        bool silent = false;    // never answers again, just drains
        bool draining = false;  // answered with close: discard input until the peer closes (lingering close)
        bool dead = false;
    };

    void accept_all() {
        for (;;) {
            int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd < 0) return;
            int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            conns_.push_back(Conn{fd, accepted_++, 0, {}, false, false, false});
            ++open_;
        }
    }

    static std::string lower(std::string s) {
        std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        return s;
    }

    static void send_all(int fd, const std::string& data) {
        std::size_t off = 0;
        while (off < data.size()) {
            ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
            if (n > 0) {
                off += static_cast<std::size_t>(n);
            } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                pollfd p{fd, POLLOUT, 0};
                ::poll(&p, 1, 1000);
            } else {
                return;
            }
        }
    }

    static std::string reason(int status) {
        switch (status) {
            case 200: return "OK";
            case 201: return "Created";
            case 400: return "Bad Request";
            case 401: return "Unauthorized";
            case 404: return "Not Found";
            case 413: return "Content Too Large";
            default: return "Status";
        }
    }

    static std::string render(const TinyReply& r, bool close) {
        std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + reason(r.status) + "\r\n";
        for (const auto& [k, v] : r.headers) out += k + ": " + v + "\r\n";
        out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
        if (close) out += "Connection: close\r\n";
        return out + "\r\n" + r.body;
    }

    void on_readable(Conn& c) {
        char buf[65536];
        for (;;) {
            ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
            if (n > 0) {
                if (!c.silent && !c.draining) c.in.append(buf, static_cast<std::size_t>(n));
                continue;
            }
            if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                c.dead = true;
                return;
            }
            break;
        }
        while (!c.silent && !c.draining && !c.dead) {
            auto end = c.in.find("\r\n\r\n");
            if (end == std::string::npos) return;
            TinyRequest req;
            req.connection = c.id;
            req.index_on_connection = c.requests;
            std::size_t line_end = c.in.find("\r\n");
            std::string line = c.in.substr(0, line_end);
            auto sp1 = line.find(' '), sp2 = line.rfind(' ');
            if (sp1 == std::string::npos || sp2 == sp1) {
                send_all(c.fd, render({TinyReply::Action::respond, 400, "bad request line", {}}, true));
                linger_close(c);
                return;
            }
            req.method = line.substr(0, sp1);
            req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
            for (std::size_t pos = line_end + 2; pos < end;) {
                std::size_t eol = c.in.find("\r\n", pos);
                std::string h = c.in.substr(pos, eol - pos);
                if (auto colon = h.find(':'); colon != std::string::npos) {
                    std::string v = h.substr(colon + 1);
                    v.erase(0, v.find_first_not_of(' '));
                    req.headers[lower(h.substr(0, colon))] = v;
                }
                pos = eol + 2;
            }
            std::size_t length = 0;
            if (auto it = req.headers.find("content-length"); it != req.headers.end()) {
                try {
                    length = static_cast<std::size_t>(std::stoull(it->second));
                } catch (const std::exception&) {
                    length = SIZE_MAX;
                }
            }
            ++requests_;
            if (length > max_body_) {
                send_all(c.fd, render({TinyReply::Action::respond, 413, "too large", {}}, true));
                linger_close(c);
                return;
            }
            if (c.in.size() < end + 4 + length) return;  // wait for the body
            req.body = c.in.substr(end + 4, length);
            c.in.erase(0, end + 4 + length);
            ++c.requests;
            TinyReply reply = handler_(req);
            switch (reply.action) {
                case TinyReply::Action::respond: send_all(c.fd, render(reply, false)); break;
                case TinyReply::Action::respond_then_close:
                    send_all(c.fd, render(reply, false));
                    c.dead = true;
                    break;
                case TinyReply::Action::close_without_answer: c.dead = true; break;
                case TinyReply::Action::never_answer: c.silent = true; break;
            }
        }
    }

    // Half-close and keep draining so the kernel does not answer the unread
    // request body with a RST that could destroy our response in flight.
    static void linger_close(Conn& c) {
        ::shutdown(c.fd, SHUT_WR);
        c.draining = true;
        c.in.clear();
    }

    Handler handler_;
    std::size_t max_body_;
    int listen_fd_ = -1;
    std::uint16_t port_ = 0;
    std::vector<Conn> conns_;
    std::atomic<std::size_t> accepted_{0};
    std::atomic<std::size_t> requests_{0};
    std::atomic<std::size_t> open_{0};
};

}  // namespace helsebro::testing
