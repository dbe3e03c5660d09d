#include <gtest/gtest.h>

#include "fhir/json.hpp"
#include "fhir/order.hpp"

namespace helsebro::fhir {
namespace {

std::string ordered(const std::string& text) {
    auto v = json::parse(text).value.value();
    order_by_definition(v);
    return json::write(v);
}

TEST(Order, MembersFollowTheDefinitionWithPrimitiveExtensionsAfterTheirValue) {
    EXPECT_EQ(ordered(R"({"gender":"female","_birthDate":{"id":"b"},"birthDate":"1970-01-01","name":[{"given":["Kari"],"family":"Nordmann"}],"id":"p1","resourceType":"Patient"})"),
              R"({"resourceType":"Patient","id":"p1","name":[{"family":"Nordmann","given":["Kari"]}],"gender":"female","birthDate":"1970-01-01","_birthDate":{"id":"b"}})");
}

TEST(Order, ChoiceTypesNestedResourcesAndExtensionUrlFirst) {
    EXPECT_EQ(ordered(R"({"entry":[{"resource":{"status":"final","resourceType":"Observation","code":{"text":"x"},"valueQuantity":{"unit":"kg","value":1.50}}}],"type":"collection","resourceType":"Bundle"})"),
              R"({"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1.50,"unit":"kg"}}}]})");
    EXPECT_EQ(ordered(R"({"resourceType":"Basic","code":{"text":"c"},"extension":[{"valueString":"v","url":"urn:e"}]})"),
              R"({"resourceType":"Basic","extension":[{"url":"urn:e","valueString":"v"}],"code":{"text":"c"}})");
}

TEST(Order, UnknownMembersStayAtTheEndInTheirOwnOrder) {
    EXPECT_EQ(ordered(R"({"zeta":1,"resourceType":"Patient","alpha":2,"active":true})"),
              R"({"resourceType":"Patient","active":true,"zeta":1,"alpha":2})");
}

}  // namespace
}  // namespace helsebro::fhir
