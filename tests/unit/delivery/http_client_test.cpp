// The delivery HTTP client against a real server on 127.0.0.1: a blocking Beast server with a
// thread per connection, plain or TLS, that counts connections and requests so the tests can see
// keep-alive, reconnects and the connection limit from the server's side.
#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <sys/socket.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "adapter/delivery/http_client.hpp"

namespace helsebro::delivery {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace fs = std::filesystem;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

// ---- certificates, made once per run ----

struct Certs {
    fs::path dir;
    std::string file(const char* name) const { return (dir / name).string(); }

    Certs() {
        std::string tmpl = (fs::temp_directory_path() / "helsebro-delivery-XXXXXX").string();
        dir = ::mkdtemp(tmpl.data());
        make_ca("ca");
        make_ca("other_ca");
        sign("server", "ca", "DNS:localhost,IP:127.0.0.1");
        sign("untrusted", "other_ca", "DNS:localhost,IP:127.0.0.1");
        sign("wrong_name", "ca", "DNS:elsewhere.example");
        sign("client", "ca", "DNS:helsebro.client");
    }
    ~Certs() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }

    void run(const std::string& args) const {
        std::string cmd = "cd '" + dir.string() + "' && " HELSEBRO_OPENSSL_COMMAND " " + args + " >/dev/null 2>&1";
        if (std::system(cmd.c_str()) != 0) throw std::runtime_error("openssl failed: " + args);
    }
    void make_ca(const std::string& name) const {
        run("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + name + ".key -out " +
            name + ".crt -days 2 -subj /CN=" + name);
    }
    void sign(const std::string& name, const std::string& ca, const std::string& san) const {
        run("req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + name + ".key -out " + name +
            ".csr -subj /CN=" + name);
        std::ofstream(dir / (name + ".ext")) << "subjectAltName=" << san << "\n";
        run("x509 -req -in " + name + ".csr -CA " + ca + ".crt -CAkey " + ca + ".key -CAcreateserial -out " + name +
            ".crt -days 2 -extfile " + name + ".ext");
    }
};

const Certs& certs() {
    static Certs c;
    return c;
}

// ---- the test server ----

enum class Action { respond, respond_then_close, close_without_answer, hang };

struct Reply {
    int status = 200;
    std::string body;
    std::vector<http::Header> headers;
    Action action = Action::respond;
};

using Request = bhttp::request<bhttp::string_body>;
using Behaviour = std::function<Reply(const Request&)>;

struct ServerTls {
    std::string cert;  // base name in certs(): "server", "untrusted", ...
    bool require_client_cert = false;
};

class TestServer {
public:
    explicit TestServer(Behaviour behaviour, std::optional<ServerTls> tls = {})
        : behaviour_(std::move(behaviour)) {
        if (tls) tls_ = make_context(*tls);
        acceptor_.open(tcp::v4());
        acceptor_.bind({net::ip::make_address("127.0.0.1"), 0});
        acceptor_.listen();
        accept_thread_ = std::thread([this] { accept_loop(); });
    }

    ~TestServer() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
            // shutdown(2) wakes the threads blocked in accept and read; closing stays with them.
            ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
            for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
        }
        accept_thread_.join();
        for (auto& t : connection_threads_) t.join();
    }

    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

    int accepted() { return read([this] { return accepted_; }); }
    int requests() { return read([this] { return requests_; }); }
    int ended() { return read([this] { return ended_; }); }
    int max_concurrent() { return read([this] { return max_concurrent_; }); }
    Request last_request() { return read([this] { return last_request_; }); }

    // Waits for a condition on the counters, for at most `limit`.
    bool wait_until(const std::function<bool(TestServer&)>& done, std::chrono::milliseconds limit = 5s) {
        auto deadline = std::chrono::steady_clock::now() + limit;
        std::unique_lock lock(mutex_);
        for (;;) {
            // Counters change before generation_ moves, so a change after this read is not missed.
            auto seen = generation_;
            lock.unlock();
            if (done(*this)) return true;
            lock.lock();
            if (!changed_.wait_until(lock, deadline, [&] { return generation_ != seen; })) return false;
        }
    }

