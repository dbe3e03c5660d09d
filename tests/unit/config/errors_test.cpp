// Rejections: every problem gets a place (line:column, 1-based), a message saying what was
// expected, and a hint where one helps.
#include <gtest/gtest.h>

#include "config_test_support.hpp"

namespace helsebro::config::test {
namespace {

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// The only error for `yaml`, failing the test if there is not exactly one.
LoadError only_error(const std::string& yaml) {
    auto errors = errors_of(yaml);
    EXPECT_EQ(errors.size(), 1u) << joined(errors);
    return errors.empty() ? LoadError{} : errors.front();
}

TEST(ConfigErrors, UnknownTopLevelKeyHasPlaceAndHint) {
    const auto e = only_error("htp:\n  threads: 2\n");
    EXPECT_EQ(e.file, "test.yaml");
    EXPECT_EQ(e.line, 1);
    EXPECT_EQ(e.column, 1);
    EXPECT_EQ(e.message, "unknown key 'htp'");
    EXPECT_EQ(e.hint, "did you mean 'http'?");
    EXPECT_EQ(e.to_string(), "test.yaml:1:1: unknown key 'htp' (did you mean 'http'?)");
}

TEST(ConfigErrors, UnknownNestedKeyHasPlaceAndHint) {
    const auto e = only_error("http:\n  listen: 127.0.0.1:8080\n  max_body_size: 100\n");
    EXPECT_EQ(e.line, 3);
    EXPECT_EQ(e.column, 3);
    EXPECT_EQ(e.message, "unknown key 'http.max_body_size'");
    EXPECT_EQ(e.hint, "did you mean 'max_body_bytes'?");
}

TEST(ConfigErrors, HintOnlyOffersKeysOfTheSameLevel) {
    // "data_dir" is a valid key, but in store, not in http.
    const auto e = only_error("http:\n  data_dir: x\n");
    EXPECT_EQ(e.message, "unknown key 'http.data_dir'");
    EXPECT_FALSE(contains(e.hint, "data_dir")) << e.hint;
}

TEST(ConfigErrors, NoHintWhenNothingIsClose) {
    const auto e = only_error("store:\n  frobnicate_everything: 1\n");
    EXPECT_EQ(e.line, 2);
    EXPECT_EQ(e.column, 3);
    EXPECT_EQ(e.hint, "");
    EXPECT_EQ(e.to_string(), "test.yaml:2:3: unknown key 'store.frobnicate_everything'");
}

TEST(ConfigErrors, DottedKeyIsNotAShortcut) {
    const auto e = only_error("http.threads: 4\n");
    EXPECT_EQ(e.message, "unknown key 'http.threads'");
    EXPECT_EQ(e.hint, "nest it: 'http:' with 'threads:' indented below");
}

TEST(ConfigErrors, KeysAreCaseSensitiveButHinted) {
    const auto e = only_error("http:\n  Threads: 4\n");
    EXPECT_EQ(e.hint, "did you mean 'threads'?");
}

TEST(ConfigErrors, WrongTypeNamesTheExpectedType) {
    const auto e = only_error("http:\n  threads: many\n");
    EXPECT_EQ(e.line, 2);
    EXPECT_EQ(e.column, 12);
    EXPECT_EQ(e.message, "'http.threads' must be an integer from 0 to 256, got 'many'");
}

TEST(ConfigErrors, ListWhereNumberExpected) {
    const auto e = only_error("fhir:\n  max_json_depth: [1, 2]\n");
    EXPECT_EQ(e.message, "'fhir.max_json_depth' must be an integer from 8 to 1000, got a list");
}

TEST(ConfigErrors, QuotedNumberIsAString) {
    const auto e = only_error("http:\n  threads: \"4\"\n");
    EXPECT_TRUE(contains(e.message, "quoted string")) << e.message;
    EXPECT_EQ(e.hint, "write the number without quotes");
}

TEST(ConfigErrors, NumberWithUnitPointsAtTheName) {
    const auto e = only_error("http:\n  max_body_bytes: 10MB\n");
    EXPECT_EQ(e.hint, "write a plain number; the unit is in the option's name");
}

TEST(ConfigErrors, OutOfRangeSaysTheRange) {
    const auto e = only_error("http:\n  threads: 257\n");
    EXPECT_EQ(e.line, 2);
    EXPECT_EQ(e.column, 12);
    EXPECT_EQ(e.message, "'http.threads' must be from 0 to 256, got 257");
}

TEST(ConfigErrors, OutOfRangeBelowMinimum) {
    EXPECT_EQ(only_error("fhir:\n  max_json_depth: 7\n").message,
              "'fhir.max_json_depth' must be from 8 to 1000, got 7");
    EXPECT_EQ(only_error("http:\n  max_body_bytes: 1023\n").message,
              "'http.max_body_bytes' must be from 1024 to 268435456, got 1023");
    EXPECT_EQ(only_error("http:\n  read_timeout_seconds: 0\n").message,
              "'http.read_timeout_seconds' must be from 1 to 3600, got 0");
    EXPECT_EQ(only_error("store:\n  read_connections: 65\n").message,
              "'store.read_connections' must be from 1 to 64, got 65");
    EXPECT_EQ(only_error("store:\n  group_commit_max_batch: 100001\n").message,
              "'store.group_commit_max_batch' must be from 1 to 100000, got 100001");
}

TEST(ConfigErrors, NegativeAndHugeNumbersAreRejected) {
    EXPECT_TRUE(contains(only_error("http:\n  threads: -1\n").message, "got '-1'"));
    EXPECT_TRUE(contains(only_error("http:\n  max_body_bytes: 99999999999999999999999\n").message,
                         "must be from 1024 to 268435456"));
    EXPECT_TRUE(contains(only_error("http:\n  threads: 1.5\n").message, "got '1.5'"));
}

TEST(ConfigErrors, YesIsNotABoolean) {
    const auto e = only_error("auth:\n  demo_client: yes\n");
    EXPECT_EQ(e.message, "'auth.demo_client' must be true or false, got 'yes'");
    EXPECT_EQ(e.hint, "write true or false");
}

TEST(ConfigErrors, EnumSuggestsTheNearestValue) {
    const auto e = only_error("log:\n  level: warning\n");
    EXPECT_EQ(e.line, 2);
    EXPECT_EQ(e.column, 10);
    EXPECT_EQ(e.message,
              "'log.level' must be one of trace, debug, info, warn, error; got 'warning'");
    EXPECT_EQ(e.hint, "did you mean 'warn'?");
}

TEST(ConfigErrors, SectionMustBeAMap) {
    const auto e = only_error("http: 8080\n");
    EXPECT_EQ(e.line, 1);
    EXPECT_EQ(e.column, 7);
    EXPECT_EQ(e.message, "'http' must be a map of options, got '8080'");
}

TEST(ConfigErrors, TopLevelMustBeAMap) {
    const auto e = only_error("- http\n- store\n");
    EXPECT_TRUE(contains(e.message, "must be a map of sections")) << e.message;
    EXPECT_TRUE(contains(e.message, "got a list")) << e.message;
}

TEST(ConfigErrors, KeyWithoutValueIsAnErrorAtTheKey) {
    const auto e = only_error("http:\n  threads:\n  listen: 127.0.0.1:1\n");
    EXPECT_EQ(e.line, 2);
    EXPECT_EQ(e.column, 3);
    EXPECT_EQ(e.message, "'http.threads' has no value");
    EXPECT_EQ(e.hint, "remove the line to keep the default, 0");
}

TEST(ConfigErrors, RepeatedKeyIsAnError) {
    const auto e = only_error("http:\n  threads: 1\n  threads: 2\n");
    EXPECT_EQ(e.line, 3);
    EXPECT_EQ(e.message, "'http.threads' is given twice");
    EXPECT_EQ(e.hint, "first at line 2");
}

TEST(ConfigErrors, PublicBaseUrlNeedsSchemeAndNoTrailingSlash) {
    const auto no_scheme = only_error("http:\n  public_base_url: example.org/fhir\n");
    EXPECT_EQ(no_scheme.message, "'http.public_base_url' must start with http:// or https://");
    EXPECT_EQ(no_scheme.line, 2);
    EXPECT_EQ(no_scheme.column, 20);
    EXPECT_EQ(only_error("http:\n  public_base_url: https://example.org/fhir/\n").message,
              "'http.public_base_url' must not end with '/'");
    EXPECT_EQ(only_error("http:\n  public_base_url: ftp://example.org\n").message,
              "'http.public_base_url' must start with http:// or https://");
}

TEST(ConfigErrors, EmptyDataDirIsRejected) {
    EXPECT_EQ(only_error("store:\n  data_dir: \"\"\n").message,
              "'store.data_dir' must not be empty");
}

TEST(ConfigErrors, AllErrorsAreReportedTogetherInFileOrder) {
    const auto errors = errors_of(
        "http:\n"
        "  threads: 1000\n"
        "  max_body_sise: 5\n"
        "store:\n"
        "  read_connections: 0\n"
        "log:\n"
        "  level: loud\n"
        "lgo: x\n");
    ASSERT_EQ(errors.size(), 5u) << joined(errors);
    const std::vector<std::pair<int, int>> places{{2, 12}, {3, 3}, {5, 21}, {7, 10}, {8, 1}};
    for (std::size_t i = 0; i < places.size(); ++i) {
        EXPECT_EQ(std::pair(errors[i].line, errors[i].column), places[i]) << errors[i].to_string();
    }
    EXPECT_EQ(errors[1].hint, "did you mean 'max_body_bytes'?");
    EXPECT_EQ(errors[4].hint, "did you mean 'log'?");
}

TEST(ConfigErrors, YamlSyntaxErrorHasItsPlace) {
    const auto e = only_error("http:\n  threads: [1, 2\nstore:\n  data_dir: x\n");
    EXPECT_EQ(e.line, 3);
    EXPECT_EQ(e.column, 6);
    EXPECT_TRUE(e.message.starts_with("YAML syntax error: ")) << e.message;
}

TEST(ConfigErrors, TabIndentationIsASyntaxError) {
    const auto e = only_error("http:\n\tthreads: 1\n");
    EXPECT_EQ(e.line, 2);
    EXPECT_TRUE(e.message.starts_with("YAML syntax error: ")) << e.message;
}

TEST(ConfigErrors, OnlyOneDocumentIsAllowed) {
    const auto e = only_error("http:\n  threads: 1\n---\nhttp:\n  threads: 2\n");
    EXPECT_EQ(e.line, 4);
    EXPECT_EQ(e.message, "the config must be one YAML document");
}

TEST(ConfigErrors, ToStringLeavesOutWhatIsMissing) {
    EXPECT_EQ((LoadError{"f.yaml", 3, 7, "bad", "try this"}).to_string(),
              "f.yaml:3:7: bad (try this)");
    EXPECT_EQ((LoadError{"f.yaml", 3, 0, "bad", ""}).to_string(), "f.yaml:3: bad");
    EXPECT_EQ((LoadError{"f.yaml", 0, 0, "bad", ""}).to_string(), "f.yaml: bad");
    EXPECT_EQ((LoadError{"", 0, 0, "bad", "hint"}).to_string(), "bad (hint)");
}

}  // namespace
}  // namespace helsebro::config::test
