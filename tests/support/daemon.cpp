#include "tests/support/daemon.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <utility>

extern char** environ;

namespace helsebro::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

#ifndef HELSEBRO_BINARY
#define HELSEBRO_BINARY "helsebro"
#endif

[[noreturn]] void throw_errno(const std::string& what) {
    throw std::system_error(errno, std::generic_category(), what);
}

// RAII for a file descriptor; the harness must not leak fds into later children.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&& o) noexcept {
        if (this != &o) {
            reset();
            fd_ = std::exchange(o.fd_, -1);
        }
        return *this;
    }
    ~Fd() { reset(); }
    int get() const { return fd_; }
    int release() { return std::exchange(fd_, -1); }
    void reset() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_ = -1;
};

int decode_wait_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

int remaining_ms(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return static_cast<int>(std::clamp<long long>(left, 0, 1'000'000));
}

// Waits for `pid` to exit until `deadline`, returning its raw wait status.
// Uses a pidfd so the wait is event-driven; falls back to short polls where
// pidfd_open is unavailable (old kernels, restrictive seccomp profiles).
std::optional<int> wait_exit(pid_t pid, Clock::time_point deadline) {
#ifdef SYS_pidfd_open
    Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
#else
    Fd pidfd;
#endif
    for (;;) {
        int status = 0;
        pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) return status;
        if (r < 0 && errno != EINTR) throw_errno("waitpid");
        int left = remaining_ms(deadline);
        if (left == 0) return std::nullopt;
        if (pidfd.get() >= 0) {
            pollfd p{pidfd.get(), POLLIN, 0};
            ::poll(&p, 1, left);
        } else {
            ::poll(nullptr, 0, std::min(left, 10));
        }
    }
}

int wait_exit_blocking(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) throw_errno("waitpid");
    }
    return status;
}

// A short private temp dir. Short matters: sockaddr_un paths are limited to
// 108 bytes, and the notify socket lives in here.
fs::path make_temp_root() {
    std::string base = "/tmp";
    if (const char* t = std::getenv("TMPDIR"); t && *t && std::strlen(t) < 60) base = t;
    std::string tmpl = base + "/helsebro-test-XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw_errno("mkdtemp " + tmpl);
    return tmpl;
}

std::string read_file(const fs::path& p, std::uintmax_t offset = 0) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return {};
    in.seekg(static_cast<std::streamoff>(offset));
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string tail(const std::string& s, std::size_t n) {
    if (s.size() <= n) return s;
    return "[...]" + s.substr(s.size() - n);
}

std::string trim(std::string s) {
    auto not_space = [](unsigned char c) { return !std::isspace(c); };
    s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
    s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
    return s;
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
    for (std::size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
        s.replace(pos, from.size(), to);
}

bool env_flag(const char* name) {
    const char* v = std::getenv(name);
    return v && *v && std::string_view(v) != "0";
}

// The inherited environment minus systemd's per-service variables (a test
// runner started by systemd must not leak its own NOTIFY_SOCKET/watchdog/
// socket-activation settings into the child), plus `extra`.
std::vector<std::string> child_environment(const std::map<std::string, std::string>& extra) {
    static constexpr std::string_view kDropped[] = {"NOTIFY_SOCKET=", "WATCHDOG_USEC=", "WATCHDOG_PID=",
                                                    "LISTEN_FDS=",    "LISTEN_PID=",    "LISTEN_FDNAMES="};
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e) {
        std::string_view kv(*e);
        bool drop = std::any_of(std::begin(kDropped), std::end(kDropped),
                                [&](std::string_view d) { return kv.starts_with(d); });
        auto eq = kv.find('=');
        if (!drop && eq != std::string_view::npos && extra.count(std::string(kv.substr(0, eq)))) drop = true;
        if (!drop) env.emplace_back(kv);
    }
    for (const auto& [k, v] : extra) env.push_back(k + "=" + v);
    return env;
}

struct SpawnSpec {
    fs::path program;
    std::vector<std::string> argv;  // argv[0] included
    std::vector<std::string> env;
    int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;
    fs::path cwd;  // empty: inherit
};

