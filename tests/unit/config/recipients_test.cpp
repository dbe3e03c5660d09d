// recipients (the address book) and mappings.dir: entries read in full, and every way an entry
// can be wrong, with its place in the file.
#include <gtest/gtest.h>

#include <filesystem>

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


// ---- Delivery settings. Lines 2 and 3 are id and endpoint; the key under test is on line 4.
// Columns of values on line 4: style 12, token_file 17, timeout_seconds 22, max_in_flight 20.
// Under tls: (line 5 on): ca_file 16, client_certificate_file 32, client_key_file 24, verify 15.
// Under retry: initial_delay_seconds 30, max_delay_seconds 26, max_age_hours 22.
std::string with(const std::string& lines, const std::string& endpoint = stolav_url) {
    return recipients_yaml("  - id: a\n    endpoint: " + endpoint + "\n" + lines);
}

// A file only its owner may read, as a token file must be.
std::filesystem::path write_private(const TempDir& dir, const std::string& name,
                                    const std::string& text) {
    const auto file = dir.write(name, text);
    std::filesystem::permissions(file, std::filesystem::perms::owner_read |
                                           std::filesystem::perms::owner_write);
    return file;
}

std::string place(const LoadError& e) {
    return std::to_string(e.line) + ":" + std::to_string(e.column);
}

TEST(ConfigRecipientDelivery, Defaults) {
    auto config = loaded(with(""));
    ASSERT_NE(config, nullptr);
    const Recipient& r = config->recipients.at(0);
    EXPECT_EQ(r.style, Recipient::Style::process_message);
    EXPECT_EQ(r.token, "");
    EXPECT_EQ(r.token_file, "");
    EXPECT_EQ(r.timeout_seconds, 30u);
    EXPECT_EQ(r.max_in_flight, 4u);
    EXPECT_EQ(r.tls.ca_file, "");
    EXPECT_EQ(r.tls.client_certificate_file, "");
    EXPECT_EQ(r.tls.client_key_file, "");
    EXPECT_TRUE(r.tls.verify);
    EXPECT_EQ(r.retry.initial_delay_seconds, 1u);
    EXPECT_EQ(r.retry.max_delay_seconds, 300u);
    EXPECT_EQ(r.retry.max_age_hours, 0u);
    // Empty maps keep every default.
    auto empty_maps = loaded(with("    tls: {}\n    retry: {}\n"));
    ASSERT_NE(empty_maps, nullptr);
    EXPECT_TRUE(empty_maps->recipients.at(0).tls.verify);
    EXPECT_EQ(empty_maps->recipients.at(0).retry.max_delay_seconds, 300u);
}

TEST(ConfigRecipientDelivery, Style) {
    const std::vector<std::pair<std::string, Recipient::Style>> styles{
        {"process-message", Recipient::Style::process_message},
        {"transaction", Recipient::Style::transaction},
        {"create", Recipient::Style::create}};
    for (const auto& [text, style] : styles) {
        auto config = loaded(with("    style: " + text + "\n"));
        ASSERT_NE(config, nullptr) << text;
        EXPECT_EQ(config->recipients[0].style, style) << text;
    }
    const auto e = only_error(with("    style: process_message\n"));
    EXPECT_EQ(e.to_string(),
              "test.yaml:4:12: 'recipients[0].style' must be one of process-message, transaction, "
              "create; got 'process_message' (did you mean 'process-message'?)");
    EXPECT_EQ(only_error(with("    style: [create]\n")).message,
              "'recipients[0].style' must be one of process-message, transaction, create; got a "
              "list");
}

