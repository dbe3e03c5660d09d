// Tests for the recipient stand-in (recipient.hpp) over real loopback sockets:
// HttpClient where a well-behaved keep-alive client is wanted, raw POSIX
// sockets where the exact connection-level behaviour (EOF, refusal) matters.

#include "tests/support/http_client.hpp"
#include "tests/support/recipient.hpp"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace ht = helsebro::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Action = ht::RecipientReply::Action;

namespace {

// A connected socket or the errno of the failed connect.
struct Socket {
    int fd = -1;
    int error = 0;
    Socket() = default;
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    ~Socket() {
        if (fd >= 0) ::close(fd);
    }
};

std::unique_ptr<Socket> connect_to(std::uint16_t port) {
    auto s = std::make_unique<Socket>();
    s->fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    if (::connect(s->fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        s->error = errno;
        ::close(s->fd);
        s->fd = -1;
    }
    return s;
}

void send_all(const Socket& s, const std::string& bytes) {
    std::size_t off = 0;
    while (off < bytes.size()) {
        ssize_t n = ::send(s.fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
        ASSERT_GT(n, 0) << std::strerror(errno);
        off += static_cast<std::size_t>(n);
    }
}

std::string post_bytes(const std::string& target, const std::string& body, const std::string& extra_headers = {}) {
    return "POST " + target + " HTTP/1.1\r\nHost: x\r\n" + extra_headers +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

struct RawResult {
    enum Kind { response, closed, timeout } kind = timeout;  // closed: EOF or reset before a full response
    int status = 0;
    std::string head, body;
};

// Reads one response with a Content-Length body. `buf` carries bytes that
// arrived beyond it (pipelining) to the next call.
RawResult read_response(const Socket& s, std::string& buf, std::chrono::milliseconds timeout = 3s) {
    const auto deadline = Clock::now() + timeout;
    RawResult r;
    for (;;) {
        if (auto end = buf.find("\r\n\r\n"); end != std::string::npos) {
            r.head = buf.substr(0, end);
            r.status = std::stoi(r.head.substr(9, 3));
            std::size_t length = 0;
            if (auto cl = r.head.find("Content-Length: "); cl != std::string::npos)
                length = std::stoul(r.head.substr(cl + 16));
            if (buf.size() >= end + 4 + length) {
                r.body = buf.substr(end + 4, length);
                buf.erase(0, end + 4 + length);
                r.kind = RawResult::response;
                return r;
            }
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        pollfd p{s.fd, POLLIN, 0};
        if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) == 0) return r;
        char chunk[65536];
        ssize_t n = ::recv(s.fd, chunk, sizeof chunk, 0);
        if (n <= 0) {
            r.kind = RawResult::closed;
            return r;
        }
        buf.append(chunk, static_cast<std::size_t>(n));
    }
}

// True when the peer has closed (EOF or reset) within the timeout, with no byte sent first.
bool sees_close(const Socket& s, std::chrono::milliseconds timeout = 3s) {
    std::string buf;
    RawResult r = read_response(s, buf, timeout);
    return r.kind == RawResult::closed && buf.empty();
}

ht::RecipientReply reply(int status, std::string body = {}) {
    ht::RecipientReply r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

TEST(Recipient, DefaultHandlerAnswersWithAnOperationOutcome) {
    ht::Recipient recipient;
    ASSERT_TRUE(recipient.running());
    ASSERT_NE(recipient.port(), 0);
    EXPECT_EQ(recipient.base_url(), "http://127.0.0.1:" + std::to_string(recipient.port()) + "/fhir");

    ht::HttpClient client(recipient.port());
    const auto before = Clock::now();
    auto res = client.post("/fhir/$process-message", R"({"resourceType":"Bundle"})", {{"X-Trace", "abc"}});
    const auto after = Clock::now();
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.header("content-type"), "application/fhir+json");
    EXPECT_EQ(res.body,
              R"({"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"informational"}]})");

