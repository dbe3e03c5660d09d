// Existence, filtering, subsetting and combining functions (FHIRPath §5.1-5.4), plus iif,
// aggregate and sort.
#include <algorithm>
#include <unordered_set>

#include "fhir/fhirpath/eval.hpp"
#include "fhir/fhirpath/functions.hpp"
#include "fhir/fhirpath/tables.hpp"

namespace helsebro::fhir::fhirpath::detail {
namespace {

using Fn = Collection(Evaluator&, const AstNode&, const Collection&, Frame&);

Collection boolean(bool b) { return Collection{Item(b)}; }

bool criterion(Evaluator& ev, const AstNode& call, const Item& item, std::int64_t i, Frame& frame) {
    auto b = to_boolean(call, ev.arg_for(call, 0, item, i, frame));
    return b.value_or(false);
}

Collection fn_empty(Evaluator&, const AstNode&, const Collection& in, Frame&) { return boolean(in.empty()); }

Collection fn_exists(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    if (call.args.empty()) return boolean(!in.empty());
    for (std::size_t i = 0; i < in.size(); ++i)
        if (criterion(ev, call, in[i], static_cast<std::int64_t>(i), frame)) return boolean(true);
    return boolean(false);
}

Collection fn_all(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    for (std::size_t i = 0; i < in.size(); ++i)
        if (!criterion(ev, call, in[i], static_cast<std::int64_t>(i), frame)) return boolean(false);
    return boolean(true);
}

// allTrue/anyTrue/allFalse/anyFalse: every item must be a Boolean.
template <bool Value, bool All>
Collection fn_booleans(Evaluator&, const AstNode& call, const Collection& in, Frame&) {
    for (const Item& item : in) {
        auto v = item.system_value();
        const bool* b = v ? std::get_if<bool>(&v->value()) : nullptr;
        if (!b) fail(call, std::string(call.name) + "() applies only to Booleans.");
        if (All && *b != Value) return boolean(false);
        if (!All && *b == Value) return boolean(true);
    }
    return boolean(All);
}

Collection fn_subset_of(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    const Collection other = ev.arg(call, 0, frame);
    for (const Item& x : in)
        if (!collection_contains(other, x)) return boolean(false);
    return boolean(true);
}

Collection fn_superset_of(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    const Collection other = ev.arg(call, 0, frame);
    for (const Item& x : other)
        if (!collection_contains(in, x)) return boolean(false);
    return boolean(true);
}

Collection fn_count(Evaluator&, const AstNode&, const Collection& in, Frame&) {
    return {Item(static_cast<std::int64_t>(in.size()))};
}
Collection fn_distinct(Evaluator&, const AstNode&, const Collection& in, Frame&) { return distinct(in); }
Collection fn_is_distinct(Evaluator&, const AstNode&, const Collection& in, Frame&) {
    return boolean(distinct(in).size() == in.size());
}

Collection fn_where(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    Collection out;
    for (std::size_t i = 0; i < in.size(); ++i)
        if (criterion(ev, call, in[i], static_cast<std::int64_t>(i), frame)) out.push_back(in[i]);
    return out;
}

Collection fn_select(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    Collection out;
    for (std::size_t i = 0; i < in.size(); ++i) {
        Collection r = ev.arg_for(call, 0, in[i], static_cast<std::int64_t>(i), frame);
        ev.count(call, r.size());
        out.insert(out.end(), std::make_move_iterator(r.begin()), std::make_move_iterator(r.end()));
    }
    return out;
}

// Breadth-first; an item seen before is not expanded again, so cycles end.
Collection fn_repeat(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    Collection out;
    Collection pending = in;
    std::unordered_set<const json::Value*> seen_nodes;
    while (!pending.empty()) {
        Collection next;
        for (std::size_t i = 0; i < pending.size(); ++i) {
            for (Item& r : ev.arg_for(call, 0, pending[i], static_cast<std::int64_t>(i), frame)) {
                const Node* n = r.node();
                const bool fresh = n ? seen_nodes.insert(n->value ? n->value : n->extras).second
                                     : !collection_contains(out, r);
                if (!fresh) continue;
                ev.count(call, 1);
                out.push_back(r);
                next.push_back(std::move(r));
            }
        }
        pending = std::move(next);
    }
    return out;
}

bool cast_matches(const AstNode& call, const Item& item) {
    if (!type_exists(call.type)) fail(call, "Unknown type " + call.type.text() + ".");
    return is_cast_type(item, call.type);
}

Collection fn_of_type(Evaluator&, const AstNode& call, const Collection& in, Frame&) {
    Collection out;
    for (const Item& item : in)
        if (cast_matches(call, item)) out.push_back(item);
    return out;
}

Collection fn_is(Evaluator&, const AstNode& call, const Collection& in, Frame&) {
    const Item* item = single(call, in, "The input of is()");
    if (!item) return {};
    if (!type_exists(call.type)) fail(call, "Unknown type " + call.type.text() + ".");
    return boolean(is_type(*item, call.type));
}

Collection fn_as(Evaluator&, const AstNode& call, const Collection& in, Frame&) {
    const Item* item = single(call, in, "The input of as()");
    if (!item || !cast_matches(call, *item)) return {};
    return {*item};
}

Collection fn_first(Evaluator&, const AstNode&, const Collection& in, Frame&) {
    return in.empty() ? Collection{} : Collection{in.front()};
}
Collection fn_last(Evaluator&, const AstNode&, const Collection& in, Frame&) {
    return in.empty() ? Collection{} : Collection{in.back()};
}
Collection fn_tail(Evaluator&, const AstNode&, const Collection& in, Frame&) {
    return in.size() <= 1 ? Collection{} : Collection(in.begin() + 1, in.end());
}

std::size_t count_arg(Evaluator& ev, const AstNode& call, Frame& frame) {
    auto n = single_integer(call, ev.arg(call, 0, frame), "The argument");
    if (!n) fail(call, std::string(call.name) + "() needs a number.");
    return *n < 0 ? 0 : static_cast<std::size_t>(*n);
}

Collection fn_skip(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    const std::size_t n = count_arg(ev, call, frame);
    return n >= in.size() ? Collection{} : Collection(in.begin() + static_cast<std::ptrdiff_t>(n), in.end());
}

Collection fn_take(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    const std::size_t n = count_arg(ev, call, frame);
    return Collection(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(std::min(n, in.size())));
}

Collection fn_single(Evaluator&, const AstNode& call, const Collection& in, Frame&) {
    const Item* item = single(call, in, "The input of single()");
    return item ? Collection{*item} : Collection{};
}

Collection fn_intersect(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    const Collection other = ev.arg(call, 0, frame);
    Collection out;
    for (const Item& x : in)
        if (collection_contains(other, x) && !collection_contains(out, x)) out.push_back(x);
    return out;
}

Collection fn_exclude(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    const Collection other = ev.arg(call, 0, frame);
    Collection out;
    for (const Item& x : in)
        if (!collection_contains(other, x)) out.push_back(x);
    return out;
}

Collection fn_union(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    Collection all = in;
    const Collection other = ev.arg(call, 0, frame);
    all.insert(all.end(), other.begin(), other.end());
    return distinct(all);
}

Collection fn_combine(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    Collection all = in;
    const Collection other = ev.arg(call, 0, frame);
    all.insert(all.end(), other.begin(), other.end());
    return all;
}

// iif's branches see the same $this as its criterion: the input (one item at most).
Collection fn_iif(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    if (in.size() > 1) fail(call, "iif() applies to one item at most, not to a collection of " + std::to_string(in.size()) + ".");
    Frame inner{&in, frame.index, frame.total};
    if (to_boolean(call, ev.eval(*call.args[0], in, inner)).value_or(false)) return ev.eval(*call.args[1], in, inner);
    if (call.args.size() < 3) return {};
    return ev.eval(*call.args[2], in, inner);
}

Collection fn_aggregate(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    Collection total = call.args.size() > 1 ? ev.arg(call, 1, frame) : Collection{};
    for (std::size_t i = 0; i < in.size(); ++i) {
        Collection self{in[i]};
        Frame inner{&self, static_cast<std::int64_t>(i), &total};
        Collection next = ev.eval(*call.args[0], self, inner);
        ev.count(call, next.size());
        total = std::move(next);
    }
    return total;
}

// sort(key, ...): a key written as -expr sorts descending on expr.
Collection fn_sort(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    struct Keyed {
        Item item;
        std::vector<std::optional<Item>> keys;
    };
    std::vector<Keyed> rows;
    rows.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        Keyed row{in[i], {}};
        if (call.args.empty()) row.keys.push_back(in[i].system_value());
        for (const auto& key : call.args) {
            const AstNode& expr = key->op == Op::negate ? *key->args[0] : *key;
            Collection self{in[i]};
            Frame inner{&self, static_cast<std::int64_t>(i), frame.total};
            row.keys.push_back(single_value(call, ev.eval(expr, self, inner), "A sort key"));
        }
        rows.push_back(std::move(row));
    }
    auto less = [&](const Keyed& a, const Keyed& b) {
        for (std::size_t k = 0; k < a.keys.size(); ++k) {
            const bool descending = !call.args.empty() && call.args[k]->op == Op::negate;
            const auto& x = a.keys[k];
            const auto& y = b.keys[k];
            if (!x || !y) {
                if (!x && !y) continue;
                return !y != descending;  // empty sorts last (first when descending)
            }
            const int c = items_compare(call, *x, *y).value_or(0);
            if (c != 0) return (c < 0) != descending;
        }
        return false;
    };
    std::stable_sort(rows.begin(), rows.end(), less);
    Collection out;
    out.reserve(rows.size());
    for (auto& r : rows) out.push_back(std::move(r.item));
    return out;
}

Collection fn_not(Evaluator&, const AstNode& call, const Collection& in, Frame&) {
    auto b = to_boolean(call, in);
    if (!b) return {};
    if (in.size() == 1) {
        auto v = in[0].system_value();
        if (!v || !std::holds_alternative<bool>(v->value())) {
            // Singleton evaluation makes any single item true; not() of it is false.
            return boolean(false);
        }
    }
    return boolean(!*b);
}

Collection fn_trace(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    if (!ev.env().trace) return in;
    auto name = single_string(call, ev.arg(call, 0, frame), "The trace name");
    if (call.args.size() < 2) {
        ev.env().trace(name.value_or(""), in);
        return in;
    }
    Collection projected;
    for (std::size_t i = 0; i < in.size(); ++i) {
        Collection r = ev.arg_for(call, 1, in[i], static_cast<std::int64_t>(i), frame);
        projected.insert(projected.end(), r.begin(), r.end());
    }
    ev.env().trace(name.value_or(""), projected);
    return in;
}

}  // namespace