TEST(ConfigRecipientDelivery, TimeoutAndMaxInFlight) {
    auto config = loaded(with("    timeout_seconds: 600\n    max_in_flight: 64\n"));
    ASSERT_NE(config, nullptr);
    EXPECT_EQ(config->recipients[0].timeout_seconds, 600u);
    EXPECT_EQ(config->recipients[0].max_in_flight, 64u);
    config = loaded(with("    timeout_seconds: 1\n    max_in_flight: 1\n"));
    ASSERT_NE(config, nullptr);
    EXPECT_EQ(config->recipients[0].timeout_seconds, 1u);
    EXPECT_EQ(config->recipients[0].max_in_flight, 1u);

    EXPECT_EQ(only_error(with("    timeout_seconds: 0\n")).to_string(),
              "test.yaml:4:22: 'recipients[0].timeout_seconds' must be from 1 to 600, got 0");
    EXPECT_EQ(only_error(with("    timeout_seconds: 601\n")).to_string(),
              "test.yaml:4:22: 'recipients[0].timeout_seconds' must be from 1 to 600, got 601");
    EXPECT_EQ(only_error(with("    timeout_seconds: 30s\n")).to_string(),
              "test.yaml:4:22: 'recipients[0].timeout_seconds' must be an integer from 1 to 600, "
              "got '30s' (write a plain number; the unit is in the option's name)");
    EXPECT_EQ(only_error(with("    max_in_flight: 0\n")).to_string(),
              "test.yaml:4:20: 'recipients[0].max_in_flight' must be from 1 to 64, got 0");
    EXPECT_EQ(only_error(with("    max_in_flight: 65\n")).to_string(),
              "test.yaml:4:20: 'recipients[0].max_in_flight' must be from 1 to 64, got 65");
    EXPECT_EQ(only_error(with("    max_in_flight: \"4\"\n")).hint,
              "write the number without quotes");
    EXPECT_EQ(only_error(with("    timeout: 30\n")).hint, "did you mean 'timeout_seconds'?");
}

const std::string secret = "s3cr3t-T0KEN-a1b2c3d4e5f6";

TEST(ConfigRecipientDelivery, TokenFileIsReadRelativeToTheConfigFile) {
    TempDir dir;
    write_private(dir, "secrets/stolav.token", secret + "\n");
    const auto file = dir.write("helsebro.yaml", with("    token_file: secrets/stolav.token\n"));
    auto config = loaded(load_file(file.string()));
    ASSERT_NE(config, nullptr);
    EXPECT_EQ(config->recipients[0].token, secret);
    EXPECT_EQ(config->recipients[0].token_file, (dir.path() / "secrets/stolav.token").string());
    // An absolute path is taken as it is; CRLF and no final newline are fine too.
    write_private(dir, "crlf.token", secret + "\r\n");
    write_private(dir, "bare.token", secret);
    for (const std::string name : {"crlf.token", "bare.token"}) {
        const auto other = dir.write("other.yaml", with("    token_file: " +
                                                        (dir.path() / name).string() + "\n"));
        auto c = loaded(load_file(other.string()));
        ASSERT_NE(c, nullptr) << name;
        EXPECT_EQ(c->recipients[0].token, secret) << name;
    }
}

TEST(ConfigRecipientDelivery, BadTokenFilesAreRefusedWithoutShowingTheToken) {
    TempDir dir;
    write_private(dir, "empty.token", "");
    write_private(dir, "newline.token", "\n");
    write_private(dir, "two-lines.token", secret + "\n" + secret + "\n");
    write_private(dir, "space.token", "Bearer " + secret + "\n");
    dir.write("public.token", secret + "\n");  // the default mode: readable by everyone
    std::filesystem::permissions(dir.path() / "public.token",
                                 std::filesystem::perms::others_read,
                                 std::filesystem::perm_options::add);
    write_private(dir, "huge.token", std::string(20000, 'x'));
    const std::vector<std::pair<std::string, std::string>> cases{
        {"empty.token", "which is empty"},
        {"newline.token", "which is empty"},
        {"two-lines.token", "which holds more than one line"},
        {"space.token", "whose token has a space or a character an HTTP header cannot carry"},
        {"public.token", "which every user of this machine can read"},
        {"huge.token", "which is far too large to hold a token"},
    };
    std::vector<LoadError> all;
    for (const auto& [name, why] : cases) {
        const auto config = dir.write("c.yaml", with("    token_file: " + name + "\n"));
        const auto errors = errors_of(load_file(config.string()));
        ASSERT_EQ(errors.size(), 1u) << name << "\n" << joined(errors);
        const auto& e = errors[0];
        EXPECT_EQ(place(e), "4:17") << name;
        EXPECT_EQ(e.message, "'recipients[0].token_file' names " + (dir.path() / name).string() +
                                 ", " + why)
            << name;
        all.push_back(e);
    }
    EXPECT_EQ(all[4].hint, "chmod o-r it (e.g. mode 0640, owner root, group helsebro)");
    EXPECT_EQ(all[2].hint, "the file must hold the bearer token alone, on one line");

    // Missing, a directory, or no path at all.
    const auto missing = only_error(with("    token_file: /nonexistent/helsebro/stolav.token\n"));
    EXPECT_EQ(missing.to_string(),
              "test.yaml:4:17: 'recipients[0].token_file' cannot be read: "
              "/nonexistent/helsebro/stolav.token: No such file or directory");
    EXPECT_EQ(only_error(with("    token_file: \"\"\n")).message,
              "'recipients[0].token_file' must not be empty");
    all.push_back(missing);
    // The token itself pasted where its file's name belongs: not echoed back.
    const auto pasted = only_error(with("    token_file: " + secret + "\n"));
    EXPECT_EQ(pasted.to_string(),
              "test.yaml:4:17: 'recipients[0].token_file' cannot be read: the file it names: No "
              "such file or directory (give the path of a file holding the token, not the token)");
    all.push_back(pasted);
    for (const auto& e : all) {
        EXPECT_EQ(e.to_string().find(secret), std::string::npos) << e.to_string();
        EXPECT_EQ(e.to_string().find("s3cr3t"), std::string::npos) << e.to_string();
    }
}

