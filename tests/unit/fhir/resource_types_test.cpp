#include "fhir/resource_types.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

using helsebro::fhir::is_resource_type;
using helsebro::fhir::is_valid_id;
using helsebro::fhir::resource_types;

TEST(ResourceTypes, KnownTypesAreAccepted) {
    for (const char* name : {"Patient", "CarePlan", "Account", "VisionPrescription", "Bundle", "Binary", "Parameters",
                             "OperationOutcome", "MedicinalProductUndesirableEffect", "Media", "Medication"}) {
        EXPECT_TRUE(is_resource_type(name)) << name;
    }
}

TEST(ResourceTypes, OthersAreRefused) {
    for (const char* name : {"patient", "PATIENT", "Patient ", " Patient", "", "Resource", "DomainResource",
                             "Extension", "HumanName", "Patients", "Pat", "ZZZ", "AAA", "Carepl an",
                             // R5-only names
                             "Citation", "SubscriptionTopic", "Permission"}) {
        EXPECT_FALSE(is_resource_type(name)) << name;
    }
}

TEST(ResourceTypes, ListIsCompleteAndSorted) {
    const auto types = resource_types();
    EXPECT_EQ(types.size(), 146u);  // ResourceContainer in the R4 4.0.1 XSD
    EXPECT_TRUE(std::is_sorted(types.begin(), types.end()));
    EXPECT_EQ(std::adjacent_find(types.begin(), types.end()), types.end());
    for (auto t : types) EXPECT_TRUE(is_resource_type(t)) << t;
    EXPECT_EQ(types.front(), "Account");
    EXPECT_EQ(types.back(), "VisionPrescription");
}

TEST(ResourceIds, ValidIds) {
    for (const char* id : {"a", "1", "A-b.c", "123e4567-e89b-12d3-a456-426614174000", "..", "-"}) {
        EXPECT_TRUE(is_valid_id(id)) << id;
    }
    EXPECT_TRUE(is_valid_id(std::string(64, 'x')));
}

TEST(ResourceIds, InvalidIds) {
    for (const char* id : {"", "a_b", "a b", "a/b", "\xC3\xA6", "a\n", "a:b", "%41", "a+b"}) {
        EXPECT_FALSE(is_valid_id(id)) << id;
    }
    EXPECT_FALSE(is_valid_id(std::string(65, 'x')));
    EXPECT_FALSE(is_valid_id(std::string_view("a\0b", 3)));
}
