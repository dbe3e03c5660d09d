// Synthetic Norwegian identities for tests: the national test-data convention (month + 80) with
// valid check digits, so no real person's fødselsnummer ever appears in a test.
#pragma once

#include <cstdio>
#include <stdexcept>
#include <string>

namespace helsebro::testing {

// The two mod-11 check digits of a fødselsnummer from its first nine digits; empty when the
// individual number gives no valid number (then try the next one).
inline std::string fnr_check_digits(const std::string& nine) {
    static constexpr int w1[] = {3, 7, 6, 1, 8, 9, 4, 5, 2};
    static constexpr int w2[] = {5, 4, 3, 2, 7, 6, 5, 4, 3, 2};
    int s = 0;
    for (int i = 0; i < 9; ++i) s += (nine[i] - '0') * w1[i];
    int k1 = 11 - s % 11;
    if (k1 == 11) k1 = 0;
    if (k1 == 10) return {};
    s = 0;
    for (int i = 0; i < 9; ++i) s += (nine[i] - '0') * w2[i];
    s += k1 * w2[9];
    int k2 = 11 - s % 11;
    if (k2 == 11) k2 = 0;
    if (k2 == 10) return {};
    return std::to_string(k1) + std::to_string(k2);
}

// A synthetic fødselsnummer: born on day/month of (19)yy, the n-th valid one for that date.
inline std::string synthetic_fnr(int day, int month, int yy, int n = 0) {
    for (int individual = 100 + n; individual < 500; ++individual) {
        char nine[32];
        std::snprintf(nine, sizeof nine, "%02d%02d%02d%03d", day, month + 80, yy, individual);
        auto check = fnr_check_digits(nine);
        if (!check.empty()) return std::string(nine) + check;
    }
    throw std::logic_error("no synthetic fødselsnummer for that date");
}

// Distinct synthetic fødselsnumre for benchmarks and bulk tests: walks day, month, year and
// individual number from `start` and returns each valid one once (skipping invalid candidates
// rather than taking the next valid one, which would give two messages the same patient).
// bench/wrk/common.lua walks the same candidates.
class FnrSequence {
public:
    explicit FnrSequence(long start = 0) : n_(start) {}
    std::string next() {
        for (;; ++n_) {
            char nine[32];
            std::snprintf(nine, sizeof nine, "%02ld%02ld%02ld%03ld", n_ % 28 + 1, (n_ / 28) % 12 + 1 + 80, (n_ / 336) % 100,
                          100 + (n_ / 33600) % 400);
            auto check = fnr_check_digits(nine);
            if (!check.empty()) {
                ++n_;
                return std::string(nine) + check;
            }
        }
    }

private:
    long n_;
};

inline constexpr const char* fnr_system = "urn:oid:2.16.578.1.12.4.1.4.1";

}  // namespace helsebro::testing
