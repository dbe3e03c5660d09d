// Equality (=), equivalence (~) and ordering of items and collections.
#include <algorithm>
#include <cctype>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "fhir/fhirpath/eval.hpp"

namespace helsebro::fhir::fhirpath::detail {
namespace {

const Decimal* as_decimal(const Item::Value& v, Decimal& scratch) {
    if (const auto* d = std::get_if<Decimal>(&v)) return d;
    if (const auto* i = std::get_if<std::int64_t>(&v)) {
        scratch = Decimal::from_integer(*i);
        return &scratch;
    }
    return nullptr;
}

bool is_complex(const Item& item) {
    const Node* n = item.node();
    return n && !is_primitive_node(*n) && !item.system_value();
}

// Both sides as system values; nullopt when either has none (complex nodes, empty primitives).
std::optional<std::pair<Item, Item>> system_pair(const Item& a, const Item& b) {
    auto x = a.system_value();
    auto y = b.system_value();
    if (!x || !y) return std::nullopt;
    return std::make_pair(std::move(*x), std::move(*y));
}

std::string normalized(std::string_view s) {
    std::string out;
    bool space = false;
    for (char c : s) {
        if (std::isspace(static_cast<unsigned char>(c))) {
            space = !out.empty();
            continue;
        }
        if (space) out += ' ';
        space = false;
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

}  // namespace

std::optional<bool> items_equal(const Item& a, const Item& b) {
    if (is_complex(a) || is_complex(b)) {
        const Node* x = a.node();
        const Node* y = b.node();
        if (!x || !y || !x->value || !y->value) return false;
        return *x->value == *y->value;
    }
    if (auto sa = string_of(a), sb = string_of(b); sa && sb) return *sa == *sb;
    auto pair = system_pair(a, b);
    if (!pair) return false;
    const Item::Value& x = pair->first.value();
    const Item::Value& y = pair->second.value();
    Decimal dx, dy;
    if (const Decimal* p = as_decimal(x, dx)) {
        const Decimal* q = as_decimal(y, dy);
        if (!q) return false;
        if (x.index() == y.index() && std::holds_alternative<std::int64_t>(x))
            return std::get<std::int64_t>(x) == std::get<std::int64_t>(y);
        return compare(*p, *q) == 0;
    }
    if (x.index() != y.index()) return false;
    if (const auto* t = std::get_if<Temporal>(&x)) return equal(*t, std::get<Temporal>(y));
    if (const auto* q = std::get_if<Quantity>(&x)) return equal(*q, std::get<Quantity>(y));
    if (const auto* s = std::get_if<std::string>(&x)) return *s == std::get<std::string>(y);
    return std::get<bool>(x) == std::get<bool>(y);
}

bool items_equivalent(const Item& a, const Item& b) {
    if (is_complex(a) || is_complex(b)) {
        auto eq = items_equal(a, b);
        return eq && *eq;
    }
    if (auto sa = string_of(a), sb = string_of(b); sa && sb) return normalized(*sa) == normalized(*sb);
    auto pair = system_pair(a, b);
    if (!pair) return false;
    const Item::Value& x = pair->first.value();
    const Item::Value& y = pair->second.value();
    Decimal dx, dy;
    if (const Decimal* p = as_decimal(x, dx)) {
        const Decimal* q = as_decimal(y, dy);
        return q && equivalent(*p, *q);
    }
    if (x.index() != y.index()) return false;
    if (const auto* t = std::get_if<Temporal>(&x)) return equivalent(*t, std::get<Temporal>(y));
    if (const auto* q = std::get_if<Quantity>(&x)) return equivalent(*q, std::get<Quantity>(y));
    if (const auto* s = std::get_if<std::string>(&x)) return normalized(*s) == normalized(std::get<std::string>(y));
    return std::get<bool>(x) == std::get<bool>(y);
}

std::optional<int> items_compare(const AstNode& at, const Item& a, const Item& b) {
    auto pair = system_pair(a, b);
    if (!pair) fail(at, "Only primitive values can be ordered.");
    const Item::Value& x = pair->first.value();
    const Item::Value& y = pair->second.value();
    Decimal dx, dy;
    const Decimal* p = as_decimal(x, dx);
    const Decimal* q = as_decimal(y, dy);
    if (p && q) return compare(*p, *q);
    if (x.index() == y.index()) {
        if (const auto* s = std::get_if<std::string>(&x)) {
            const int c = s->compare(std::get<std::string>(y));
            return (c > 0) - (c < 0);
        }
        if (const auto* t = std::get_if<Temporal>(&x)) {
            const auto& u = std::get<Temporal>(y);
            if ((t->kind() == Temporal::Kind::time) != (u.kind() == Temporal::Kind::time))
                fail(at, "A Time cannot be compared with a Date or DateTime.");
            return compare(*t, u);
        }
        if (const auto* qa = std::get_if<Quantity>(&x)) return compare(*qa, std::get<Quantity>(y));
    }
    fail(at, "Cannot compare " + std::string(pair->first.type_name()) + " with " +
                 std::string(pair->second.type_name()) + ".");
}

std::optional<bool> collections_equal(const Collection& a, const Collection& b) {
    if (a.size() != b.size()) return false;
    bool undecided = false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto eq = items_equal(a[i], b[i]);
        if (!eq) undecided = true;
        else if (!*eq) return false;
    }
    if (undecided) return std::nullopt;
    return true;
}

bool collections_equivalent(const Collection& a, const Collection& b) {
    if (a.size() != b.size()) return false;
    std::vector<bool> used(b.size(), false);
    for (const Item& x : a) {
        bool found = false;
        for (std::size_t j = 0; j < b.size() && !found; ++j) {
            if (!used[j] && items_equivalent(x, b[j])) used[j] = found = true;
        }
        if (!found) return false;
    }
    return true;
}

bool collection_contains(const Collection& c, const Item& item) {
    return std::any_of(c.begin(), c.end(), [&](const Item& x) {
        auto eq = items_equal(x, item);
        return eq && *eq;
    });
}

// Strings (the usual case: isDistinct() over thousands of ids or codes) are equal exactly when their
// text is, so a hash set gives the same answer in linear time; anything else is compared pairwise.
Collection distinct(const Collection& c) {
    Collection out;
    out.reserve(c.size());
    std::vector<std::string_view> texts;
    texts.reserve(c.size());
    for (const Item& x : c) {
        auto s = string_of(x);
        if (!s) break;
        texts.push_back(*s);
    }
    if (texts.size() == c.size()) {
        std::unordered_set<std::string_view> seen;
        for (std::size_t i = 0; i < c.size(); ++i)
            if (seen.insert(texts[i]).second) out.push_back(c[i]);
        return out;
    }
    for (const Item& x : c)
        if (!collection_contains(out, x)) out.push_back(x);
    return out;
}

}  // namespace helsebro::fhir::fhirpath::detail
