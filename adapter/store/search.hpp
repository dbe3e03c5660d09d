// Search over what the store holds: the index rows a resource version is found by, and the
// queries on them. Every current version is indexed by the FHIR search parameters of its type (see
// fhir/search_params.hpp for what a row holds per parameter kind): one row per value, columns `a`
// and `b`. Tx::put_version writes the rows in the same transaction as the version, so every writer
// (REST, the mapping stage) indexes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "fhir/json.hpp"

namespace helsebro::store {

using Column = std::variant<std::string, double>;

struct IndexRow {
    std::string param;  // "status", "patient", "patient:identifier"
    Column a;           // text, or a number for number and quantity parameters
    std::string b;
};

// The rows of one resource, made off the writer thread (on the HTTP thread, in a mapping worker)
// so that the writer only inserts them. Unparseable JSON gives no rows.
struct SearchIndex {
    std::vector<IndexRow> rows;
};
SearchIndex make_search_index(const fhir::json::Value& resource, std::string_view type);
SearchIndex make_search_index(std::string_view json, std::string_view type);

// One test on a column of an index row.
struct Test {
    enum class On : unsigned char { a, b } column = On::a;
    enum class Op : unsigned char { eq, lt, le, gt, ge, starts_with, contains, ends_with } op = Op::eq;
    Column value;
};
// All tests hold for one row (negated: no row of the parameter passes them all).
struct Alternative {
    std::vector<Test> tests;
    bool negated = false;
};
// A resource matches when any alternative does (a query's comma). Two pseudo-parameters test the
// resource itself rather than index rows: "_id" (column a: the id) and "_lastUpdated" (a and b:
// the instant, "YYYY-MM-DDThh:mm:ss.sssZ"). `missing`: true matches resources without any row of
// the parameter, false those with one (then `any` is ignored).
struct Clause {
    std::string param;
    std::vector<Alternative> any;
    std::optional<bool> missing;
};

// What a mapping needs most: resources whose reference parameter (`patient`, `subject`) names a
// resource by identifier, e.g. the patient by national identity number.
Clause reference_identifier(std::string_view param, std::string_view system, std::string_view value);
// A token parameter: system empty matches any system.
Clause token(std::string_view param, std::string_view system, std::string_view code);
// A reference parameter to "Type/id".
Clause reference(std::string_view param, std::string_view type, std::string_view id);

// Results come in a stable order (the order the resources were created in), so a search can be
// read page by page while others write: `after` and `snapshot` come from the previous page. The
// snapshot keeps resources created after the first page out of later pages; a resource updated
// in between is still seen once, in its current version when its page is read.
struct SearchQuery {
    std::string type;
    std::vector<Clause> clauses;  // all of them hold
    std::size_t count = 20;
    std::int64_t after = 0;     // 0: from the start
    std::int64_t snapshot = 0;  // 0: take one now
};

}  // namespace helsebro::store
