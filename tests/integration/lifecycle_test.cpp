// Starting, stopping and the command line.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <thread>

#include "tests/integration/fixture.hpp"

namespace helsebro::testing {
namespace {

class Lifecycle : public DaemonTest {};

TEST_F(Lifecycle, SigtermStopsCleanlyAndTellsSystemd) {
    ASSERT_EQ(client->post("/fhir/Patient", patient_json(synthetic_fnr(18, 8, 67))).status, 201);
    EXPECT_TRUE(daemon->notify_state().ready);
    EXPECT_EQ(daemon->terminate(), 0) << daemon->current_log();
    EXPECT_TRUE(daemon->notify_state().stopping);
    EXPECT_NE(daemon->current_log().find("Stopped cleanly"), std::string::npos) << daemon->current_log();
    // A clean stop checkpoints the WAL into the database file.
    std::error_code ec;
    auto wal = std::filesystem::file_size(daemon->data_dir() / "helsebro.db-wal", ec);
    EXPECT_TRUE(ec || wal == 0) << wal;
}

namespace {
// A plain TCP connection, for sending a request in pieces.
struct RawConnection {
    int fd = -1;
    explicit RawConnection(std::uint16_t port) {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        timeval tv{10, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) ADD_FAILURE() << "connect failed";
    }
    ~RawConnection() { ::close(fd); }
    void send(const std::string& bytes) { ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size())); }
    // One request and its answer, so the server has surely accepted this connection: a
    // connection still in the listen backlog when stopping begins is reset, not served.
    void warm_up() {
        send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
        std::string got;
        char buf[1024];
        while (got.find("\r\n\r\n") == std::string::npos || got.size() < got.find("\r\n\r\n") + 4 + 17) {
            ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) return ADD_FAILURE() << "no answer to the warm-up request";
            got.append(buf, static_cast<std::size_t>(n));
        }
    }
    std::string receive_all() {
        std::string out;
        char buf[4096];
        for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<std::size_t>(n));
        return out;
    }
};

bool accepts_connections(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}
}  // namespace

TEST_F(Lifecycle, SigtermLetsARequestInFlightFinishAndStore) {
    std::string body = patient_json(synthetic_fnr(23, 1, 72));
    RawConnection c(daemon->port());
    c.warm_up();
    c.send("POST /fhir/Patient HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + daemon->token() +
           "\r\nContent-Type: application/fhir+json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
           body.substr(0, 10));
    ASSERT_EQ(::kill(daemon->pid(), SIGTERM), 0);
    // Stopping has begun once new connections are refused; the request above is still open.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (accepts_connections(daemon->port()) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_FALSE(accepts_connections(daemon->port()));
    c.send(body.substr(10));
    auto answer = c.receive_all();
    EXPECT_EQ(answer.rfind("HTTP/1.1 201", 0), 0u) << answer.substr(0, 200);
    EXPECT_NE(answer.find("Connection: close"), std::string::npos);
    EXPECT_EQ(daemon->terminate(), 0);
    StoreInspector db(daemon->data_dir());
    EXPECT_EQ(db.scalar("SELECT count(*) FROM resource_version"), 1);
}

TEST_F(Lifecycle, SigtermWithAnIdleKeepAliveConnectionStillStopsPromptly) {
    ASSERT_EQ(client->get("/fhir/metadata").status, 200);  // leaves a keep-alive connection open
    auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(daemon->terminate(), 0);
    // Not a timing assertion on speed: only that it did not sit out the 20 s grace period.
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(15));
}

TEST_F(Lifecycle, TheDemoTokenFileIsPrivateAndTheLogSaysWhereItIs) {
    auto path = daemon->data_dir() / "demo-client.token";
    auto perms = std::filesystem::status(path).permissions();
    EXPECT_EQ(perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all), std::filesystem::perms::none);
    EXPECT_NE(daemon->current_log().find(path.string()), std::string::npos);
    EXPECT_EQ(daemon->current_log().find(daemon->token()), std::string::npos) << "the token itself must not be logged";
}

TEST_F(Lifecycle, HealthChecksAnswerWithoutAToken) {
    HttpClient anonymous(daemon->port());
    EXPECT_EQ(anonymous.get("/health/live").status, 200);
    EXPECT_EQ(anonymous.get("/health/ready").status, 200);
    EXPECT_EQ(anonymous.get("/elsewhere").status, 404);
}

TEST_F(Lifecycle, TheDataIsReadableByTheServiceUserOnly) {
    ASSERT_EQ(client->post("/fhir/Patient", patient_json(synthetic_fnr(22, 12, 71))).status, 201);
    namespace fs = std::filesystem;
    for (const auto& entry : fs::directory_iterator(daemon->data_dir())) {
        auto perms = fs::status(entry.path()).permissions();
        EXPECT_EQ(perms & (fs::perms::group_all | fs::perms::others_all), fs::perms::none) << entry.path();
    }
}