private:
    template <class F>
    auto read(F f) -> decltype(f()) {
        std::lock_guard lock(counter_mutex_);
        return f();
    }

    template <class F>
    void update(F f) {
        {
            std::lock_guard lock(counter_mutex_);
            f();
        }
        std::lock_guard lock(mutex_);
        ++generation_;
        changed_.notify_all();
    }

    static std::unique_ptr<ssl::context> make_context(const ServerTls& t) {
        auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
        ctx->use_certificate_chain_file(certs().file((t.cert + ".crt").c_str()));
        ctx->use_private_key_file(certs().file((t.cert + ".key").c_str()), ssl::context::pem);
        if (t.require_client_cert) {
            ctx->load_verify_file(certs().file("ca.crt"));
            ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
        }
        return ctx;
    }

    void accept_loop() {
        for (;;) {
            beast::error_code ec;
            tcp::socket s(ioc_);
            acceptor_.accept(s, ec);
            std::lock_guard lock(mutex_);
            if (ec || stopping_) return;
            fds_.insert(s.native_handle());
            {
                std::lock_guard counters(counter_mutex_);
                ++accepted_;
                max_concurrent_ = std::max(max_concurrent_, ++concurrent_);
            }
            ++generation_;
            changed_.notify_all();
            connection_threads_.emplace_back([this, s = std::move(s)]() mutable { serve(std::move(s)); });
        }
    }

    void serve(tcp::socket s) {
        int fd = s.native_handle();
        if (tls_) {
            ssl::stream<tcp::socket&> stream(s, *tls_);
            beast::error_code ec;
            stream.handshake(ssl::stream_base::server, ec);
            if (!ec)
                exchange(stream);
            else
                drain(s);  // let the client read our alert before a reset could destroy it
        } else {
            exchange(s);
        }
        {
            std::lock_guard lock(mutex_);
            fds_.erase(fd);
            beast::error_code ec;
            s.close(ec);
        }
        update([this] {
            --concurrent_;
            ++ended_;
        });
    }

    static void drain(tcp::socket& s) {
        beast::error_code ec;
        s.shutdown(tcp::socket::shutdown_send, ec);
        char buf[512];
        while (!ec) s.read_some(net::buffer(buf), ec);
    }

    template <class Stream>
    void exchange(Stream& stream) {
        beast::flat_buffer buffer;
        for (;;) {
            Request req;
            beast::error_code ec;
            bhttp::read(stream, buffer, req, ec);
            if (ec) return;
            update([&] {
                ++requests_;
                last_request_ = req;
            });
            Reply r = behaviour_(req);
            if (r.action == Action::hang) continue;  // the next read ends when the client gives up
            if (r.action == Action::close_without_answer) return;
            bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), 11};
            for (auto& h : r.headers) res.set(h.name, h.value);
            res.body() = r.body;
            res.keep_alive(true);  // even when about to close: the client must notice by itself
            res.prepare_payload();
            bhttp::write(stream, res, ec);
            if (ec || r.action == Action::respond_then_close) return;
        }
    }

    Behaviour behaviour_;
    std::unique_ptr<ssl::context> tls_;
    net::io_context ioc_;
    tcp::acceptor acceptor_{ioc_};
    std::thread accept_thread_;
    std::vector<std::thread> connection_threads_;  // under mutex_
    std::set<int> fds_;                            // under mutex_
    bool stopping_ = false;                        // under mutex_
    std::uint64_t generation_ = 0;                 // under mutex_: counts counter changes
    std::mutex mutex_;
    std::condition_variable changed_;
    std::mutex counter_mutex_;
    int accepted_ = 0, requests_ = 0, ended_ = 0, concurrent_ = 0, max_concurrent_ = 0;
    Request last_request_;
};

Reply ok_reply(const Request&) { return {200, "{}", {{"Content-Type", "application/fhir+json"}}}; }

// ---- client helpers ----

ClientOptions options() {
    ClientOptions o;
    o.recipient_id = "test";
    o.timeout = 5s;
    o.tls.ca_file = certs().file("ca.crt");
    return o;
}

Endpoint endpoint(const TestServer& server, bool tls = false, std::string host = "127.0.0.1") {
    return Endpoint{tls, std::move(host), server.port(), "/fhir"};
}

// Posts and waits for the callback (bounded: a lost callback fails the test, not the run).
Result post(Client& client, std::string body = "{\"resourceType\":\"Bundle\"}") {
    auto promise = std::make_shared<std::promise<Result>>();
    auto future = promise->get_future();
    client.post("Bundle", {{"Content-Type", "application/fhir+json"}}, std::move(body),
                [promise](Result r) { promise->set_value(std::move(r)); });
    if (future.wait_for(20s) != std::future_status::ready) {
        ADD_FAILURE() << "no callback within 20 s";
        return Result{Failure::cancelled, "lost", 0, {}, {}, {}};
    }
    return future.get();
}