// fork/exec rather than posix_spawn so the child can set PR_SET_PDEATHSIG
// (a crashed test binary must not leave daemons running on CI) and so exec
// failures are reported as exceptions instead of exit code 127.
pid_t spawn(const SpawnSpec& spec) {
    // Everything the child touches is prepared here: between fork and exec
    // only async-signal-safe calls are allowed (gtest and the notify thread
    // make this process multi-threaded).
    std::vector<char*> argv, envp;
    for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    const std::string program = spec.program.string();
    const std::string cwd = spec.cwd.string();

    int err_pipe[2];
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) throw_errno("pipe2");
    Fd err_read(err_pipe[0]), err_write(err_pipe[1]);
    const pid_t parent = ::getpid();

    pid_t pid = ::fork();
    if (pid < 0) throw_errno("fork");
    if (pid == 0) {
        auto die = [&](int code) {
            int e = errno;
            (void)!::write(err_pipe[1], &e, sizeof e);
            (void)!::write(err_pipe[1], &code, sizeof code);
            ::_exit(127);
        };
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(127);  // parent died before prctl
        // Signal dispositions set to "ignore" and the blocked mask survive
        // exec; the daemon must start with defaults or SIGTERM tests lie.
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        for (int sig = 1; sig < NSIG; ++sig) {
            if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
        }
        if (::dup2(spec.stdin_fd, 0) < 0 || ::dup2(spec.stdout_fd, 1) < 0 || ::dup2(spec.stderr_fd, 2) < 0) die(1);
        if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) die(2);
        // Sockets opened by earlier tests (Asio does not set CLOEXEC) would
        // otherwise stay open in the daemon and keep connections half-alive.
        if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
            for (int fd = 3; fd < 4096; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        }
        ::execve(program.c_str(), argv.data(), envp.data());
        die(3);
    }
    err_write.reset();
    int info[2] = {0, 0};
    ssize_t n;
    do {
        n = ::read(err_read.get(), info, sizeof info);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
        wait_exit_blocking(pid);
        static constexpr const char* kStep[] = {"", "dup2", "chdir to " , "execve"};
        std::string step = kStep[std::clamp(info[1], 0, 3)];
        if (info[1] == 2) step += cwd;
        throw std::system_error(info[0], std::generic_category(), "spawning " + program + ": " + step);
    }
    return pid;
}

Fd open_dev_null() {
    Fd fd(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (fd.get() < 0) throw_errno("open /dev/null");
    return fd;
}

}  // namespace

// ---------------------------------------------------------------------------
// Notify protocol
// ---------------------------------------------------------------------------

std::optional<std::uint16_t> port_from_status(std::string_view status) {
    while (!status.empty() && std::isspace(static_cast<unsigned char>(status.back()))) status.remove_suffix(1);
    auto colon = status.rfind(':');
    if (colon == std::string_view::npos || colon + 1 == status.size()) return std::nullopt;
    std::string_view digits = status.substr(colon + 1);
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || ptr != digits.data() + digits.size() || value == 0 || value > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

void apply_notify_datagram(NotifyState& state, std::string_view datagram) {
    state.datagrams.emplace_back(datagram);
    while (!datagram.empty()) {
        auto nl = datagram.find('\n');
        std::string_view line = datagram.substr(0, nl);
        datagram = nl == std::string_view::npos ? std::string_view{} : datagram.substr(nl + 1);
        auto eq = line.find('=');
        if (eq == std::string_view::npos || eq == 0) continue;
        std::string key(line.substr(0, eq));
        std::string value(line.substr(eq + 1));
        if (key == "READY" && value == "1") state.ready = true;
        if (key == "STOPPING" && value == "1") state.stopping = true;
        if (key == "STATUS") {
            if (auto at = value.find("listening on "); at != std::string::npos) {
                if (auto port = port_from_status(std::string_view(value).substr(at))) state.listen_port = port;
            }
            state.status = value;
        }
        state.fields[std::move(key)] = std::move(value);
    }
}

NotifyState parse_notify_datagram(std::string_view datagram) {
    NotifyState state;
    apply_notify_datagram(state, datagram);
    return state;
}

NotifyListener::NotifyListener(std::filesystem::path path) : path_(std::move(path)) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string p = path_.string();
    if (p.size() >= sizeof addr.sun_path) throw std::runtime_error("notify socket path too long: " + p);
    std::memcpy(addr.sun_path, p.c_str(), p.size() + 1);

    Fd sock(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (sock.get() < 0) throw_errno("socket(AF_UNIX, SOCK_DGRAM)");
    ::unlink(p.c_str());  // a stale socket from a crashed run would make bind fail
    if (::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw_errno("bind " + p);
    if (::pipe2(wake_pipe_, O_CLOEXEC | O_NONBLOCK) != 0) throw_errno("pipe2");
    fd_ = sock.release();
    thread_ = std::thread([this] { run(); });
}

NotifyListener::~NotifyListener() {
    char c = 'x';
    (void)!::write(wake_pipe_[1], &c, 1);
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
    ::close(wake_pipe_[0]);
    ::close(wake_pipe_[1]);
    ::unlink(path_.c_str());
}

void NotifyListener::run() {
    for (;;) {
        pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        drain();  // before honouring the wake-up, so a final STOPPING=1 is kept
        if (fds[1].revents != 0) return;
    }
}

void NotifyListener::drain() const {
    std::lock_guard lock(mutex_);
    drain_locked();
}

// recv happens under the mutex so that drain() called by another thread
// cannot return while a datagram is received but not yet applied.
void NotifyListener::drain_locked() const {
    char buf[16 * 1024];  // notify messages are a few hundred bytes at most
    bool any = false;
    for (;;) {
        ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0) break;
        apply_notify_datagram(state_, std::string_view(buf, static_cast<std::size_t>(n)));
        any = true;
    }
    if (any) cv_.notify_all();
}

NotifyState NotifyListener::state() const {
    std::lock_guard lock(mutex_);
    return state_;
}

bool NotifyListener::wait_ready(std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return state_.ready; });
}

