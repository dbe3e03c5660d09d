// What was acknowledged survives kill -9, and concurrent writers all get their commits.
#include <thread>

#include "tests/integration/fixture.hpp"

namespace helsebro::testing {
namespace {

class Durability : public DaemonTest {};

TEST_F(Durability, AnAcknowledgedResourceSurvivesKill9) {
    auto created = client->post("/fhir/Patient", patient_json(synthetic_fnr(16, 6, 65)));
    ASSERT_EQ(created.status, 201);
    daemon->kill9();  // no chance to flush or checkpoint
    restart();
    auto read = client->get("/fhir/" + resource_path(created.header("location")));
    ASSERT_EQ(read.status, 200) << read.body;
    EXPECT_EQ(read.body, created.body);
}

TEST_F(Durability, EveryAcknowledgedWriteFromConcurrentClientsSurvivesKill9) {
    constexpr int writers = 8, per_writer = 25;
    std::vector<std::vector<std::string>> locations(writers);
    std::vector<std::thread> threads;
    for (int w = 0; w < writers; ++w) {
        threads.emplace_back([&, w] {
            HttpClient c(daemon->port());
            c.set_token(daemon->token());
            for (int i = 0; i < per_writer; ++i) {
                auto r = c.post("/fhir/Patient", patient_json(synthetic_fnr(1 + i % 28, 1 + w, 70)), {{"Prefer", "return=minimal"}});
                if (r.status == 201) locations[w].push_back(resource_path(r.header("location")));
            }
        });
    }
    for (auto& t : threads) t.join();
    daemon->kill9();
    restart();
    int found = 0;
    for (const auto& per : locations) {
        EXPECT_EQ(per.size(), static_cast<std::size_t>(per_writer));
        for (const auto& path : per) found += client->get("/fhir/" + path).status == 200;
    }
    EXPECT_EQ(found, writers * per_writer);
}

TEST_F(Durability, IdempotencySurvivesARestart) {
    std::string body = R"({"resourceType":"Bundle","type":"batch","identifier":{"system":"urn:ietf:rfc:3986","value":"urn:uuid:0f0e2f63-7a9c-4c55-b6c4-7a1b2f3c4d5e"},
      "entry":[{"resource":)" + patient_json(synthetic_fnr(17, 7, 66)) + R"(,"request":{"method":"POST","url":"Patient"}}]})";
    auto first = client->post("/fhir", body);
    ASSERT_EQ(first.status, 200) << first.body;
    daemon->kill9();
    restart();
    auto before = counts();
    auto second = client->post("/fhir", body);
    EXPECT_EQ(second.body, first.body);
    EXPECT_EQ(counts(), before);
}

}  // namespace
}  // namespace helsebro::testing
