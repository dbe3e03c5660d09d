#pragma once
// Integration-test harness: runs the real helsebro binary as a child process.
// POSIX only (fork/exec, AF_UNIX notify socket); no Boost in this header.

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace helsebro::testing {

// ---------------------------------------------------------------------------
// systemd notify protocol (the daemon's readiness signal)
// ---------------------------------------------------------------------------

// What one or more notify datagrams said. Later datagrams override earlier
// fields, so a daemon may send STATUS before READY=1 or in the same datagram.
struct NotifyState {
    bool ready = false;     // READY=1 seen
    bool stopping = false;  // STOPPING=1 seen
    std::string status;     // last STATUS=... value
    // Port from the last STATUS containing "listening on <host>:<port>"; kept
    // when later STATUS lines (e.g. "stopping") carry no address.
    std::optional<std::uint16_t> listen_port;
    std::map<std::string, std::string> fields;  // last value of every KEY=VALUE
    std::vector<std::string> datagrams;         // raw datagrams, in arrival order
};

// Folds one datagram ("KEY=VALUE\nKEY=VALUE...") into `state`. Lines without
// '=' are ignored, as systemd does.
void apply_notify_datagram(NotifyState& state, std::string_view datagram);
NotifyState parse_notify_datagram(std::string_view datagram);

// Extracts PORT from a status such as "listening on 127.0.0.1:PORT" or
// "listening on [::1]:PORT". nullopt when there is no trailing ":<1-65535>".
std::optional<std::uint16_t> port_from_status(std::string_view status);

// Binds an AF_UNIX SOCK_DGRAM socket at `path` and drains it on a background
// thread. Draining continuously matters: the kernel queue holds only
// net.unix.max_dgram_qlen (often 10) datagrams and sd_notify() blocks when it
// is full, so an unread socket could wedge a daemon that sends WATCHDOG=1.
class NotifyListener {
public:
    explicit NotifyListener(std::filesystem::path path);
    ~NotifyListener();  // stops the thread, closes and unlinks the socket
    NotifyListener(const NotifyListener&) = delete;
    NotifyListener& operator=(const NotifyListener&) = delete;

    const std::filesystem::path& path() const { return path_; }
    NotifyState state() const;
    // Waits until `ready` (or `stopping`, if asked) has been seen; false on timeout.
    bool wait_ready(std::chrono::milliseconds timeout) const;
    bool wait_stopping(std::chrono::milliseconds timeout) const;
    // Applies every datagram already queued on the socket before returning.
    // Once the sender has exited, this makes state() complete (the harness
    // calls it after reaping, so STOPPING=1 is visible right after terminate()).
    void drain() const;

private:
    void run();
    void drain_locked() const;

    std::filesystem::path path_;
    int fd_ = -1;
    int wake_pipe_[2] = {-1, -1};
    mutable std::mutex mutex_;
    mutable std::condition_variable cv_;
    mutable NotifyState state_;
    std::thread thread_;
};

// ---------------------------------------------------------------------------
// The daemon under test
// ---------------------------------------------------------------------------

struct DaemonOptions {
    // Extra top-level YAML sections appended verbatim after the harness's own
    // http/store/auth/log sections (e.g. "fhir:\n  max_json_depth: 8\n").
    // Do not repeat http/store/auth/log here; use full_yaml to change them.
    std::string extra_yaml;
    // When set, the whole config file. "${DATA_DIR}" is replaced by data_dir().
    // default_config_yaml() is a good starting point.
    std::optional<std::string> full_yaml;
    // Appended after `serve --config FILE --data-dir DIR`.
    std::vector<std::string> extra_args;
    // Empty: a fresh unique temp dir, removed in the destructor.
    std::filesystem::path data_dir;

    // --- harness extensions (all optional) ---
    std::filesystem::path binary;                // empty: daemon_binary()
    std::map<std::string, std::string> env;      // added to / overriding the inherited environment
    std::chrono::seconds ready_timeout{20};      // deadline for READY=1 in start()
};

// The config the harness writes when full_yaml is not set (before extra_yaml
// is appended), with the literal placeholder "${DATA_DIR}".
std::string default_config_yaml();

class Daemon {
public:
    explicit Daemon(DaemonOptions options = {});
    ~Daemon();  // SIGKILL if still running, reap, remove temp dirs we own
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    // Spawns the daemon and blocks until it reports READY=1 with a port.
    // Throws std::runtime_error (with the tail of the daemon's output) if the
    // child exits or the deadline passes first. Restartable after kill9() or
    // terminate(); the data dir is kept, the port usually changes.
    void start();
    void kill9();    // SIGKILL + reap; no-op when not running
    // SIGTERM, wait up to `timeout`. Returns the exit code, 128+signal if it
    // died from a signal, or -1 on timeout (the child is then SIGKILLed and
    // reaped). If the child had already exited, returns that status; -1 if
    // never started.
    int terminate(std::chrono::seconds timeout = std::chrono::seconds(30));
    bool running() const;  // reaps the child if it has exited

    std::uint16_t port() const;                          // port of the current/last run; 0 before start()
    const std::filesystem::path& data_dir() const;
    std::string token() const;                           // data_dir/demo-client.token, trimmed; throws if missing
    std::string log() const;                             // everything the daemon printed, all runs (with separator lines)
    std::string current_log() const;                     // output of the current/last run only
    const std::filesystem::path& log_path() const { return log_path_; }
    const std::filesystem::path& config_path() const { return config_path_; }
    // The mapping rules the daemon loads (its working directory's "mappings"): empty at first.
    std::filesystem::path mappings_dir() const { return root_ / "mappings"; }
    pid_t pid() const;                                   // current/last child; -1 before start()
    // Everything received on the notify socket during the current/last run.
    NotifyState notify_state() const;
    // Exit status of the last reaped run (same encoding as terminate()), nullopt if none yet.
    std::optional<int> last_exit_status() const { return exit_status_; }

private:
    void write_config() const;
    void reap_blocking();
    void set_reaped(int wait_status) const;
    [[noreturn]] void fail_start(const std::string& why);

    DaemonOptions options_;
    std::filesystem::path root_;       // our private temp dir: config, log, notify sockets
    std::filesystem::path data_dir_;
    bool own_data_dir_ = false;
    std::filesystem::path config_path_;
    std::filesystem::path log_path_;
    std::uintmax_t run_log_offset_ = 0;
    unsigned runs_ = 0;
    mutable pid_t pid_ = -1;
    mutable bool reaped_ = true;
    mutable std::optional<int> exit_status_;
    std::uint16_t port_ = 0;
    std::unique_ptr<NotifyListener> notify_;
};

// HELSEBRO_BINARY from the build (${CMAKE_BINARY_DIR}/helsebro); the
// environment variable HELSEBRO_BINARY overrides it (e.g. to test an
// installed package).
std::filesystem::path daemon_binary();

struct CommandResult {
    int exit_code = -1;  // exit code, 128+signal, or -1 if it timed out (and was SIGKILLed)
    std::string out, err;
    bool timed_out = false;
};

// Runs daemon_binary() with `args` (argv[1..]) to completion.
CommandResult run_command(const std::vector<std::string>& args,
                          std::chrono::seconds timeout = std::chrono::seconds(30),
                          const std::string& stdin_data = {});
// Same for any program (argv[0] is `program`).
CommandResult run_program(const std::filesystem::path& program, const std::vector<std::string>& args,
                          std::chrono::seconds timeout = std::chrono::seconds(30),
                          const std::string& stdin_data = {});

}  // namespace helsebro::testing
