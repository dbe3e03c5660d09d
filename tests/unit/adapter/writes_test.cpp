// The write path's promise: an answer other than 503 only for a job that ran to its end and committed.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <future>

#include "adapter/ingress/writes.hpp"
#include "tests/unit/adapter/adapter_test_support.hpp"

namespace helsebro::ingress {
namespace {

constexpr auto deadline = std::chrono::seconds(10);

http::Response run_write(store::Store& store, Work work, std::string key = {}, std::string body = "{}") {
    http::Request req;
    req.method = "POST";
    req.target = "/fhir/Patient";
    req.principal = "client";
    req.body = std::move(body);
    auto state = std::make_shared<WriteState>(WriteState{std::move(req), "create", std::move(key), std::nullopt});
    std::promise<http::Response> answer;
    auto f = answer.get_future();
    submit_write(store, state, std::move(work), [&](http::Response r) { answer.set_value(std::move(r)); },
                 *spdlog::default_logger());
    if (f.wait_for(deadline) != std::future_status::ready) test::abort_on_hang("a write");
    return f.get();
}

TEST(Writes, AJobThatThrowsIsAnswered503NotSuccess) {
    test::ScratchStore s;
    auto r = run_write(*s.store, [](store::Tx&, std::int64_t, bool&) -> http::Response {
        throw std::runtime_error("disk trouble");
    });
    EXPECT_EQ(r.status, 503);
    EXPECT_NE(r.body.find("OperationOutcome"), std::string::npos);
}

TEST(Writes, ASuccessIsReplayedForTheSameKeyAndBodyAndRefusedForOtherContent) {
    test::ScratchStore s;
    int runs = 0;
    auto work = [&](store::Tx&, std::int64_t, bool&) {
        ++runs;
        http::Response r;
        r.status = 201;
        r.body = "first";
        return r;
    };
    EXPECT_EQ(run_write(*s.store, work, "k", "{\"a\":1}").body, "first");
    EXPECT_EQ(run_write(*s.store, work, "k", "{\"a\":1}").body, "first");
    EXPECT_EQ(runs, 1);
    EXPECT_EQ(run_write(*s.store, work, "k", "{\"a\":2}").status, 409);
    EXPECT_EQ(runs, 1);
}

TEST(Writes, AFullQueueIsAnswered503WithRetryAfter) {
    test::TempDir dir;
    store::StoreOptions o;
    o.data_dir = dir.str();
    o.max_queued_jobs = 0;
    store::Store st(o);
    auto r = run_write(st, [](store::Tx&, std::int64_t, bool&) { return http::Response{}; });
    EXPECT_EQ(r.status, 503);
    bool retry_after = false;
    for (const auto& h : r.headers) retry_after |= h.name == "Retry-After";
    EXPECT_TRUE(retry_after);
}

}  // namespace
}  // namespace helsebro::ingress