// ---- plain HTTP ----

TEST(HttpClient, PostsAndReturnsStatusHeadersAndBody) {
    TestServer server([](const Request& req) {
        Reply r{201, "echo:" + req.body(), {{"Content-Type", "application/fhir+json"}, {"Retry-After", "7"}}};
        return r;
    });
    auto o = options();
    o.default_headers = {{"Authorization", "Bearer secret-token"}};
    Client client(endpoint(server), o);

    auto r = post(client, "hello");
    ASSERT_TRUE(r.ok()) << to_string(r.failure) << ": " << r.detail;
    EXPECT_EQ(r.status, 201);
    EXPECT_EQ(r.body, "echo:hello");
    EXPECT_EQ(r.header("content-type"), "application/fhir+json");
    EXPECT_EQ(r.header("Retry-After"), "7");

    auto req = server.last_request();
    EXPECT_EQ(req.method(), bhttp::verb::post);
    EXPECT_EQ(req.target(), "/fhir/Bundle");
    EXPECT_EQ(req[bhttp::field::authorization], "Bearer secret-token");
    EXPECT_EQ(req[bhttp::field::content_type], "application/fhir+json");
    EXPECT_EQ(req[bhttp::field::host], "127.0.0.1:" + std::to_string(server.port()));
}

TEST(HttpClient, ReusesOneConnectionForSequentialRequests) {
    TestServer server(ok_reply);
    Client client(endpoint(server), options());
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(post(client).ok());
    EXPECT_EQ(server.requests(), 5);
    EXPECT_EQ(server.accepted(), 1);
}

TEST(HttpClient, ReconnectsWhenTheServerClosedAnIdleConnection) {
    TestServer server([](const Request&) {
        Reply r{200, "{}", {}, Action::respond_then_close};
        return r;
    });
    Client client(endpoint(server), options());
    ASSERT_TRUE(post(client).ok());
    ASSERT_TRUE(server.wait_until([](TestServer& s) { return s.ended() == 1; }));

    auto second = post(client);
    ASSERT_TRUE(second.ok()) << to_string(second.failure) << ": " << second.detail;
    EXPECT_EQ(server.accepted(), 2);
}

TEST(HttpClient, ReportsAConnectionBrokenMidRequestWithoutRetrying) {
    TestServer server([](const Request&) { return Reply{200, "", {}, Action::close_without_answer}; });
    Client client(endpoint(server), options());
    auto r = post(client);
    EXPECT_EQ(r.failure, Failure::connection_closed) << r.detail;
    EXPECT_EQ(server.requests(), 1);
    EXPECT_EQ(server.accepted(), 1);
}

TEST(HttpClient, TimesOutWhenTheServerNeverAnswers) {
    TestServer server([](const Request&) { return Reply{200, "", {}, Action::hang}; });
    auto o = options();
    o.timeout = 300ms;
    Client client(endpoint(server), o);
    auto r = post(client);
    EXPECT_EQ(r.failure, Failure::timeout) << r.detail;
    EXPECT_GE(r.elapsed, 250ms);
    EXPECT_LT(r.elapsed, 3s);
}

TEST(HttpClient, ReportsConnectFailedWhenNothingListens) {
    std::uint16_t port;
    {
        net::io_context ioc;
        tcp::acceptor a(ioc, {net::ip::make_address("127.0.0.1"), 0});
        port = a.local_endpoint().port();
    }  // closed: connecting to it is refused
    Client client(Endpoint{false, "127.0.0.1", port, ""}, options());
    auto r = post(client);
    EXPECT_EQ(r.failure, Failure::connect_failed) << r.detail;
}

TEST(HttpClient, RefusesAResponseLargerThanTheLimit) {
    TestServer server([](const Request&) { return Reply{200, std::string(5000, 'x'), {}}; });
    auto o = options();
    o.max_response_bytes = 1000;
    Client client(endpoint(server), o);
    auto r = post(client);
    EXPECT_EQ(r.failure, Failure::too_large) << r.detail;
    EXPECT_TRUE(r.body.empty());
}