bool NotifyListener::wait_stopping(std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return state_.stopping; });
}

// ---------------------------------------------------------------------------
// Daemon
// ---------------------------------------------------------------------------

std::filesystem::path daemon_binary() {
    if (const char* env = std::getenv("HELSEBRO_BINARY"); env && *env) return fs::absolute(env);
    return HELSEBRO_BINARY;
}

std::string default_config_yaml() {
    return "http:\n"
           "  listen: 127.0.0.1:0\n"
           "  max_body_bytes: 10485760\n"
           "store:\n"
           "  data_dir: ${DATA_DIR}\n"
           "auth:\n"
           "  demo_client: true\n"
           "mappings:\n"
           "  dir: mappings\n"
           "log:\n"
           "  level: info\n";
}

Daemon::Daemon(DaemonOptions options) : options_(std::move(options)) {
    root_ = make_temp_root();
    if (options_.data_dir.empty()) {
        data_dir_ = root_ / "data";
        own_data_dir_ = true;
    } else {
        data_dir_ = fs::absolute(options_.data_dir);
    }
    fs::create_directories(data_dir_);
    if (own_data_dir_) fs::permissions(data_dir_, fs::perms::owner_all, fs::perm_options::replace);
    // The daemon runs in root_, where the default mappings.dir ("mappings") is an empty rule set
    // unless a test writes rules there (mappings_dir()).
    fs::create_directories(root_ / "mappings");
    config_path_ = root_ / "config.yaml";
    log_path_ = root_ / "daemon.log";
}

Daemon::~Daemon() {
    try {
        if (running()) kill9();
        notify_.reset();
        // Tests only report "expected 201, got 500"; the daemon's own words
        // are what explains it, so show them whenever the test failed.
        if (::testing::Test::HasFailure()) {
            std::cerr << "----- helsebro output (" << log_path_.string() << ") -----\n"
                      << tail(log(), 16 * 1024) << "\n----- end of helsebro output -----\n";
        }
        if (env_flag("HELSEBRO_KEEP_TEST_DIRS")) {
            std::cerr << "helsebro test dir kept: " << root_.string() << "\n";
        } else {
            std::error_code ec;
            fs::remove_all(root_, ec);
        }
    } catch (const std::exception& e) {
        std::cerr << "~Daemon: " << e.what() << "\n";
    }
}

void Daemon::write_config() const {
    std::string yaml = options_.full_yaml ? *options_.full_yaml : default_config_yaml() + options_.extra_yaml;
    replace_all(yaml, "${DATA_DIR}", data_dir_.string());
    std::ofstream out(config_path_, std::ios::binary | std::ios::trunc);
    out << yaml;
    out.close();
    if (!out) throw std::runtime_error("cannot write " + config_path_.string());
}

