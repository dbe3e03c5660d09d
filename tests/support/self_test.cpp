// Tests for the integration-test harness itself, against a raw-socket HTTP
// server (tiny_server.hpp) and a stand-in daemon (fake_daemon.cpp), so the
// harness is trustworthy before the real daemon exists.

#include "tests/support/daemon.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/json_helpers.hpp"
#include "tests/support/store_inspector.hpp"
#include "tests/support/tiny_server.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

namespace ht = helsebro::testing;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// Polls `pred` until it holds or the deadline passes.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = Clock::now() + timeout;
    while (!pred()) {
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

// TinyHttpServer on its own thread, stopped via a pipe.
class ServerThread {
public:
    explicit ServerThread(ht::TinyHttpServer::Handler handler, std::size_t max_body = 1 << 20)
        : server(std::move(handler), max_body) {
        if (::pipe2(stop_, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
        thread_ = std::thread([this] { server.serve(stop_[0]); });
    }
    ~ServerThread() {
        (void)!::write(stop_[1], "x", 1);
        thread_.join();
        ::close(stop_[0]);
        ::close(stop_[1]);
    }
    std::uint16_t port() const { return server.port(); }

    ht::TinyHttpServer server;

private:
    int stop_[2] = {-1, -1};
    std::thread thread_;
};

// Records every request the server sees (the handler runs on the server thread).
struct Recorder {
    std::mutex mutex;
    std::vector<ht::TinyRequest> requests;
    void add(const ht::TinyRequest& r) {
        std::lock_guard lock(mutex);
        requests.push_back(r);
    }
    ht::TinyRequest at(std::size_t i) {
        std::lock_guard lock(mutex);
        return requests.at(i);
    }
};

ht::TinyReply echo(const ht::TinyRequest& r) {
    ht::TinyReply reply;
    reply.body = r.method + " " + r.target + " " + r.body;
    return reply;
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A small temp dir for tests that need files of their own.
struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = "/tmp/helsebro-selftest-XXXXXX";
        if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp");
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

void send_datagram(const fs::path& socket_path, const std::string& payload) {
    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    timeval tv{5, 0};  // the listener must drain; if it does not, fail instead of hanging
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket_path.c_str(), sizeof addr.sun_path - 1);
    ssize_t n = ::sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::close(fd);
    ASSERT_EQ(n, static_cast<ssize_t>(payload.size())) << std::strerror(errno);
}

ht::DaemonOptions fake_options(std::string mode = {}) {
    ht::DaemonOptions o;
    o.binary = HELSEBRO_FAKE_DAEMON;
    if (!mode.empty()) o.env["FAKE_DAEMON_MODE"] = std::move(mode);
    return o;
}

std::string what_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "<no exception>";
}

}  // namespace

// ---------------------------------------------------------------------------
// Notify protocol
// ---------------------------------------------------------------------------

TEST(NotifyParser, ReadyWithStatusAndExtraLines) {
    auto s = ht::parse_notify_datagram("MAINPID=42\nREADY=1\nSTATUS=listening on 127.0.0.1:45678\n");
    EXPECT_TRUE(s.ready);
    EXPECT_FALSE(s.stopping);
    EXPECT_EQ(s.status, "listening on 127.0.0.1:45678");
    ASSERT_TRUE(s.listen_port);
    EXPECT_EQ(*s.listen_port, 45678);
    EXPECT_EQ(s.fields.at("MAINPID"), "42");
}

TEST(NotifyParser, PortFromStatus) {
    EXPECT_EQ(ht::port_from_status("listening on 127.0.0.1:8080"), 8080);
    EXPECT_EQ(ht::port_from_status("listening on [::1]:65535 \n"), 65535);
    EXPECT_EQ(ht::port_from_status("listening on 127.0.0.1:0"), std::nullopt);
    EXPECT_EQ(ht::port_from_status("listening on 127.0.0.1:70000"), std::nullopt);
    EXPECT_EQ(ht::port_from_status("listening on 127.0.0.1:80x"), std::nullopt);
    EXPECT_EQ(ht::port_from_status("starting"), std::nullopt);
}

TEST(NotifyParser, StateAccumulatesAcrossDatagrams) {
    ht::NotifyState s;
    ht::apply_notify_datagram(s, "STATUS=listening on 127.0.0.1:1234");
    EXPECT_FALSE(s.ready);
    ht::apply_notify_datagram(s, "READY=1");
    EXPECT_TRUE(s.ready);
    ht::apply_notify_datagram(s, "STOPPING=1\nSTATUS=stopping\nbogus line without equals");
    EXPECT_TRUE(s.stopping);
    EXPECT_EQ(s.status, "stopping");
    EXPECT_EQ(s.listen_port, 1234);  // a later STATUS without an address does not lose the port
    EXPECT_EQ(s.datagrams.size(), 3u);
}

TEST(NotifyListener, ReceivesAndDrainsDatagrams) {
    TempDir dir;
    ht::NotifyListener listener(dir.path / "n.sock");
    EXPECT_FALSE(listener.wait_ready(10ms));
    // Far more than net.unix.max_dgram_qlen: only a draining listener lets these through.
    for (int i = 0; i < 200; ++i) send_datagram(listener.path(), "WATCHDOG=1");
    send_datagram(listener.path(), "READY=1\nSTATUS=listening on 127.0.0.1:999");
    ASSERT_TRUE(listener.wait_ready(5s));
    auto s = listener.state();
    EXPECT_EQ(s.datagrams.size(), 201u);
    EXPECT_EQ(s.listen_port, 999);
    send_datagram(listener.path(), "STOPPING=1");
    EXPECT_TRUE(listener.wait_stopping(5s));
}

TEST(NotifyListener, UnderstandsSystemdNotifyTool) {
    if (!fs::exists("/usr/bin/systemd-notify")) GTEST_SKIP() << "systemd-notify not installed";
    TempDir dir;
    ht::NotifyListener listener(dir.path / "n.sock");
    auto r = ht::run_program("/bin/sh", {"-c", "NOTIFY_SOCKET=" + listener.path().string() +
                                                   " exec /usr/bin/systemd-notify --ready"
                                                   " '--status=listening on 127.0.0.1:4321'"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_TRUE(listener.wait_ready(5s));
    EXPECT_TRUE(eventually([&] { return listener.state().listen_port == 4321; }));
}

// ---------------------------------------------------------------------------
// HttpClient
// ---------------------------------------------------------------------------

TEST(HttpClient, ReusesKeepAliveConnection) {
    ServerThread srv(echo);
    ht::HttpClient client(srv.port());
    for (int i = 0; i < 3; ++i) {
        auto r = client.get("/Patient/" + std::to_string(i));
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.body, "GET /Patient/" + std::to_string(i) + " ");
    }
    EXPECT_EQ(client.connections_opened(), 1u);
    EXPECT_EQ(srv.server.connections_accepted(), 1u);
}

TEST(HttpClient, ConvenienceMethodsSetFhirHeadersAndToken) {
    Recorder rec;
    ServerThread srv([&](const ht::TinyRequest& r) {
        rec.add(r);
        return echo(r);
    });
    ht::HttpClient client(srv.port());
    client.set_token("tok123");
    EXPECT_EQ(client.post("/Patient", R"({"resourceType":"Patient"})").status, 200);
    EXPECT_EQ(client.put("/Patient/1", "{}", {{"if-match", "W/\"1\""}, {"content-type", "application/json"}}).status,
              200);
    EXPECT_EQ(client.get("/Patient/1").status, 200);
    EXPECT_EQ(client.del("/Patient/1").status, 200);
    EXPECT_EQ(client.request("GET", "/metadata").status, 200);

    auto post = rec.at(0);
    EXPECT_EQ(post.method, "POST");
    EXPECT_EQ(post.headers.at("authorization"), "Bearer tok123");
    EXPECT_EQ(post.headers.at("content-type"), "application/fhir+json");
    EXPECT_EQ(post.headers.at("accept"), "application/fhir+json");
    EXPECT_EQ(post.headers.at("content-length"), "26");
    EXPECT_EQ(post.headers.at("host"), "127.0.0.1:" + std::to_string(srv.port()));
    EXPECT_EQ(post.body, R"({"resourceType":"Patient"})");

    auto put = rec.at(1);
    EXPECT_EQ(put.headers.at("content-type"), "application/json");  // caller overrides, case-insensitively
    EXPECT_EQ(put.headers.at("if-match"), "W/\"1\"");

    auto get = rec.at(2);
    EXPECT_EQ(get.headers.count("content-type"), 0u);
    EXPECT_EQ(get.headers.count("content-length"), 0u);
    EXPECT_EQ(rec.at(3).method, "DELETE");

    auto raw = rec.at(4);  // request() adds nothing but Host
    EXPECT_EQ(raw.headers.count("authorization"), 0u);
    EXPECT_EQ(raw.headers.count("accept"), 0u);
}

TEST(HttpClient, ResponseHeadersAreLowerCasedAndJoined) {
    ServerThread srv([](const ht::TinyRequest&) {
        ht::TinyReply r;
        r.status = 201;
        r.headers = {{"Location", "Patient/1/_history/1"}, {"X-Multi", "a"}, {"x-multi", "b"}};
        return r;
    });
    ht::HttpClient client(srv.port());
    auto r = client.post("/Patient", "{}");
    EXPECT_EQ(r.status, 201);
    EXPECT_EQ(r.header("location"), "Patient/1/_history/1");
    EXPECT_EQ(r.header("Location"), "Patient/1/_history/1");
    EXPECT_EQ(r.header("x-multi"), "a, b");
    EXPECT_EQ(r.header("absent"), "");
    EXPECT_EQ(r.headers.count("content-length"), 1u);
}

TEST(HttpClient, ReconnectsAfterServerClosedIdleConnection) {
    ServerThread srv([](const ht::TinyRequest& r) {
        auto reply = echo(r);
        reply.action = ht::TinyReply::Action::respond_then_close;
        return reply;
    });
    ht::HttpClient client(srv.port());
    EXPECT_EQ(client.get("/a").status, 200);
    // Wait until the server really closed, and use POST (never retried after
    // a send), so this exercises the stale-socket check, not the retry path.
    ASSERT_TRUE(eventually([&] { return srv.server.open_connections() == 0; }));
    EXPECT_EQ(client.post("/b", "x").body, "POST /b x");
    ASSERT_TRUE(eventually([&] { return srv.server.open_connections() == 0; }));
    EXPECT_EQ(client.post("/c", "y").body, "POST /c y");
    EXPECT_EQ(client.connections_opened(), 3u);
}

TEST(HttpClient, HonoursConnectionClose) {
    ServerThread srv([](const ht::TinyRequest& r) {
        auto reply = echo(r);
        reply.headers.push_back({"Connection", "close"});
        return reply;
    });
    ht::HttpClient client(srv.port());
    EXPECT_EQ(client.get("/a").status, 200);
    EXPECT_EQ(client.get("/b").status, 200);
    EXPECT_EQ(client.connections_opened(), 2u);
}

TEST(HttpClient, RetriesIdempotentRequestWhenReusedConnectionDrops) {
    ServerThread srv([](const ht::TinyRequest& r) {
        auto reply = echo(r);
        if (r.connection == 0 && r.index_on_connection == 1) reply.action = ht::TinyReply::Action::close_without_answer;
        return reply;
    });
    ht::HttpClient client(srv.port());
    EXPECT_EQ(client.get("/a").status, 200);
    EXPECT_EQ(client.get("/b").body, "GET /b ");
    EXPECT_EQ(client.connections_opened(), 2u);
}

TEST(HttpClient, DoesNotRetryPostThatTheServerMayHaveSeen) {
    ServerThread srv([](const ht::TinyRequest& r) {
        auto reply = echo(r);
        if (r.connection == 0 && r.index_on_connection == 1) reply.action = ht::TinyReply::Action::close_without_answer;
        return reply;
    });
    ht::HttpClient client(srv.port());
    EXPECT_EQ(client.get("/a").status, 200);
    EXPECT_THROW(client.post("/Patient", "{}"), std::runtime_error);
    EXPECT_EQ(client.get("/after").status, 200);  // usable again on a new connection
}

TEST(HttpClient, DeadlineWhenServerNeverAnswers) {
    ServerThread srv([](const ht::TinyRequest& r) {
        auto reply = echo(r);
        reply.action = ht::TinyReply::Action::never_answer;
        return reply;
    });
    ht::HttpClient client(srv.port(), "127.0.0.1", 1000ms);
    const auto t0 = Clock::now();
    auto msg = what_of([&] { client.get("/hang"); });
    const auto elapsed = Clock::now() - t0;
    EXPECT_NE(msg.find("no complete response within 1000 ms"), std::string::npos) << msg;
    EXPECT_GE(elapsed, 900ms);
    EXPECT_LT(elapsed, 5s);
}

TEST(HttpClient, LargeResponseBody) {
    const std::string big(12 * 1024 * 1024, 'x');  // above Beast's 8 MB default limit
    ServerThread srv([&](const ht::TinyRequest&) {
        ht::TinyReply r;
        r.body = big;
        return r;
    });
    ht::HttpClient client(srv.port());
    EXPECT_EQ(client.get("/$export").body.size(), big.size());
}

TEST(HttpClient, RejectsNonLoopbackHosts) {
    EXPECT_THROW(ht::HttpClient(80, "10.0.0.1"), std::invalid_argument);
    EXPECT_THROW(ht::HttpClient(80, "localhost"), std::invalid_argument);
    EXPECT_NO_THROW(ht::HttpClient(80, "::1"));
}

TEST(HttpClient, ConnectionRefusedThrows) {
    std::uint16_t port;
    {
        ht::TinyHttpServer closed(echo);  // bound then closed: nothing listens there now
        port = closed.port();
    }
    ht::HttpClient client(port);
    auto msg = what_of([&] { client.get("/"); });
    EXPECT_NE(msg.find("connect"), std::string::npos) << msg;
}

TEST(HttpClient, RejectsHeaderInjection) {
    ht::HttpClient client(1);
    EXPECT_THROW(client.request("GET", "/", {}, {{"X", "a\r\nEvil: 1"}}), std::invalid_argument);
}

TEST(RawExchange, ValidRequest) {
    ServerThread srv(echo);
    auto r = ht::raw_exchange(srv.port(), "GET /raw HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "GET /raw ");
}

TEST(RawExchange, ServerClosesWithoutAnswer) {
    ServerThread srv([](const ht::TinyRequest& r) {
        auto reply = echo(r);
        reply.action = ht::TinyReply::Action::close_without_answer;
        return reply;
    });
    auto r = ht::raw_exchange(srv.port(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(r.status, 0);
}

TEST(RawExchange, EarlyRejectionWhileStillSendingBody) {
    ServerThread srv(echo, /*max_body=*/1024);
    // The server answers 413 after the headers and never reads the body; a
    // write-then-read client would stall on the 8 MB write.
    std::string bytes = "POST /Bundle HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n\r\n";
    bytes += std::string(8 * 1024 * 1024, 'a');
    auto r = ht::raw_exchange(srv.port(), bytes, 5s);
    EXPECT_EQ(r.status, 413);
}

TEST(RawExchange, TimesOutWhenServerIsSilent) {
    ServerThread srv([](const ht::TinyRequest& r) {
        auto reply = echo(r);
        reply.action = ht::TinyReply::Action::never_answer;
        return reply;
    });
    const auto t0 = Clock::now();
    EXPECT_THROW(ht::raw_exchange(srv.port(), "GET / HTTP/1.1\r\n\r\n", 500ms), std::runtime_error);
    EXPECT_LT(Clock::now() - t0, 5s);
}

// ---------------------------------------------------------------------------
// run_program / run_command
// ---------------------------------------------------------------------------

TEST(RunProgram, CapturesExitCodeAndStreamsSeparately) {
    auto r = ht::run_program("/bin/sh", {"-c", "echo out; echo err >&2; exit 3"});
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(r.out, "out\n");
    EXPECT_EQ(r.err, "err\n");
    EXPECT_FALSE(r.timed_out);
}

TEST(RunProgram, FeedsStdinWithoutDeadlock) {
    // Bigger than any pipe buffer in both directions.
    std::string input(4 * 1024 * 1024, 'z');
    auto r = ht::run_program("/bin/cat", {}, 30s, input);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out.size(), input.size());
}

TEST(RunProgram, ChildIgnoringStdinDoesNotKillUs) {
    auto r = ht::run_program("/bin/true", {}, 30s, std::string(4 * 1024 * 1024, 'z'));
    EXPECT_EQ(r.exit_code, 0);
}

TEST(RunProgram, ReportsSignalDeath) {
    auto r = ht::run_program("/bin/sh", {"-c", "kill -9 $$"});
    EXPECT_EQ(r.exit_code, 128 + 9);
}

TEST(RunProgram, TimesOut) {
    const auto t0 = Clock::now();
    auto r = ht::run_program("/bin/sh", {"-c", "echo started; exec sleep 30"}, 1s);
    EXPECT_TRUE(r.timed_out);
    EXPECT_EQ(r.exit_code, -1);
    EXPECT_EQ(r.out, "started\n");
    EXPECT_LT(Clock::now() - t0, 5s);
}

TEST(RunProgram, MissingProgramThrows) {
    EXPECT_THROW(ht::run_program("/nonexistent/helsebro", {}), std::system_error);
}

// ---------------------------------------------------------------------------
// Daemon (against the fake daemon)
// ---------------------------------------------------------------------------

TEST(Daemon, StartServeRestartTerminate) {
    ht::Daemon d(fake_options());
    EXPECT_FALSE(d.running());
    d.start();
    ASSERT_TRUE(d.running());
    ASSERT_NE(d.port(), 0);
    const std::string token = d.token();
    EXPECT_EQ(token.rfind("fake-token-", 0), 0u) << token;
    EXPECT_EQ(fs::status(d.data_dir() / "demo-client.token").permissions() & fs::perms::group_all, fs::perms::none);

    ht::HttpClient client(d.port());
    client.set_token(token);
    auto r = client.get("/metadata");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "GET /metadata auth=Bearer " + token);
    EXPECT_TRUE(eventually([&] { return d.log().find("fake daemon stderr line") != std::string::npos; }));
    EXPECT_NE(d.log().find("fake daemon listening on port " + std::to_string(d.port())), std::string::npos);

    // Crash and restart on the same data dir.
    const pid_t first_pid = d.pid();
    const fs::path data_dir = d.data_dir();
    d.kill9();
    EXPECT_FALSE(d.running());
    EXPECT_EQ(d.last_exit_status(), 128 + 9);
    d.start();
    EXPECT_NE(d.pid(), first_pid);
    EXPECT_EQ(d.data_dir(), data_dir);
    EXPECT_EQ(d.token(), token);  // persisted across restarts
    ht::HttpClient client2(d.port());
    EXPECT_EQ(client2.get("/x").status, 200);
    EXPECT_EQ(d.current_log().find("run #1"), std::string::npos);
    EXPECT_NE(d.log().find("run #1"), std::string::npos);
    EXPECT_NE(d.log().find("run #2"), std::string::npos);

    EXPECT_EQ(d.terminate(), 0);
    EXPECT_FALSE(d.running());
    EXPECT_TRUE(d.notify_state().stopping);  // complete as soon as terminate() returns
    EXPECT_TRUE(eventually([&] { return d.current_log().find("fake daemon stopped") != std::string::npos; }));
}

TEST(Daemon, WritesConfigWithDataDirAndExtraYaml) {
    auto o = fake_options();
    o.extra_yaml = "fhir:\n  max_json_depth: 8\n";
    o.extra_args = {"--listen", "127.0.0.1:0"};
    ht::Daemon d(o);
    d.start();
    const std::string cfg = slurp(d.config_path());
    EXPECT_NE(cfg.find("data_dir: " + d.data_dir().string() + "\n"), std::string::npos) << cfg;
    EXPECT_NE(cfg.find("demo_client: true"), std::string::npos);
    EXPECT_NE(cfg.find("\nfhir:\n  max_json_depth: 8\n"), std::string::npos) << cfg;
    EXPECT_EQ(cfg.find("${DATA_DIR}"), std::string::npos);
    EXPECT_NE(d.log().find("--listen 127.0.0.1:0"), std::string::npos);
}

TEST(Daemon, FullYamlAndCallerDataDir) {
    TempDir dir;
    const fs::path data = dir.path / "mydata";
    {
        auto o = fake_options();
        o.full_yaml = "store:\n  data_dir: \"${DATA_DIR}\"\n";
        o.data_dir = data;
        ht::Daemon d(o);
        d.start();
        EXPECT_EQ(slurp(d.config_path()), "store:\n  data_dir: \"" + data.string() + "\"\n");
        EXPECT_EQ(d.data_dir(), data);
    }
    EXPECT_TRUE(fs::exists(data / "demo-client.token"));  // a caller's dir is never removed
}

TEST(Daemon, OwnedTempDirIsRemoved) {
    fs::path data;
    {
        ht::Daemon d(fake_options());
        d.start();
        data = d.data_dir();
        EXPECT_TRUE(fs::exists(data));
    }  // destructor kills the still-running child
    EXPECT_FALSE(fs::exists(data));
}

TEST(Daemon, EarlyExitFailsFastWithOutput) {
    ht::Daemon d(fake_options("exit_early"));
    const auto t0 = Clock::now();
    auto msg = what_of([&] { d.start(); });
    EXPECT_LT(Clock::now() - t0, 5s);
    EXPECT_NE(msg.find("exited with status 2"), std::string::npos) << msg;
    EXPECT_NE(msg.find("pretend the config is invalid"), std::string::npos) << msg;
    EXPECT_FALSE(d.running());
}

TEST(Daemon, ReadinessTimeout) {
    auto o = fake_options("never_ready");
    o.ready_timeout = 1s;
    ht::Daemon d(o);
    auto msg = what_of([&] { d.start(); });
    EXPECT_NE(msg.find("did not send READY=1 within 1 s"), std::string::npos) << msg;
    EXPECT_FALSE(d.running());
}

TEST(Daemon, ReadyWithoutStatusIsAnError) {
    ht::Daemon d(fake_options("no_status"));
    auto msg = what_of([&] { d.start(); });
    EXPECT_NE(msg.find("without a 'STATUS=listening on"), std::string::npos) << msg;
    EXPECT_FALSE(d.running());
}

TEST(Daemon, TerminateTimesOutThenKills) {
    ht::Daemon d(fake_options("ignore_term"));
    d.start();
    EXPECT_EQ(d.terminate(1s), -1);
    EXPECT_FALSE(d.running());
}

TEST(Daemon, MissingBinaryThrows) {
    ht::DaemonOptions o;
    o.binary = "/nonexistent/helsebro";
    ht::Daemon d(o);
    EXPECT_THROW(d.start(), std::system_error);
    EXPECT_FALSE(d.running());
}

TEST(Daemon, StartTwiceIsALogicError) {
    ht::Daemon d(fake_options());
    d.start();
    EXPECT_THROW(d.start(), std::logic_error);
}

// ---------------------------------------------------------------------------
// StoreInspector
// ---------------------------------------------------------------------------

TEST(StoreInspector, ReadsWalDatabaseWhileWriterIsOpen) {
    TempDir dir;
    sqlite3* writer = nullptr;
    ASSERT_EQ(sqlite3_open((dir.path / "helsebro.db").c_str(), &writer), SQLITE_OK);
    auto exec = [&](const char* sql) { ASSERT_EQ(sqlite3_exec(writer, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(writer); };
    exec("PRAGMA journal_mode=WAL");
    exec("CREATE TABLE resources(id TEXT, version INTEGER, note TEXT)");
    exec("INSERT INTO resources VALUES('a', 1, 'x'), ('b', 2, NULL), ('c', 3, 'z')");

    ht::StoreInspector store(dir.path);
    EXPECT_EQ(store.scalar("SELECT count(*) FROM resources"), 3);
    auto rows = store.rows("SELECT id, version, note FROM resources ORDER BY id");
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[1], (std::vector<std::string>{"b", "2", ""}));

    exec("INSERT INTO resources VALUES('d', 4, 'w')");
    EXPECT_EQ(store.scalar("SELECT count(*) FROM resources"), 4);  // each query sees the latest commit

    auto msg = what_of([&] { store.scalar("SELECT * FROM nope"); });
    EXPECT_NE(msg.find("no such table: nope"), std::string::npos) << msg;
    EXPECT_THROW(store.scalar("SELECT 1 WHERE 0"), std::runtime_error);
    EXPECT_THROW(store.rows("DELETE FROM resources"), std::runtime_error);  // read-only
    sqlite3_close(writer);
}

TEST(StoreInspector, MissingDatabaseThrows) {
    TempDir dir;
    EXPECT_THROW(ht::StoreInspector{dir.path}, std::runtime_error);
    EXPECT_FALSE(fs::exists(dir.path / "helsebro.db"));  // and did not create it
}

// ---------------------------------------------------------------------------
// json_helpers
// ---------------------------------------------------------------------------

TEST(JsonHelpers, PathsIntoBundle) {
    auto doc = ht::parse_json(R"({"resourceType":"Bundle","total":2,"entry":[
        {"response":{"status":"201 Created","location":"Patient/1/_history/1"}},
        {"response":{"status":"200 OK"}}]})");
    EXPECT_EQ(ht::json_string(doc, "entry[0].response.location"), "Patient/1/_history/1");
    EXPECT_EQ(ht::json_string(doc, "entry[1].response.status"), "200 OK");
    EXPECT_EQ(ht::json_int(doc, "total"), 2);
    EXPECT_EQ(ht::json_size(doc, "entry"), 2u);
    EXPECT_EQ(ht::json_size(doc, "link"), 0u);
    EXPECT_EQ(ht::json_find(doc, "entry[2]"), nullptr);
    EXPECT_EQ(ht::json_find(doc, "entry[1].response.location"), nullptr);
    EXPECT_EQ(ht::json_optional_string(doc, "resourceType"), "Bundle");
    EXPECT_THROW(ht::json_string(doc, "total"), std::runtime_error);
    EXPECT_THROW(ht::parse_json("<html>"), std::runtime_error);

    auto arr = ht::parse_json(R"([{"id":"x"}])");
    EXPECT_EQ(ht::json_string(arr, "[0].id"), "x");
}