TEST(ConfigRecipientDelivery, TlsFilesAreRelativeToTheConfigFile) {
    TempDir dir;
    dir.write("tls/ca.pem", "-----BEGIN CERTIFICATE-----\n");
    dir.write("tls/client.crt", "-----BEGIN CERTIFICATE-----\n");
    write_private(dir, "tls/client.key", "-----BEGIN PRIVATE KEY-----\n");
    const auto file = dir.write(
        "etc/helsebro.yaml",
        with("    tls:\n      ca_file: ../tls/ca.pem\n      client_certificate_file: "
             "../tls/client.crt\n      client_key_file: " +
             (dir.path() / "tls/client.key").string() + "\n      verify: true\n"));
    auto config = loaded(load_file(file.string()));
    ASSERT_NE(config, nullptr);
    const auto& tls = config->recipients[0].tls;
    EXPECT_EQ(tls.ca_file, (dir.path() / "tls/ca.pem").string());
    EXPECT_EQ(tls.client_certificate_file, (dir.path() / "tls/client.crt").string());
    EXPECT_EQ(tls.client_key_file, (dir.path() / "tls/client.key").string());
    EXPECT_TRUE(tls.verify);
}

TEST(ConfigRecipientDelivery, TlsFilesMustExist) {
    TempDir dir;
    const auto file = dir.write("helsebro.yaml", with("    tls:\n      ca_file: missing.pem\n"));
    const auto errors = errors_of(load_file(file.string()));
    ASSERT_EQ(errors.size(), 1u) << joined(errors);
    EXPECT_EQ(place(errors[0]), "5:16");
    EXPECT_EQ(errors[0].message, "'recipients[0].tls.ca_file' cannot be read: " +
                                     (dir.path() / "missing.pem").string() +
                                     ": No such file or directory");
    EXPECT_EQ(errors[0].hint, "a relative path is relative to the config file's directory");

    const auto directory = only_error(with("    tls:\n      ca_file: /\n"));
    EXPECT_EQ(directory.to_string(),
              "test.yaml:5:16: 'recipients[0].tls.ca_file' names /, which is not a file");
    // Each bad file is reported, at its own value.
    const auto both = errors_of(with("    tls:\n      client_certificate_file: /nonexistent.crt\n"
                                     "      client_key_file: /\n"));
    ASSERT_EQ(both.size(), 2u) << joined(both);
    EXPECT_EQ(place(both[0]), "5:32");
    EXPECT_EQ(place(both[1]), "6:24");
}

TEST(ConfigRecipientDelivery, ClientCertificateAndKeyGoTogether) {
    TempDir dir;
    dir.write("client.crt", "x");
    write_private(dir, "client.key", "x");
    const auto cert = dir.write(
        "a.yaml", with("    tls:\n      client_certificate_file: client.crt\n"));
    auto errors = errors_of(load_file(cert.string()));
    ASSERT_EQ(errors.size(), 1u) << joined(errors);
    EXPECT_EQ(place(errors[0]), "5:7");
    EXPECT_EQ(errors[0].message,
              "'recipients[0].tls.client_certificate_file' is given without client_key_file");
    EXPECT_EQ(errors[0].hint, "mutual TLS needs both the certificate and its private key");

    const auto key = dir.write("b.yaml", with("    tls:\n      client_key_file: client.key\n"));
    errors = errors_of(load_file(key.string()));
    ASSERT_EQ(errors.size(), 1u) << joined(errors);
    EXPECT_EQ(place(errors[0]), "5:7");
    EXPECT_EQ(errors[0].message,
              "'recipients[0].tls.client_key_file' is given without client_certificate_file");
}

