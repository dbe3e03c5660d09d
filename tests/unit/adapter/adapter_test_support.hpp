// Helpers shared by the adapter unit tests: a scratch directory that cleans itself up, and running
// a store job to completion with a deadline, so a hung writer fails the test instead of blocking it.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <random>
#include <string>
#include <system_error>

#include <unistd.h>

#include "adapter/store/store.hpp"

namespace helsebro::test {

using namespace std::chrono_literals;

// Long enough for a loaded CI machine, short enough that a hang is noticed.
inline constexpr auto deadline = 10s;

// A fresh directory under the system temp dir, removed with everything in it at scope exit.
class TempDir {
public:
    TempDir() {
        static std::atomic<unsigned> counter{0};
        std::random_device rd;
        auto name = "helsebro-adapter-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
                    std::to_string(rd());
        path_ = std::filesystem::temp_directory_path() / name;
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    std::string str() const { return path_.string(); }

private:
    std::filesystem::path path_;
};

// A job's Done did not arrive in time. Its job may still run later and touch the test's locals, so
// there is no safe way to go on: say so and stop this test process.
[[noreturn]] inline void abort_on_hang(const char* what) {
    std::fprintf(stderr, "FATAL: %s did not finish within %lld s; the store writer hangs.\n", what,
                 static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(deadline).count()));
    std::fflush(stderr);
    std::abort();
}

// Submits `job` and waits for its Done; returns `committed`.
inline bool run_job(store::Store& s, store::Job job) {
    auto done = std::make_shared<std::promise<bool>>();
    auto committed = done->get_future();
    s.submit(std::move(job), [done](bool c) { done->set_value(c); });
    if (committed.wait_for(deadline) != std::future_status::ready) abort_on_hang("a store job");
    return committed.get();
}

// Records a message as the write requests do, for the message id put_version wants.
inline std::int64_t record(store::Tx& tx, std::string_view body = "{}", std::string_view kind = "create") {
    store::ReceivedMessage m;
    m.sender = "test-client";
    m.method = "POST";
    m.target = "/fhir/Patient";
    m.content_type = "application/fhir+json";
    m.kind = std::string(kind);
    m.body = body;
    return tx.record_message(m);
}

// A store in its own scratch directory. The Store is declared after the directory so it closes first.
struct ScratchStore {
    TempDir dir;
    std::unique_ptr<store::Store> store;

    explicit ScratchStore(unsigned max_batch = 512, std::size_t max_queued = 10000) {
        store::StoreOptions o;
        o.data_dir = dir.str();
        o.group_commit_max_batch = max_batch;
        o.max_queued_jobs = max_queued;
        store = std::make_unique<store::Store>(o);
    }
};

}  // namespace helsebro::test