    auto got = recipient.requests();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].method, "POST");
    EXPECT_EQ(got[0].target, "/fhir/$process-message");
    EXPECT_EQ(got[0].body, R"({"resourceType":"Bundle"})");
    EXPECT_EQ(got[0].headers.at("content-type"), "application/fhir+json");
    EXPECT_EQ(got[0].headers.at("x-trace"), "abc");
    EXPECT_GE(got[0].at, before);
    EXPECT_LE(got[0].at, after);
    EXPECT_EQ(recipient.count(), 1u);
    recipient.clear();
    EXPECT_EQ(recipient.count(), 0u);
}

TEST(Recipient, UsesTheHandlersStatusHeadersAndBody) {
    ht::Recipient recipient([](const ht::ReceivedRequest& req) {
        auto r = reply(503, "busy: " + req.body);
        r.headers = {{"Retry-After", "2"}, {"Content-Type", "text/plain"}, {"X-Multi", "a"}, {"X-Multi", "b"}};
        return r;
    });
    ht::HttpClient client(recipient.port());
    auto res = client.post("/fhir/Task", "x");
    EXPECT_EQ(res.status, 503);
    EXPECT_EQ(res.header("retry-after"), "2");
    EXPECT_EQ(res.header("content-type"), "text/plain");
    EXPECT_EQ(res.header("x-multi"), "a, b");
    EXPECT_EQ(res.body, "busy: x");

    // The change applies to the next request, on the same kept-alive connection.
    recipient.set_handler([](const ht::ReceivedRequest&) { return reply(201); });
    res = client.post("/fhir/Task", "y");
    EXPECT_EQ(res.status, 201);
    EXPECT_EQ(res.body, "");
    EXPECT_EQ(res.header("content-length"), "0");

    recipient.set_handler([](const ht::ReceivedRequest&) -> ht::RecipientReply { throw std::runtime_error("boom"); });
    res = client.post("/fhir/Task", "z");
    EXPECT_EQ(res.status, 500);
    EXPECT_NE(res.body.find("boom"), std::string::npos);

    recipient.set_handler({});  // back to the default
    EXPECT_EQ(client.post("/fhir/Task", "w").status, 200);
    EXPECT_EQ(client.connections_opened(), 1u);
    EXPECT_EQ(recipient.count(), 4u);
}

// Every first request waits in the handler until all clients are inside at
// once: only a server that serves the connections concurrently passes.
TEST(Recipient, ServesConcurrentKeepAliveClients) {
    constexpr int kClients = 8, kPerClient = 10;
    std::mutex mu;
    std::condition_variable cv;
    int inside = 0;
    ht::Recipient recipient([&](const ht::ReceivedRequest& req) {
        if (req.target.ends_with("/0")) {
            std::unique_lock lock(mu);
            ++inside;
            cv.notify_all();
            if (!cv.wait_for(lock, 3s, [&] { return inside == kClients; })) return reply(500, "alone");
        }
        return reply(200, req.body);
    });

    std::vector<std::future<std::vector<std::string>>> clients;
    for (int c = 0; c < kClients; ++c) {
        clients.push_back(std::async(std::launch::async, [&, c] {
            ht::HttpClient client(recipient.port());
            std::vector<std::string> problems;
            for (int i = 0; i < kPerClient; ++i) {
                const std::string body = std::to_string(c) + ":" + std::to_string(i);
                auto res = client.post("/fhir/c" + std::to_string(c) + "/" + std::to_string(i), body);
                if (res.status != 200 || res.body != body)
                    problems.push_back(body + " -> " + std::to_string(res.status) + " " + res.body);
            }
            if (client.connections_opened() != 1)
                problems.push_back("client " + std::to_string(c) + " opened " +
                                   std::to_string(client.connections_opened()) + " connections");
            return problems;
        }));
    }
    for (auto& f : clients)
        for (const auto& p : f.get()) ADD_FAILURE() << p;

    auto got = recipient.requests();
    ASSERT_EQ(got.size(), static_cast<std::size_t>(kClients * kPerClient));
    std::map<std::size_t, std::set<std::string>> by_connection;
    for (std::size_t i = 0; i < got.size(); ++i) {
        by_connection[got[i].connection].insert(got[i].body);
        if (i > 0) {
            EXPECT_LE(got[i - 1].at, got[i].at);
        }
    }
    EXPECT_EQ(by_connection.size(), static_cast<std::size_t>(kClients));
    for (const auto& [conn, bodies] : by_connection) EXPECT_EQ(bodies.size(), static_cast<std::size_t>(kPerClient));
    EXPECT_EQ(recipient.connections_accepted(), static_cast<std::size_t>(kClients));
}

