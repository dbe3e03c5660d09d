// The "did you mean" machinery on its own.
#include <gtest/gtest.h>

#include "adapter/config/suggest.hpp"

namespace helsebro::config::detail {
namespace {

TEST(ConfigSuggest, EditDistance) {
    EXPECT_EQ(edit_distance("", ""), 0u);
    EXPECT_EQ(edit_distance("", "abc"), 3u);
    EXPECT_EQ(edit_distance("abc", ""), 3u);
    EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
    EXPECT_EQ(edit_distance("threads", "treads"), 1u);
    EXPECT_EQ(edit_distance("Threads", "threads"), 0u);
}

TEST(ConfigSuggest, PicksTheClosest) {
    const std::vector<std::string> keys{"max_body_bytes", "max_header_bytes", "threads"};
    EXPECT_EQ(did_you_mean("max_body_size", keys), "did you mean 'max_body_bytes'?");
    EXPECT_EQ(did_you_mean("max_headers_bytes", keys), "did you mean 'max_header_bytes'?");
    EXPECT_EQ(did_you_mean("thread", keys), "did you mean 'threads'?");
}

TEST(ConfigSuggest, NoWildGuesses) {
    const std::vector<std::string> keys{"id", "token_sha256", "token_sha256_file"};
    EXPECT_EQ(did_you_mean("x", keys), "");
    EXPECT_EQ(did_you_mean("password", keys), "");
    EXPECT_EQ(did_you_mean("anything", {}), "");
}

}  // namespace
}  // namespace helsebro::config::detail