TEST(HttpClient, NeverOpensMoreThanMaxConnections) {
    TestServer server(ok_reply);
    auto o = options();
    o.max_connections = 3;
    o.timeout = 10s;
    Client client(endpoint(server), o);

    std::mutex m;
    std::condition_variable cv;
    int done = 0, ok = 0;
    std::vector<std::thread> submitters;
    for (int t = 0; t < 4; ++t)
        submitters.emplace_back([&] {
            for (int i = 0; i < 5; ++i)
                client.post("Bundle", {}, "{}", [&](Result r) {
                    std::lock_guard lock(m);
                    ++done;
                    ok += r.ok();
                    cv.notify_all();
                });
        });
    for (auto& t : submitters) t.join();
    std::unique_lock lock(m);
    ASSERT_TRUE(cv.wait_for(lock, 20s, [&] { return done == 20; }));
    EXPECT_EQ(ok, 20);
    EXPECT_EQ(server.requests(), 20);
    EXPECT_LE(server.accepted(), 3);
    EXPECT_LE(server.max_concurrent(), 3);
}

TEST(HttpClient, ShutdownCancelsRequestsInFlightAndLaterOnes) {
    TestServer server([](const Request&) { return Reply{200, "", {}, Action::hang}; });
    Client client(endpoint(server), options());
    auto promise = std::make_shared<std::promise<Result>>();
    auto future = promise->get_future();
    client.post("Bundle", {}, "{}", [promise](Result r) { promise->set_value(std::move(r)); });
    ASSERT_TRUE(server.wait_until([](TestServer& s) { return s.requests() == 1; }));
    client.shutdown();
    ASSERT_EQ(future.wait_for(0s), std::future_status::ready);
    EXPECT_EQ(future.get().failure, Failure::cancelled);
    EXPECT_EQ(post(client).failure, Failure::cancelled);
}

// ---- TLS ----

TEST(HttpClientTls, SucceedsWithTheTrustedCaByAddress) {
    TestServer server(ok_reply, ServerTls{"server"});
    Client client(endpoint(server, true), options());
    auto r = post(client);
    ASSERT_TRUE(r.ok()) << to_string(r.failure) << ": " << r.detail;
    EXPECT_EQ(post(client).status, 200);
    EXPECT_EQ(server.accepted(), 1);  // keep-alive over TLS too
}

TEST(HttpClientTls, SucceedsWithTheTrustedCaByName) {
    TestServer server(ok_reply, ServerTls{"server"});
    Client client(endpoint(server, true, "localhost"), options());
    auto r = post(client);
    ASSERT_TRUE(r.ok()) << to_string(r.failure) << ": " << r.detail;
}

TEST(HttpClientTls, FailsWithAnUntrustedCertificate) {
    TestServer server(ok_reply, ServerTls{"untrusted"});
    Client client(endpoint(server, true), options());
    auto r = post(client);
    EXPECT_EQ(r.failure, Failure::tls_failed) << r.detail;
    EXPECT_EQ(server.requests(), 0);
}

TEST(HttpClientTls, FailsWhenTheCertificateNamesAnotherHost) {
    TestServer server(ok_reply, ServerTls{"wrong_name"});
    Client client(endpoint(server, true), options());
    auto r = post(client);
    EXPECT_EQ(r.failure, Failure::tls_failed) << r.detail;
    EXPECT_NE(r.detail.find("mismatch"), std::string::npos) << r.detail;
    EXPECT_EQ(server.requests(), 0);
}

TEST(HttpClientTls, MutualTlsSucceedsWithAClientCertificate) {
    TestServer server(ok_reply, ServerTls{"server", true});
    auto o = options();
    o.tls.client_cert_file = certs().file("client.crt");
    o.tls.client_key_file = certs().file("client.key");
    Client client(endpoint(server, true), o);
    auto r = post(client);
    ASSERT_TRUE(r.ok()) << to_string(r.failure) << ": " << r.detail;
}

TEST(HttpClientTls, MutualTlsFailsWithoutAClientCertificate) {
    TestServer server(ok_reply, ServerTls{"server", true});
    Client client(endpoint(server, true), options());
    auto r = post(client);
    EXPECT_EQ(r.failure, Failure::tls_failed) << r.detail;
    EXPECT_EQ(server.requests(), 0);
}

TEST(HttpClientTls, RefusesAMissingCaFileAtConstruction) {
    auto o = options();
    o.tls.ca_file = (certs().dir / "missing.crt").string();
    EXPECT_THROW(Client(Endpoint{true, "127.0.0.1", 443, ""}, o), std::runtime_error);
}

}  // namespace
}  // namespace helsebro::delivery
