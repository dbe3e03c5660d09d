// recipients (the address book) and mappings.dir: entries read in full, and every way an entry
// can be wrong, with its place in the file.
#include <gtest/gtest.h>

#include "adapter/config/recipients.hpp"
#include "config_test_support.hpp"

namespace helsebro::config::test {
namespace {

LoadError only_error(const std::string& yaml) {
    auto errors = errors_of(yaml);
    EXPECT_EQ(errors.size(), 1u) << joined(errors);
    return errors.empty() ? LoadError{} : errors.front();
}

// Columns in these entries: id's value at 9, endpoint's at 15, her_ids' first item at 15,
// organization_numbers' at 28, hpr_numbers' at 19.
std::string entry(const std::string& id, const std::string& endpoint,
                  const std::string& her_ids = "", const std::string& organization_numbers = "",
                  const std::string& hpr_numbers = "") {
    std::string out = "  - id: " + id + "\n    endpoint: " + endpoint + "\n";
    if (!her_ids.empty()) out += "    her_ids: [" + her_ids + "]\n";
    if (!organization_numbers.empty())
        out += "    organization_numbers: [" + organization_numbers + "]\n";
    if (!hpr_numbers.empty()) out += "    hpr_numbers: [" + hpr_numbers + "]\n";
    return out;
}

std::string recipients_yaml(const std::string& entries) {
    return "recipients:\n" + entries;
}

const std::string stolav_url = "https://fhir.stolav.example/fhir";

TEST(ConfigRecipients, EntriesAreReadInOrder) {
    auto config =
        loaded(recipients_yaml(entry("stolav", stolav_url, "\"8094\"", "\"883974832\"") +
                               entry("legekontor", "https://fhir.legekontor.example:8443/api/fhir",
                                     "", "", "\"9144889\", \"9144897\"")));
    ASSERT_NE(config, nullptr);
    ASSERT_EQ(config->recipients.size(), 2u);
    const Recipient& stolav = config->recipients[0];
    EXPECT_EQ(stolav.id, "stolav");
    EXPECT_EQ(stolav.endpoint, stolav_url);
    EXPECT_EQ(stolav.her_ids, std::vector<std::string>{"8094"});
    EXPECT_EQ(stolav.organization_numbers, std::vector<std::string>{"883974832"});
    EXPECT_TRUE(stolav.hpr_numbers.empty());
    const Recipient& gp = config->recipients[1];
    EXPECT_EQ(gp.id, "legekontor");
    EXPECT_EQ(gp.endpoint, "https://fhir.legekontor.example:8443/api/fhir");
    EXPECT_TRUE(gp.her_ids.empty());
    EXPECT_EQ(gp.hpr_numbers, (std::vector<std::string>{"9144889", "9144897"}));
}

TEST(ConfigRecipients, DefaultIsNone) {
    auto config = loaded("");
    ASSERT_NE(config, nullptr);
    EXPECT_TRUE(config->recipients.empty());
    EXPECT_NE(loaded("recipients: []\n"), nullptr);
}

TEST(ConfigRecipients, EntryWithoutIdentifiersIsAddressedById) {
    auto config =
        loaded(recipients_yaml(entry("arkiv", "https://arkiv.example/fhir") +
                               "  - {id: tom, endpoint: 'https://tom.example', her_ids: []}\n"));
    ASSERT_NE(config, nullptr);
    ASSERT_EQ(config->recipients.size(), 2u);
    EXPECT_TRUE(config->recipients[0].her_ids.empty());
    EXPECT_TRUE(config->recipients[0].organization_numbers.empty());
    EXPECT_TRUE(config->recipients[0].hpr_numbers.empty());
    EXPECT_EQ(config->recipients[1].endpoint, "https://tom.example");
}

TEST(ConfigRecipients, UnquotedNumbersAreTakenAsWritten) {
    auto config =
        loaded(recipients_yaml(entry("a", stolav_url, "8094, 000123", "883974832", "9144889")));
    ASSERT_NE(config, nullptr);
    EXPECT_EQ(config->recipients[0].her_ids, (std::vector<std::string>{"8094", "000123"}));
    EXPECT_EQ(config->recipients[0].organization_numbers, std::vector<std::string>{"883974832"});
    EXPECT_EQ(config->recipients[0].hpr_numbers, std::vector<std::string>{"9144889"});
}

TEST(ConfigRecipients, PlainHttpOnlyToThisMachine) {
    for (const std::string url :
         {"http://127.0.0.1:8081/fhir", "http://localhost:8081", "http://LocalHost/fhir",
          "http://[::1]:8081/fhir", "http://[0:0:0:0:0:0:0:1]"}) {
        EXPECT_NE(loaded(recipients_yaml(entry("local", "\"" + url + "\""))), nullptr) << url;
    }
    const auto e = only_error(recipients_yaml(entry("stolav", "http://fhir.stolav.example/fhir")));
    EXPECT_EQ(e.line, 3);
    EXPECT_EQ(e.column, 15);
    EXPECT_EQ(e.message, "'recipients[0].endpoint' must use https:// to reach another machine");
    EXPECT_EQ(e.hint, "plain http:// is only for 127.0.0.1, [::1] or localhost");
    for (const std::string url :
         {"http://127.0.0.2/fhir", "http://10.0.0.1", "http://[::2]", "http://localhost.example"}) {
        EXPECT_EQ(only_error(recipients_yaml(entry("x", "\"" + url + "\""))).message,
                  "'recipients[0].endpoint' must use https:// to reach another machine")
            << url;
    }
}

TEST(ConfigRecipients, MalformedEndpointsAreRefusedAtTheValue) {
    const std::vector<std::pair<std::string, std::string>> cases{
        {"fhir.stolav.example/fhir", "must be an https:// URL"},
        {"ftp://fhir.stolav.example", "must start with https://, not ftp://"},
        {"https://", "has no host"},
        {"https:///fhir", "has no host"},
        {"https://user:pw@fhir.example/fhir", "must not hold a user name or password"},
        {"https://fhir..example/fhir",
         "has host 'fhir..example', which is not a valid host name or IPv4 address"},
        {"https://-fhir.example",
         "has host '-fhir.example', which is not a valid host name or IPv4 address"},
        {"https://fhir_x.example",
         "has host 'fhir_x.example', which is not a valid host name or IPv4 address"},
        {"https://10.0.0.300/fhir",
         "has host '10.0.0.300', which is not a valid host name or IPv4 address"},
        {"https://fhir.example:0/fhir", "has port '0', which is not a number from 1 to 65535"},
        {"https://fhir.example:65536", "has port '65536', which is not a number from 1 to 65535"},
        {"https://fhir.example:/fhir", "has port '', which is not a number from 1 to 65535"},
        {"https://fhir.example:https", "has port 'https', which is not a number from 1 to 65535"},
        {"https://[::1/fhir", "has a '[' without its ']'"},
        {"https://[fhir]/x", "has host '[fhir]', which is not an IPv6 address"},
        {"https://::1/fhir", "looks like it has a bare IPv6 address"},
        {"https://fhir.example/fhir/", "must not end with '/'"},
        {"https://fhir.example/", "must not end with '/'"},
        {"https://fhir.example/fhir?x=1", "must not have a query ('?…')"},
        {"https://fhir.example#top", "must not have a fragment ('#…')"},
        {"https://fhir.example/a b", "has a character a URL cannot hold in its path"},
        {"https://fhir.example/%zz", "has a '%' not followed by two hexadecimal digits"},
    };
    for (const auto& [url, message] : cases) {
        const auto e = only_error(recipients_yaml(entry("a", "\"" + url + "\"")));
        EXPECT_EQ(e.message, "'recipients[0].endpoint' " + message) << url;
        EXPECT_EQ(std::pair(e.line, e.column), std::pair(3, 15)) << url;
    }
}

TEST(ConfigRecipients, EndpointMustBeAString) {
    const auto e = only_error("recipients:\n  - id: a\n    endpoint: [https://x.example]\n");
    EXPECT_EQ(e.message, "'recipients[0].endpoint' must be a string, got a list");
}

TEST(ConfigRecipients, BadIdHasPlace) {
    const auto e = only_error(recipients_yaml(entry("\"st olav\"", stolav_url)));
    EXPECT_EQ(
        e.to_string(),
        "test.yaml:2:9: 'recipients[0].id' must be 1 to 64 of A-Z a-z 0-9 . _ -, got 'st olav'");
    for (const std::string& bad :
         std::vector<std::string>{"\"\"", "\"a/b\"", "\"æøå\"", std::string(65, 'x')}) {
        EXPECT_TRUE(only_error(recipients_yaml(entry(bad, stolav_url)))
                        .message.starts_with("'recipients[0].id' must be 1 to 64 of"))
            << bad;
    }
}

TEST(ConfigRecipients, DuplicateIdIsReportedAtTheSecond) {
    const auto e =
        only_error(recipients_yaml(entry("stolav", stolav_url) + entry("stolav", stolav_url)));
    EXPECT_EQ(e.line, 4);
    EXPECT_EQ(e.column, 9);
    EXPECT_EQ(e.message, "'recipients' has recipient id 'stolav' twice");
    EXPECT_EQ(e.hint, "first at line 2");
}

TEST(ConfigRecipients, IdAndEndpointAreRequired) {
    const auto no_endpoint = only_error("recipients:\n  - id: a\n    her_ids: [1]\n");
    EXPECT_EQ(no_endpoint.to_string(), "test.yaml:2:5: 'recipients[0]' has no endpoint");
    const auto no_id = only_error("recipients:\n  - endpoint: " + stolav_url + "\n");
    EXPECT_EQ(no_id.to_string(), "test.yaml:2:5: 'recipients[0]' has no id");
    // Given without a value: one error, at the key, not a second for the missing endpoint.
    const auto empty = only_error("recipients:\n  - id: a\n    endpoint:\n");
    EXPECT_EQ(empty.to_string(), "test.yaml:3:5: 'recipients[0].endpoint' has no value");
}

TEST(ConfigRecipients, BadCheckDigitIsAnErrorWithAHint) {
    const auto e = only_error(recipients_yaml(entry("stolav", stolav_url, "", "\"883974833\"")));
    EXPECT_EQ(e.line, 4);
    EXPECT_EQ(e.column, 28);
    EXPECT_EQ(
        e.message,
        "'recipients[0].organization_numbers[0]' is not a valid organisation number: its check "
        "digit does not match, got '883974833'");
    EXPECT_EQ(e.hint, "copy it again from Enhetsregisteret (brreg.no)");
}

TEST(ConfigRecipients, IdentifiersMustBeDigitsOfTheRightLength) {
    const auto short_org = only_error(recipients_yaml(entry("a", stolav_url, "", "88397483")));
    EXPECT_EQ(short_org.message,
              "'recipients[0].organization_numbers[0]' must be an organisation number, 9 "
              "digits, got '88397483'");
    EXPECT_EQ(short_org.hint, "as in Enhetsregisteret, without spaces");
    EXPECT_EQ(only_error(recipients_yaml(entry("a", stolav_url, "", "\"883 974 832\""))).column,
              28);

    const auto her = only_error(recipients_yaml(entry("a", stolav_url, "8094, 12a")));
    EXPECT_EQ(std::pair(her.line, her.column), std::pair(4, 21));
    EXPECT_EQ(her.message, "'recipients[0].her_ids[1]' must be a HER-id, 1 to 9 digits, got '12a'");
    EXPECT_EQ(only_error(recipients_yaml(entry("a", stolav_url, "1234567890"))).message,
              "'recipients[0].her_ids[0]' must be a HER-id, 1 to 9 digits, got '1234567890'");
    EXPECT_EQ(only_error(recipients_yaml(entry("a", stolav_url, "-1"))).message,
              "'recipients[0].her_ids[0]' must be a HER-id, 1 to 9 digits, got '-1'");

    const auto hpr = only_error(recipients_yaml(entry("a", stolav_url, "", "", "\"\"")));
    EXPECT_EQ(std::pair(hpr.line, hpr.column), std::pair(4, 19));
    EXPECT_EQ(hpr.message,
              "'recipients[0].hpr_numbers[0]' must be an HPR number, 1 to 9 digits, got ''");
    EXPECT_EQ(only_error(recipients_yaml(entry("a", stolav_url, "", "", "[1]"))).message,
              "'recipients[0].hpr_numbers[0]' must be a string, got a list");
}

TEST(ConfigRecipients, IdentifierListMustBeAList) {
    const auto e =
        only_error("recipients:\n  - id: a\n    endpoint: " + stolav_url + "\n    her_ids: 8094\n");
    EXPECT_EQ(e.to_string(),
              "test.yaml:4:14: 'recipients[0].her_ids' must be a list, got '8094' (write [8094])");
}

TEST(ConfigRecipients, IdentifierUnderTwoRecipientsNamesBoth) {
    const auto e = only_error(recipients_yaml(entry("stolav", stolav_url, "8094", "883974832") +
                                              entry("stolav-2", "https://other.example", "8094")));
    EXPECT_EQ(e.line, 8);
    EXPECT_EQ(e.column, 15);
    EXPECT_EQ(e.message,
              "HER-id 8094 is under both recipient 'stolav' (line 4) and recipient 'stolav-2'");
    EXPECT_EQ(e.hint, "a message for it could go to either; keep it under one");

    const auto org = only_error(recipients_yaml(entry("a", stolav_url, "", "883974832") +
                                                entry("b", stolav_url, "", "\"883974832\"")));
    EXPECT_EQ(
        org.message,
        "organisation number 883974832 is under both recipient 'a' (line 4) and recipient 'b'");
    const auto hpr = only_error(recipients_yaml(entry("a", stolav_url, "", "", "9144889") +
                                                entry("b", stolav_url, "", "", "9144889")));
    EXPECT_EQ(hpr.message,
              "HPR number 9144889 is under both recipient 'a' (line 4) and recipient 'b'");
}

TEST(ConfigRecipients, IdentifierTwiceInOneRecipient) {
    const auto e = only_error(recipients_yaml(entry("a", stolav_url, "8094, 8094")));
    EXPECT_EQ(std::pair(e.line, e.column), std::pair(4, 21));
    EXPECT_EQ(e.message, "HER-id 8094 is given twice in recipient 'a'");
    EXPECT_EQ(e.hint, "first at line 4");
}

TEST(ConfigRecipients, SameDigitsOfDifferentKindsAreDifferentIdentifiers) {
    EXPECT_NE(loaded(recipients_yaml(entry("a", stolav_url, "9144889") +
                                     entry("b", stolav_url, "", "", "9144889"))),
              nullptr);
}

TEST(ConfigRecipients, EntryWithOtherMistakesStillCountsForAmbiguity) {
    const auto errors =
        errors_of(recipients_yaml(entry("a", "ftp://x", "8094") + entry("b", stolav_url, "8094")));
    ASSERT_EQ(errors.size(), 2u) << joined(errors);
    EXPECT_EQ(errors[1].message,
              "HER-id 8094 is under both recipient 'a' (line 4) and recipient 'b'");
}

TEST(ConfigRecipients, UnknownKeyHasPlaceAndHint) {
    const auto e = only_error("recipients:\n  - id: a\n    endpoint: " + stolav_url +
                              "\n    her_id: [8094]\n");
    EXPECT_EQ(e.to_string(),
              "test.yaml:4:5: unknown key 'recipients[0].her_id' (did you mean 'her_ids'?)");
    // A misspelt required key is also missing; both are said, the misspelling with its hint.
    const auto errors = errors_of("recipients:\n  - id: a\n    endpiont: " + stolav_url + "\n");
    ASSERT_EQ(errors.size(), 2u) << joined(errors);
    EXPECT_EQ(errors[0].to_string(), "test.yaml:2:5: 'recipients[0]' has no endpoint");
    EXPECT_EQ(errors[1].to_string(),
              "test.yaml:3:5: unknown key 'recipients[0].endpiont' (did you mean 'endpoint'?)");
    EXPECT_EQ(only_error("recipient:\n  - id: a\n").hint, "did you mean 'recipients'?");
}

TEST(ConfigRecipients, RepeatedKeyInAnEntry) {
    const auto e =
        only_error(recipients_yaml(entry("a", stolav_url) + "    endpoint: " + stolav_url + "\n"));
    EXPECT_EQ(e.to_string(),
              "test.yaml:4:5: 'recipients[0].endpoint' is given twice (first at line 3)");
}

TEST(ConfigRecipients, RecipientsMustBeAListOfMaps) {
    EXPECT_EQ(only_error("recipients: stolav\n").to_string(),
              "test.yaml:1:13: 'recipients' must be a list of recipients, got 'stolav'");
    EXPECT_EQ(only_error("recipients:\n  - stolav\n").to_string(),
              "test.yaml:2:5: 'recipients[0]' must be a map with id and endpoint, got 'stolav'");
}

TEST(ConfigRecipients, EveryBadEntryIsReported) {
    const auto errors = errors_of(recipients_yaml(entry("a", "http://example.org") +
                                                  entry("b", stolav_url, "", "123456789") +
                                                  "  - endpoint: " + stolav_url + "\n"));
    ASSERT_EQ(errors.size(), 3u) << joined(errors);
    EXPECT_EQ(errors[0].line, 3);
    EXPECT_EQ(errors[1].line, 6);
    EXPECT_EQ(errors[2].line, 7);
}

TEST(ConfigOrganizationNumber, Mod11CheckDigit) {
    using detail::valid_organization_number;
    for (const char* valid : {"883974832", "942110464", "987654325", "974760673"}) {
        EXPECT_TRUE(valid_organization_number(valid)) << valid;
    }
    for (const char* invalid :
         {"883974830", "942110465", "98765432", "9876543250", "98765432x", ""}) {
        EXPECT_FALSE(valid_organization_number(invalid)) << invalid;
    }
    // Weighted sum 133, remainder 1: check digit would be 10, so no number starts 91234567.
    for (char last = '0'; last <= '9'; ++last) {
        EXPECT_FALSE(valid_organization_number(std::string("91234567") + last)) << last;
    }
    // Weighted sum 9*3 + 1*6 = 33, remainder 0: the check digit is 0, not 11.
    EXPECT_TRUE(valid_organization_number("900100000"));
    EXPECT_FALSE(valid_organization_number("900100001"));
}

TEST(ConfigMappings, DirIsRelativeToTheConfigFile) {
    auto defaults = loaded("");
    ASSERT_NE(defaults, nullptr);
    EXPECT_EQ(defaults->mappings.dir, "");
    // The rules go with the config that names them, wherever the daemon is started from.
    TempDir dir;
    const auto file = dir.write("helsebro.yaml", "mappings:\n  dir: rules\n");
    auto config = loaded(load_file(file.string()));
    ASSERT_NE(config, nullptr);
    EXPECT_EQ(config->mappings.dir, (file.parent_path() / "rules").string());
    const auto absolute = dir.write("abs.yaml", "mappings:\n  dir: /etc/helsebro/mappings\n");
    EXPECT_EQ(loaded(load_file(absolute.string()))->mappings.dir, "/etc/helsebro/mappings");
    EXPECT_EQ(only_error("mappings:\n  dir: \"\"\n").to_string(),
              "test.yaml:2:8: 'mappings.dir' must not be empty");
    EXPECT_EQ(only_error("mappings:\n  dirs: x\n").hint, "did you mean 'dir'?");
}

}  // namespace
}  // namespace helsebro::config::test