void Daemon::start() {
    if (running()) throw std::logic_error("Daemon::start: already running (pid " + std::to_string(pid_) + ")");
    ++runs_;
    port_ = 0;
    exit_status_.reset();
    notify_.reset();
    notify_ = std::make_unique<NotifyListener>(root_ / ("notify-" + std::to_string(runs_) + ".sock"));
    write_config();

    const fs::path binary = options_.binary.empty() ? daemon_binary() : fs::absolute(options_.binary);
    std::vector<std::string> argv = {binary.string(), "serve", "--config", config_path_.string(),
                                     "--data-dir", data_dir_.string()};
    argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());

    auto env_extra = options_.env;
    env_extra["NOTIFY_SOCKET"] = notify_->path().string();

    Fd log_fd(::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (log_fd.get() < 0) throw_errno("open " + log_path_.string());
    std::string banner = "----- helsebro run #" + std::to_string(runs_) + ":";
    for (const auto& a : argv) banner += " " + a;
    banner += " -----\n";
    (void)!::write(log_fd.get(), banner.data(), banner.size());
    run_log_offset_ = fs::file_size(log_path_);

    Fd dev_null = open_dev_null();
    SpawnSpec spec{binary, argv, child_environment(env_extra), dev_null.get(), log_fd.get(), log_fd.get(), root_};
    pid_ = spawn(spec);
    reaped_ = false;

    const auto deadline = Clock::now() + options_.ready_timeout;
    // Sliced wait: readiness arrives on the socket, but an early exit of the
    // child does not, and that must fail fast rather than after 20 s.
    while (!notify_->wait_ready(std::chrono::milliseconds(50))) {
        if (!running()) fail_start("exited with status " + std::to_string(exit_status_.value_or(-1)) +
                                   " before sending READY=1");
        if (Clock::now() >= deadline) {
            kill9();
            fail_start("did not send READY=1 within " + std::to_string(options_.ready_timeout.count()) + " s");
        }
    }
    auto state = notify_->state();
    if (!state.listen_port) {
        kill9();
        fail_start("sent READY=1 without a 'STATUS=listening on HOST:PORT' (last STATUS: '" + state.status + "')");
    }
    port_ = *state.listen_port;
}

void Daemon::fail_start(const std::string& why) {
    std::string msg = "helsebro daemon (" + (options_.binary.empty() ? daemon_binary() : options_.binary).string() +
                      ") " + why + "\n--- output tail (" + log_path_.string() + ") ---\n" +
                      tail(current_log(), 4096);
    throw std::runtime_error(msg);
}

void Daemon::set_reaped(int wait_status) const {
    reaped_ = true;
    exit_status_ = decode_wait_status(wait_status);
    // Everything the child sent is queued by now; make notify_state() final.
    if (notify_) notify_->drain();
}

void Daemon::reap_blocking() {
    if (reaped_ || pid_ <= 0) return;
    set_reaped(wait_exit_blocking(pid_));
}

void Daemon::kill9() {
    if (reaped_ || pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    reap_blocking();
}

int Daemon::terminate(std::chrono::seconds timeout) {
    if (pid_ <= 0) return -1;
    if (reaped_ || !running()) return exit_status_.value_or(-1);
    ::kill(pid_, SIGTERM);
    if (auto status = wait_exit(pid_, Clock::now() + timeout)) {
        set_reaped(*status);
        return *exit_status_;
    }
    kill9();
    exit_status_ = -1;
    return -1;
}

bool Daemon::running() const {
    if (reaped_ || pid_ <= 0) return false;
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == 0) return true;
    if (r == pid_) {
        set_reaped(status);
    } else {  // ECHILD: someone else reaped it (e.g. a SIGCHLD handler in the test)
        reaped_ = true;
        exit_status_ = -1;
    }
    return false;
}

std::uint16_t Daemon::port() const { return port_; }

const std::filesystem::path& Daemon::data_dir() const { return data_dir_; }

std::string Daemon::token() const {
    const fs::path p = data_dir_ / "demo-client.token";
    std::ifstream in(p, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + p.string() + " (is auth.demo_client enabled?)");
    std::ostringstream ss;
    ss << in.rdbuf();
    return trim(ss.str());
}

