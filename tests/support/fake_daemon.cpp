// Stand-in for the helsebro binary, used only by support_self_test to drive
// Daemon end to end before the real daemon exists. It honours the same
// contract (serve --config F --data-dir D, NOTIFY_SOCKET via libsystemd's
// sd_notify, demo-client.token, SIGTERM -> exit 0) and misbehaves on request
// through FAKE_DAEMON_MODE:
//   exit_early   print to stderr and exit 2 before readiness
//   never_ready  never send READY=1
//   no_status    send READY=1 without a STATUS line
//   ignore_term  ignore SIGTERM
// Every HTTP request is answered 200 with body "<METHOD> <target> auth=<Authorization>".

#include "tests/support/tiny_server.hpp"

#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>

int main(int argc, char** argv) {
    using namespace helsebro::testing;
    std::string data_dir, config;
    if (argc < 2 || std::string_view(argv[1]) != "serve") {
        std::cerr << "usage: fake_daemon serve --config FILE --data-dir DIR\n";
        return 64;
    }
    for (int i = 2; i + 1 < argc; ++i) {
        if (std::string_view(argv[i]) == "--data-dir") data_dir = argv[++i];
        else if (std::string_view(argv[i]) == "--config") config = argv[++i];
    }
    const char* mode_env = std::getenv("FAKE_DAEMON_MODE");
    const std::string mode = mode_env ? mode_env : "";

    std::cout << "fake daemon starting, config " << config << std::endl;
    if (mode == "exit_early") {
        std::cerr << "fatal: pretend the config is invalid" << std::endl;
        return 2;
    }
    if (data_dir.empty() || !std::ifstream(config)) {
        std::cerr << "missing --data-dir or unreadable --config" << std::endl;
        return 64;
    }

    const std::string token_path = data_dir + "/demo-client.token";
    if (!std::ifstream(token_path)) {
        std::ofstream(token_path) << "fake-token-" << ::getpid() << "\n";
        ::chmod(token_path.c_str(), 0600);
    }

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    if (mode == "ignore_term") {
        ::signal(SIGTERM, SIG_IGN);
        sigemptyset(&mask);
    }
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    int sig_fd = ::signalfd(-1, &mask, SFD_CLOEXEC);

    TinyHttpServer server([](const TinyRequest& r) {
        auto auth = r.headers.find("authorization");
        TinyReply reply;
        reply.body = r.method + " " + r.target + " auth=" + (auth == r.headers.end() ? "" : auth->second);
        reply.headers.push_back({"Content-Type", "text/plain"});
        return reply;
    });

    const std::string status = "STATUS=listening on 127.0.0.1:" + std::to_string(server.port());
    if (mode == "no_status") {
        sd_notify(0, "READY=1");
    } else if (mode != "never_ready") {
        sd_notifyf(0, "READY=1\n%s\nMAINPID=%d", status.c_str(), static_cast<int>(::getpid()));
    }
    std::cout << "fake daemon listening on port " << server.port() << std::endl;
    std::cerr << "fake daemon stderr line" << std::endl;

    server.serve(sig_fd);  // returns on SIGTERM
    sd_notify(0, "STOPPING=1\nSTATUS=stopping");
    std::cout << "fake daemon stopped" << std::endl;
    return 0;
}