TEST(ConfigRecipientDelivery, VerifyFalseOnlyOnThisMachine) {
    const auto e = only_error(with("    tls:\n      verify: false\n"));
    EXPECT_EQ(e.to_string(),
              "test.yaml:5:15: 'recipients[0].tls.verify' may be false only for an endpoint on "
              "this machine, not fhir.stolav.example (trust its certificate with tls.ca_file "
              "instead)");
    EXPECT_EQ(only_error(with("    tls: {verify: false}\n", "https://10.0.0.1:8443/fhir")).message,
              "'recipients[0].tls.verify' may be false only for an endpoint on this machine, not "
              "10.0.0.1");
    for (const std::string url : {"https://127.0.0.1:8443/fhir", "https://localhost:8443",
                                  "\"https://[::1]:8443/fhir\"", "http://127.0.0.1:8081/fhir"}) {
        auto config = loaded(with("    tls:\n      verify: false\n", url));
        ASSERT_NE(config, nullptr) << url;
        EXPECT_FALSE(config->recipients[0].tls.verify) << url;
    }
    EXPECT_EQ(only_error(with("    tls:\n      verify: no\n")).to_string(),
              "test.yaml:5:15: 'recipients[0].tls.verify' must be true or false, got 'no' (write "
              "true or false)");
}

TEST(ConfigRecipientDelivery, TlsMustBeAMapOfKnownKeys) {
    EXPECT_EQ(only_error(with("    tls: true\n")).to_string(),
              "test.yaml:4:10: 'recipients[0].tls' must be a map of ca_file, "
              "client_certificate_file, client_key_file, verify, got 'true'");
    EXPECT_EQ(only_error(with("    tls:\n      verify_peer: true\n")).to_string(),
              "test.yaml:5:7: unknown key 'recipients[0].tls.verify_peer' (did you mean "
              "'verify'?)");
}

TEST(ConfigRecipientDelivery, Retry) {
    auto config = loaded(with("    retry:\n      initial_delay_seconds: 5\n      max_delay_seconds: "
                              "5\n      max_age_hours: 8760\n"));
    ASSERT_NE(config, nullptr);
    EXPECT_EQ(config->recipients[0].retry.initial_delay_seconds, 5u);
    EXPECT_EQ(config->recipients[0].retry.max_delay_seconds, 5u);
    EXPECT_EQ(config->recipients[0].retry.max_age_hours, 8760u);

    const auto e = only_error(
        with("    retry:\n      initial_delay_seconds: 60\n      max_delay_seconds: 30\n"));
    EXPECT_EQ(e.to_string(),
              "test.yaml:5:30: 'recipients[0].retry.initial_delay_seconds' (60) is more than "
              "'recipients[0].retry.max_delay_seconds' (30) (delays grow from "
              "initial_delay_seconds up to max_delay_seconds)");
    // Against the default maximum of 300.
    EXPECT_EQ(place(only_error(with("    retry:\n      initial_delay_seconds: 301\n"))), "5:30");

    EXPECT_EQ(only_error(with("    retry:\n      initial_delay_seconds: 0\n")).to_string(),
              "test.yaml:5:30: 'recipients[0].retry.initial_delay_seconds' must be from 1 to "
              "86400, got 0");
    EXPECT_EQ(only_error(with("    retry:\n      max_delay_seconds: 86401\n")).to_string(),
              "test.yaml:5:26: 'recipients[0].retry.max_delay_seconds' must be from 1 to 86400, "
              "got 86401");
    EXPECT_EQ(only_error(with("    retry:\n      max_age_hours: 8761\n")).to_string(),
              "test.yaml:5:22: 'recipients[0].retry.max_age_hours' must be from 0 to 8760, got "
              "8761");
    EXPECT_EQ(only_error(with("    retry:\n      max_delay: 60\n")).to_string(),
              "test.yaml:5:7: unknown key 'recipients[0].retry.max_delay' (did you mean "
              "'max_delay_seconds'?)");
    EXPECT_EQ(only_error(with("    retry: 3\n")).message,
              "'recipients[0].retry' must be a map of initial_delay_seconds, max_delay_seconds, "
              "max_age_hours, got '3'");
}

}  // namespace
}  // namespace helsebro::config::test