TEST(Recipient, DelaysTheAnswer) {
    ht::Recipient recipient([](const ht::ReceivedRequest&) {
        auto r = reply(202);
        r.delay = 200ms;
        return r;
    });
    ht::HttpClient client(recipient.port());
    const auto t0 = Clock::now();
    EXPECT_EQ(client.post("/fhir", "{}").status, 202);
    EXPECT_GE(Clock::now() - t0, 200ms);
    // The request is recorded on arrival, not after the delay.
    EXPECT_LE(recipient.requests().at(0).at - t0, 150ms);
}

// A slow answer on one connection does not hold up another, and stop()
// cuts the slow one short instead of waiting out its delay.
TEST(Recipient, SlowRequestBlocksNeitherOthersNorStop) {
    ht::Recipient recipient([](const ht::ReceivedRequest& req) {
        auto r = reply(200);
        if (req.target == "/slow") r.delay = 30s;
        return r;
    });
    auto slow = connect_to(recipient.port());
    ASSERT_EQ(slow->error, 0);
    send_all(*slow, post_bytes("/slow", "{}"));
    ASSERT_TRUE(recipient.wait_for([](const auto& r) { return r.size() == 1; }, 2s));

    ht::HttpClient fast(recipient.port());
    EXPECT_EQ(fast.post("/fast", "{}").status, 200);

    const auto t0 = Clock::now();
    recipient.stop();
    EXPECT_LT(Clock::now() - t0, 1s);
    EXPECT_TRUE(sees_close(*slow));
}

TEST(Recipient, CloseWithoutAnswerDropsTheConnectionButRecordsTheRequest) {
    ht::Recipient recipient([](const ht::ReceivedRequest&) {
        ht::RecipientReply r;
        r.action = Action::close_without_answer;
        r.delay = 50ms;
        return r;
    });
    auto s = connect_to(recipient.port());
    ASSERT_EQ(s->error, 0);
    send_all(*s, post_bytes("/fhir", "lost"));
    EXPECT_TRUE(sees_close(*s));
    ASSERT_EQ(recipient.count(), 1u);
    EXPECT_EQ(recipient.requests()[0].body, "lost");

    ht::HttpClient client(recipient.port());
    EXPECT_THROW(client.post("/fhir", "{}"), std::runtime_error);  // POST is not retried
    EXPECT_EQ(recipient.count(), 2u);
}

TEST(Recipient, StopRefusesAndDropsConnectionsAndStartListensAgain) {
    ht::Recipient recipient;
    const auto port = recipient.port();
    auto idle = connect_to(port);
    ASSERT_EQ(idle->error, 0);
    std::string buf;
    send_all(*idle, post_bytes("/fhir", "{}"));
    ASSERT_EQ(read_response(*idle, buf).status, 200);

    recipient.stop();
    EXPECT_FALSE(recipient.running());
    EXPECT_TRUE(sees_close(*idle));
    EXPECT_EQ(connect_to(port)->error, ECONNREFUSED);
    recipient.stop();  // idempotent

    recipient.start();
    recipient.start();  // idempotent
    EXPECT_TRUE(recipient.running());
    EXPECT_EQ(recipient.port(), port);
    ht::HttpClient client(port);
    EXPECT_EQ(client.post("/fhir", "{}").status, 200);
    EXPECT_EQ(recipient.count(), 2u);  // stop() keeps what was recorded

    // Several cycles in a row, each leaving connections behind on the server side.
    for (int i = 0; i < 3; ++i) {
        recipient.stop();
        EXPECT_EQ(connect_to(port)->error, ECONNREFUSED);
        recipient.start();
        ht::HttpClient again(port);
        EXPECT_EQ(again.post("/fhir", "{}").status, 200);
    }
}