std::span<const FunctionDef> collection_functions() {
    static constexpr FunctionDef table[] = {
        {"empty", 0, 0, 0, false, false, InputKind::any, fn_empty},
        {"exists", 0, 1, 1, false, false, InputKind::any, fn_exists},
        {"all", 1, 1, 1, false, false, InputKind::any, fn_all},
        {"allTrue", 0, 0, 0, false, false, InputKind::boolean, fn_booleans<true, true>},
        {"anyTrue", 0, 0, 0, false, false, InputKind::boolean, fn_booleans<true, false>},
        {"allFalse", 0, 0, 0, false, false, InputKind::boolean, fn_booleans<false, true>},
        {"anyFalse", 0, 0, 0, false, false, InputKind::boolean, fn_booleans<false, false>},
        {"subsetOf", 1, 1, 0, false, false, InputKind::any, fn_subset_of},
        {"supersetOf", 1, 1, 0, false, false, InputKind::any, fn_superset_of},
        {"count", 0, 0, 0, false, false, InputKind::any, fn_count},
        {"distinct", 0, 0, 0, false, false, InputKind::any, fn_distinct},
        {"isDistinct", 0, 0, 0, false, false, InputKind::any, fn_is_distinct},
        {"where", 1, 1, 1, false, false, InputKind::any, fn_where},
        {"select", 1, 1, 1, false, false, InputKind::any, fn_select},
        {"repeat", 1, 1, 1, false, false, InputKind::any, fn_repeat},
        {"ofType", 1, 1, 0, true, false, InputKind::any, fn_of_type},
        {"is", 1, 1, 0, true, false, InputKind::any, fn_is},
        {"as", 1, 1, 0, true, false, InputKind::any, fn_as},
        {"first", 0, 0, 0, false, true, InputKind::any, fn_first},
        {"last", 0, 0, 0, false, true, InputKind::any, fn_last},
        {"tail", 0, 0, 0, false, true, InputKind::any, fn_tail},
        {"skip", 1, 1, 0, false, true, InputKind::any, fn_skip},
        {"take", 1, 1, 0, false, true, InputKind::any, fn_take},
        {"single", 0, 0, 0, false, false, InputKind::any, fn_single},
        {"intersect", 1, 1, 0, false, false, InputKind::any, fn_intersect},
        {"exclude", 1, 1, 0, false, false, InputKind::any, fn_exclude},
        {"union", 1, 1, 0, false, false, InputKind::any, fn_union},
        {"combine", 1, 1, 0, false, false, InputKind::any, fn_combine},
        {"iif", 2, 3, 7, false, false, InputKind::any, fn_iif},
        {"aggregate", 1, 2, 1, false, false, InputKind::any, fn_aggregate},
        {"sort", 0, 8, 0xff, false, false, InputKind::any, fn_sort},
        {"not", 0, 0, 0, false, false, InputKind::any, fn_not},
        {"trace", 1, 2, 2, false, false, InputKind::any, fn_trace},
    };
    return table;
}

}  // namespace helsebro::fhir::fhirpath::detail
