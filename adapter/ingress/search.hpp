// FHIR search (GET [base]/{type}?...) and instance history (GET [base]/{type}/{id}/_history) over
// what the store holds. Both page with an opaque cursor in the next link, never an offset: the
// cursor names where the last page ended, so writes in between neither skip nor repeat results.
// No `total` is given: counting every match costs as much as finding them all, and no client of
// ours needs it (FHIR makes it optional).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapter/http/http.hpp"
#include "adapter/store/store.hpp"

namespace helsebro::ingress {

struct SearchLimits {
    std::size_t default_count = 20;
    std::size_t max_count = 1000;  // a larger _count is lowered to this
};

using Query = std::vector<std::pair<std::string, std::string>>;  // percent-decoded, in request order

// What a query asks of the store, or why it cannot be answered. `ignored` lists parameters left
// out under Prefer: handling=lenient (under strict, the default, they are the error instead).
struct ParsedSearch {
    store::SearchQuery query;
    Query understood;  // for the self and next links, without paging parameters
    std::vector<std::string> ignored;
    std::string error;  // set: answer 400 with it
};
ParsedSearch parse_search(std::string_view type, const Query& query, bool lenient, const SearchLimits& limits,
                          std::string_view base_url);

// Prefer: handling=lenient (anything else is strict).
bool lenient_handling(std::string_view prefer);

http::Response search(const store::Store& store, std::string_view base_url, std::string_view type, const Query& query,
                      std::string_view prefer, const SearchLimits& limits);
http::Response history(const store::Store& store, std::string_view base_url, std::string_view type, std::string_view id,
                       const Query& query, std::string_view prefer, const SearchLimits& limits);

}  // namespace helsebro::ingress