TEST(Recipient, ListensOnAGivenPort) {
    std::uint16_t port;
    {
        ht::Recipient first;
        port = first.port();
    }
    ht::Recipient recipient({}, port);
    EXPECT_EQ(recipient.port(), port);
    EXPECT_EQ(ht::HttpClient(port).post("/fhir", "{}").status, 200);
}

TEST(Recipient, StopMayBeCalledFromAHandler) {
    ht::Recipient* self = nullptr;
    ht::Recipient recipient([&](const ht::ReceivedRequest&) {
        self->stop();
        return reply(200);
    });
    self = &recipient;
    auto s = connect_to(recipient.port());
    ASSERT_EQ(s->error, 0);
    send_all(*s, post_bytes("/fhir", "{}"));
    EXPECT_TRUE(sees_close(*s));
    EXPECT_FALSE(recipient.running());

    recipient.set_handler({});
    recipient.start();
    EXPECT_EQ(ht::HttpClient(recipient.port()).post("/fhir", "{}").status, 200);
}

TEST(Recipient, WaitForWakesOnArrivalAndTimesOut) {
    ht::Recipient recipient;
    auto t0 = Clock::now();
    EXPECT_FALSE(recipient.wait_for([](const auto& r) { return !r.empty(); }, 100ms));
    EXPECT_GE(Clock::now() - t0, 100ms);

    auto sender = std::async(std::launch::async, [&] {
        ht::HttpClient client(recipient.port());
        for (int i = 0; i < 3; ++i) {
            std::this_thread::sleep_for(20ms);  // spread the arrivals, so wait_for sees them one by one
            client.post("/fhir", std::to_string(i));
        }
    });
    EXPECT_TRUE(recipient.wait_for([](const auto& r) { return r.size() == 3 && r[2].body == "2"; }, 3s));
    sender.get();

    recipient.clear();
    EXPECT_TRUE(recipient.wait_for([](const auto& r) { return r.empty(); }, 0ms));
}

TEST(Recipient, AcceptsSixteenMebibyteBodiesAndRejectsOversized) {
    ht::Recipient recipient;
    const std::string big(16u << 20, 'x');
    ht::HttpClient client(recipient.port());
    EXPECT_EQ(client.post("/fhir", big).status, 200);
    ASSERT_EQ(recipient.count(), 1u);
    EXPECT_EQ(recipient.requests()[0].body.size(), big.size());

    auto res = ht::raw_exchange(recipient.port(),
                                "POST /fhir HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                                    std::to_string(ht::Recipient::kMaxBodyBytes + 1) + "\r\n\r\n",
                                2000ms);
    EXPECT_EQ(res.status, 413);
    EXPECT_EQ(recipient.count(), 1u);
}

TEST(Recipient, HandlesPipeliningExpectContinueAndConnectionClose) {
    ht::Recipient recipient([](const ht::ReceivedRequest& req) { return reply(200, req.body); });
    auto s = connect_to(recipient.port());
    ASSERT_EQ(s->error, 0);
    std::string buf;
    send_all(*s, post_bytes("/a", "one") + post_bytes("/b", "two"));
    EXPECT_EQ(read_response(*s, buf).body, "one");
    EXPECT_EQ(read_response(*s, buf).body, "two");

    send_all(*s, "POST /c HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    auto interim = read_response(*s, buf);
    EXPECT_EQ(interim.status, 100);
    send_all(*s, "three");
    EXPECT_EQ(read_response(*s, buf).body, "three");

    send_all(*s, post_bytes("/d", "four", "Connection: close\r\n"));
    auto last = read_response(*s, buf);
    EXPECT_EQ(last.body, "four");
    EXPECT_NE(last.head.find("Connection: close"), std::string::npos);
    EXPECT_TRUE(sees_close(*s));
    EXPECT_EQ(recipient.count(), 4u);
}

TEST(Recipient, AnswersGarbageWith400AndSurvives) {
    ht::Recipient recipient;
    auto res = ht::raw_exchange(recipient.port(), "NOT HTTP\r\n\r\n", 2000ms);
    EXPECT_EQ(res.status, 400);
    EXPECT_EQ(recipient.count(), 0u);
    EXPECT_EQ(ht::HttpClient(recipient.port()).post("/fhir", "{}").status, 200);
}

}  // namespace
