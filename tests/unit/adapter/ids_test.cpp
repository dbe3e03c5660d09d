// Server-assigned ids (store::new_id: UUIDv7) and the store's clock (store::now_instant).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <regex>
#include <set>
#include <thread>
#include <string>
#include <vector>

#include "adapter/store/store.hpp"
#include "fhir/resource_types.hpp"

namespace helsebro {
namespace {

using namespace std::chrono_literals;
using std::chrono::system_clock;

// RFC 9562: version nibble 7, variant bits 10 (first hex digit of the 4th group is 8, 9, a or b).
const std::regex uuid_v7("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(system_clock::now().time_since_epoch()).count();
}

// The 48-bit Unix millisecond timestamp a UUIDv7 starts with.
std::int64_t timestamp_of(const std::string& id) {
    return static_cast<std::int64_t>(std::stoull(id.substr(0, 8) + id.substr(9, 4), nullptr, 16));
}

// Lets the wall clock move on by at least `d`, checking it rather than trusting a sleep's length.
void let_clock_pass(std::chrono::milliseconds d) {
    const auto until = system_clock::now() + d;
    while (system_clock::now() < until) std::this_thread::yield();
}

TEST(NewId, ThousandIdsAreUniqueFhirIdsShapedAsUuidV7) {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        auto id = store::new_id();
        EXPECT_TRUE(fhir::is_valid_id(id)) << id;
        EXPECT_TRUE(std::regex_match(id, uuid_v7)) << id;
        EXPECT_EQ(id[14], '7') << id;
        seen.insert(id);
    }
    EXPECT_EQ(seen.size(), 1000u);
}

TEST(NewId, StartsWithTheCurrentUnixMilliseconds) {
    auto before = now_ms();
    auto id = store::new_id();
    auto after = now_ms();
    EXPECT_GE(timestamp_of(id), before) << id;
    EXPECT_LE(timestamp_of(id), after) << id;
}

TEST(NewId, IdsCreatedAtLeastTwoMillisecondsApartSortInCreationOrder) {
    // Time order is the point of v7 (new rows land at the B-tree's right edge); within one
    // millisecond the random bits decide, so only ids apart in time are compared.
    std::vector<std::string> ids;
    for (int i = 0; i < 20; ++i) {
        if (i > 0) let_clock_pass(2ms);
        ids.push_back(store::new_id());
    }
    EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
}

TEST(NowInstant, IsAFhirInstantInUtcWithMilliseconds) {
    auto before = system_clock::now();
    auto instant = store::now_instant();
    auto after = system_clock::now();
    ASSERT_TRUE(std::regex_match(instant, std::regex(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$)")))
        << instant;

    // It names the current time (UTC, not local time): parse it back and compare.
    std::tm tm{};
    tm.tm_year = std::stoi(instant.substr(0, 4)) - 1900;
    tm.tm_mon = std::stoi(instant.substr(5, 2)) - 1;
    tm.tm_mday = std::stoi(instant.substr(8, 2));
    tm.tm_hour = std::stoi(instant.substr(11, 2));
    tm.tm_min = std::stoi(instant.substr(14, 2));
    tm.tm_sec = std::stoi(instant.substr(17, 2));
    auto ms = std::stoi(instant.substr(20, 3));
    auto t = system_clock::from_time_t(timegm(&tm)) + std::chrono::milliseconds(ms);
    EXPECT_GE(t, std::chrono::floor<std::chrono::milliseconds>(before));
    EXPECT_LE(t, after);
}

}  // namespace
}  // namespace helsebro