std::string Daemon::log() const { return read_file(log_path_); }

std::string Daemon::current_log() const { return read_file(log_path_, run_log_offset_); }

pid_t Daemon::pid() const { return pid_; }

NotifyState Daemon::notify_state() const { return notify_ ? notify_->state() : NotifyState{}; }

// ---------------------------------------------------------------------------
// One-shot commands
// ---------------------------------------------------------------------------

CommandResult run_program(const std::filesystem::path& program, const std::vector<std::string>& args,
                          std::chrono::seconds timeout, const std::string& stdin_data) {
    const auto deadline = Clock::now() + timeout;
    int out_pipe[2], err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw_errno("pipe2");
    Fd out_r(out_pipe[0]), out_w(out_pipe[1]);
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) throw_errno("pipe2");
    Fd err_r(err_pipe[0]), err_w(err_pipe[1]);
    // A socketpair rather than a pipe for stdin: send(MSG_NOSIGNAL) cannot
    // raise SIGPIPE in the test process if the child exits without reading.
    Fd in_parent, in_child;
    if (stdin_data.empty()) {
        in_child = open_dev_null();
    } else {
        int sp[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) throw_errno("socketpair");
        in_parent = Fd(sp[0]);
        in_child = Fd(sp[1]);
        ::fcntl(in_parent.get(), F_SETFL, O_NONBLOCK);
    }

    std::vector<std::string> argv = {program.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    SpawnSpec spec{program, argv, child_environment({}), in_child.get(), out_w.get(), err_w.get(), {}};
    const pid_t pid = spawn(spec);
    in_child.reset();
    out_w.reset();
    err_w.reset();
    ::fcntl(out_r.get(), F_SETFL, O_NONBLOCK);
    ::fcntl(err_r.get(), F_SETFL, O_NONBLOCK);

    CommandResult result;
    std::size_t written = 0;
    char buf[16384];
    bool timed_out = false;
    while (out_r.get() >= 0 || err_r.get() >= 0) {
        pollfd fds[3];
        nfds_t n = 0;
        int idx_out = -1, idx_err = -1, idx_in = -1;
        if (out_r.get() >= 0) fds[idx_out = static_cast<int>(n++)] = {out_r.get(), POLLIN, 0};
        if (err_r.get() >= 0) fds[idx_err = static_cast<int>(n++)] = {err_r.get(), POLLIN, 0};
        if (in_parent.get() >= 0) fds[idx_in = static_cast<int>(n++)] = {in_parent.get(), POLLOUT, 0};
        int left = remaining_ms(deadline);
        if (left == 0) {
            timed_out = true;
            break;
        }
        if (::poll(fds, n, left) < 0) {
            if (errno == EINTR) continue;
            throw_errno("poll");
        }
        auto drain = [&](int idx, Fd& fd, std::string& sink) {
            if (idx < 0 || fds[idx].revents == 0) return;
            ssize_t r = ::read(fd.get(), buf, sizeof buf);
            if (r > 0) sink.append(buf, static_cast<std::size_t>(r));
            else if (r == 0 || (errno != EAGAIN && errno != EINTR)) fd.reset();
        };
        drain(idx_out, out_r, result.out);
        drain(idx_err, err_r, result.err);
        if (idx_in >= 0 && fds[idx_in].revents != 0) {
            ssize_t w = ::send(in_parent.get(), stdin_data.data() + written, stdin_data.size() - written,
                               MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w > 0) written += static_cast<std::size_t>(w);
            if (written == stdin_data.size() || (w < 0 && errno != EAGAIN && errno != EINTR)) in_parent.reset();
        }
    }
    in_parent.reset();
    std::optional<int> status;
    if (!timed_out) status = wait_exit(pid, deadline);
    if (!status) {
        ::kill(pid, SIGKILL);
        wait_exit_blocking(pid);
        result.timed_out = true;
        result.exit_code = -1;
        return result;
    }
    result.exit_code = decode_wait_status(*status);
    return result;
}

CommandResult run_command(const std::vector<std::string>& args, std::chrono::seconds timeout,
                          const std::string& stdin_data) {
    return run_program(daemon_binary(), args, timeout, stdin_data);
}

}  // namespace helsebro::testing