TEST(Connections, BeyondTheLimitANewConnectionIsClosed) {
    DaemonOptions o;
    o.full_yaml = "http:\n  listen: 127.0.0.1:0\n  max_connections: 2\nstore:\n  data_dir: ${DATA_DIR}\n"
                  "auth:\n  demo_client: true\n";
    Daemon d(o);
    d.start();
    HttpClient a(d.port()), b(d.port());
    ASSERT_EQ(a.get("/health/live").status, 200);
    ASSERT_EQ(b.get("/health/live").status, 200);
    auto refused = raw_exchange(d.port(), "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(refused.status, 503);
    EXPECT_EQ(refused.header("retry-after"), "1");
    a.close();
    // The slot is free again once the server has seen the close.
    int status = 0;
    for (int i = 0; i < 100 && status != 200; ++i) {
        status = raw_exchange(d.port(), "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n").status;
        if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(status, 200);
}

TEST(Signals, ASigtermRightAfterReadyStillStopsCleanly) {
    // Readiness is announced only once the daemon owns its signals: an orchestrator may stop it
    // the moment it is ready.
    for (int i = 0; i < 5; ++i) {
        Daemon d;
        d.start();
        EXPECT_EQ(d.terminate(), 0) << d.current_log();
    }
}

TEST(Signals, ASecondSigtermStopsAtOnce) {
    DaemonOptions o;
    o.full_yaml = "http:\n  listen: 127.0.0.1:0\n  shutdown_grace_seconds: 600\nstore:\n  data_dir: ${DATA_DIR}\n"
                  "auth:\n  demo_client: true\n";
    Daemon d(o);
    d.start();
    RawConnection c(d.port());  // a request that never completes keeps the first SIGTERM waiting
    c.warm_up();
    c.send("POST /fhir/Patient HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + d.token() +
           "\r\nContent-Type: application/fhir+json\r\nContent-Length: 100\r\n\r\n{");
    ASSERT_EQ(::kill(d.pid(), SIGTERM), 0);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (accepts_connections(d.port()) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(d.running());
    EXPECT_EQ(d.terminate(std::chrono::seconds(20)), 0);  // the second one
    EXPECT_NE(d.current_log().find("unanswered"), std::string::npos) << d.current_log();
}

TEST(Validation, AClientSetToWarnHasInvalidFhirStoredAndLoggedWithoutContent) {
    Daemon d(one_client("legacy-ehr", "legacy-token", "      validation: warn\n"));
    d.start();
    HttpClient c(d.port());
    c.set_token("legacy-token");
    EXPECT_EQ(c.post("/fhir/Patient", R"({"resourceType":"Patient","gender":"dunno"})").status, 201);
    EXPECT_NE(d.current_log().find("Accepted invalid FHIR from legacy-ehr"), std::string::npos) << d.current_log();
    EXPECT_EQ(d.current_log().find("dunno"), std::string::npos);
}

TEST(CommandLine, HelpExplainsEveryCommand) {
    auto main_help = run_command({"--help"});
    EXPECT_EQ(main_help.exit_code, 0);
    for (const char* cmd : {"serve", "check-config", "validate", "convert", "fhirpath", "config-reference", "hash-token", "version"}) {
        EXPECT_NE(main_help.out.find(cmd), std::string::npos) << cmd;
        auto help = run_command({cmd, "--help"});
        EXPECT_EQ(help.exit_code, 0) << cmd;
        EXPECT_NE(help.out.find(std::string("Usage: helsebro ") + cmd), std::string::npos) << help.out;
    }
    EXPECT_NE(run_command({"serve", "--help"}).out.find("--data-dir DIR"), std::string::npos);
    EXPECT_EQ(run_command({"serve"}).exit_code, 2);
    EXPECT_EQ(run_command({"nonsense"}).exit_code, 2);
}

TEST(CommandLine, CheckConfigReportsUnknownKeysWithFileAndLine) {
    auto dir = std::filesystem::temp_directory_path() / ("helsebro-check-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto file = dir / "bad.yaml";
    std::ofstream(file) << "http:\n  listen: 127.0.0.1:8080\n  max_body_byte: 10\n";
    auto r = run_command({"check-config", "--config", file.string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find(file.string() + ":3:"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("max_body_bytes"), std::string::npos) << r.err;
    std::filesystem::remove_all(dir);
}

TEST(CommandLine, TheShippedConfigIsValid) {
    auto r = run_command({"check-config", "--config", HELSEBRO_SOURCE_DIR "/config/helsebro.yaml"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(Systemd, TheUnitFileIsValid) {
    if (std::system("command -v systemd-analyze >/dev/null 2>&1") != 0) GTEST_SKIP() << "systemd-analyze is not installed";
    // The unit names the installed binary; point it at this build so verify can check the commands.
    std::ifstream in(HELSEBRO_SOURCE_DIR "/systemd/helsebro.service");
    std::string unit((std::istreambuf_iterator<char>(in)), {});
    for (std::size_t at; (at = unit.find("/usr/bin/helsebro")) != std::string::npos;)
        unit.replace(at, 17, daemon_binary().string());
    auto dir = std::filesystem::temp_directory_path() / ("helsebro-unit-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "helsebro.service") << unit;
    auto r = run_program("/usr/bin/systemd-analyze", {"verify", (dir / "helsebro.service").string()});
    std::filesystem::remove_all(dir);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "") << "systemd-analyze has remarks";
}

TEST(CommandLine, ValidateSaysWhatIsWrongAndExitsByTheResult) {
    auto dir = std::filesystem::temp_directory_path() / ("helsebro-validate-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    // With a narrative: without one, dom-6 warns (and warnings do not fail validation).
    std::ofstream(dir / "good.json")
        << R"({"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">A patient</div>"},"gender":"female"})";
    std::ofstream(dir / "bad.json") << R"({"resourceType":"Patient","gender":"dunno"})";
    std::ofstream(dir / "broken.json") << "{\n  \"resourceType\": \"Patient\",\n  oops\n}";
    auto good = run_command({"validate", (dir / "good.json").string()});
    EXPECT_EQ(good.exit_code, 0) << good.out;
    EXPECT_EQ(json_string(parse_json(good.out), "issue[0].severity"), "information");
    auto bad = run_command({"validate", (dir / "bad.json").string()});
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_EQ(json_string(parse_json(bad.out), "issue[0].expression[0]"), "Patient.gender");
    auto broken = run_command({"validate", (dir / "broken.json").string()});
    EXPECT_EQ(broken.exit_code, 1);
    EXPECT_EQ(json_int(parse_json(broken.out), "issue[0].extension[0].valueInteger"), 3);  // the line
    auto both = run_command({"validate", (dir / "good.json").string(), (dir / "bad.json").string()});
    EXPECT_EQ(both.exit_code, 1);
    EXPECT_EQ(json_size(parse_json(both.out), "entry"), 2u);
    EXPECT_EQ(run_command({"validate", (dir / "missing.json").string()}).exit_code, 2);
    std::filesystem::remove_all(dir);
}

TEST(CommandLine, ConvertTurnsJsonIntoXmlAndBack) {
    auto dir = std::filesystem::temp_directory_path() / ("helsebro-convert-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::string json = R"({"resourceType":"Observation","status":"final","code":{"text":"weight"},"valueQuantity":{"value":72.50,"unit":"kg"}})";
    std::ofstream(dir / "obs.json") << json;
    auto xml = run_command({"convert", "--to", "xml", (dir / "obs.json").string()});
    ASSERT_EQ(xml.exit_code, 0) << xml.err;
    EXPECT_NE(xml.out.find("<valueQuantity><value value=\"72.50\"/>"), std::string::npos) << xml.out;
    auto back = run_command({"convert", "--to", "json", "-"}, std::chrono::seconds(10), xml.out);
    ASSERT_EQ(back.exit_code, 0) << back.err;
    EXPECT_EQ(back.out, json + "\n");  // element order and the decimal's text survive
    std::ofstream(dir / "bad.xml") << "<Patient xmlns=\"http://hl7.org/fhir\"><nickname value=\"x\"/></Patient>";
    auto bad = run_command({"convert", "--to", "json", (dir / "bad.xml").string()});
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_NE(bad.err.find("nickname"), std::string::npos) << bad.err;
    EXPECT_EQ(run_command({"convert", "--to", "yaml", (dir / "obs.json").string()}).exit_code, 2);
    std::filesystem::remove_all(dir);
}

TEST(CommandLine, HashTokenPrintsTheSha256) {
    auto r = run_command({"hash-token"}, std::chrono::seconds(10), "secret\n");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out, "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b\n");
}

TEST(CommandLine, AConfiguredClientIsKnownByItsHashOnly) {
    Daemon d(one_client("gp-system", "gp-token-for-tests"));
    d.start();
    HttpClient c(d.port());
    c.set_token("gp-token-for-tests");
    ASSERT_EQ(c.post("/fhir/Patient", patient_json(synthetic_fnr(19, 9, 68))).status, 201);
    StoreInspector db(d.data_dir());
    EXPECT_EQ(db.rows("SELECT sender FROM message")[0][0], "gp-system");
    EXPECT_FALSE(std::filesystem::exists(d.data_dir() / "demo-client.token"));
}

}  // namespace
}  // namespace helsebro::testing
