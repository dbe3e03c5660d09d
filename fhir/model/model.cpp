#include "fhir/model/model.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "fhir/model/tables.hpp"

namespace helsebro::fhir::model {

namespace {

using detail::Tables;
constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();

struct Range {
    std::uint32_t begin = 0, end = 0;
};

// The tables turned into the public structs. The pools mirror the flat list arrays of the tables
// position for position (item k of the list at offset o sits at pool[o + 1 + k]), so every interned
// list becomes a contiguous span without any bookkeeping. The spans and pointers handed out point
// into these members, so a Model is built in place and never copied or moved.
struct Model {
    Model();
    Model(const Model&) = delete;
    Model& operator=(const Model&) = delete;

    std::vector<std::string_view> strings;
    std::vector<std::string_view> string_pool;                   // mirrors string_lists
    std::vector<std::string_view> type_code_pool;                // mirrors type_lists
    std::vector<TypeRef> type_ref_pool;                          // mirrors type_lists
    std::vector<Invariant> invariant_pool;                       // mirrors invariant_lists
    std::vector<std::string_view> code_pool, system_pool;        // mirror code_lists
    std::deque<std::vector<std::string_view>> target_unions;     // stable storage, rarely used
    std::vector<Binding> bindings;
    // Per type, breadth-first from the root, so that the children of every element are adjacent.
    std::vector<Element> elements;
    std::vector<Range> child_range;                              // per element
    std::vector<std::uint32_t> content_target;                   // per element: referenced element or none
    std::vector<TypeDef> types;
    std::unordered_map<std::string_view, std::uint32_t> by_path;  // element index
    std::unordered_map<std::string_view, std::uint32_t> by_type;  // type index
    std::vector<std::string_view> resource_names;
};

std::string_view parent_path(std::string_view path) {
    const auto dot = path.rfind('.');
    return dot == std::string_view::npos ? std::string_view{} : path.substr(0, dot);
}

std::string_view last_segment(std::string_view path) {
    const auto dot = path.rfind('.');
    return dot == std::string_view::npos ? path : path.substr(dot + 1);
}

void load_strings(const Tables& t, Model& m) {
    std::size_t start = 0;
    for (std::size_t i = 0; i < t.strings.size(); ++i) {
        if (t.strings[i] == '\0') {
            m.strings.push_back(t.strings.substr(start, i - start));
            start = i + 1;
        }
    }
}

// Fills the pools that mirror the flat list arrays.
void load_lists(const Tables& t, Model& m) {
    const auto& s = m.strings;
    m.string_pool.resize(t.string_lists.size());
    for (std::size_t o = 0; o < t.string_lists.size(); o += 1 + t.string_lists[o]) {
        for (std::uint32_t k = 0; k < t.string_lists[o]; ++k) m.string_pool[o + 1 + k] = s[t.string_lists[o + 1 + k]];
    }
    const auto string_list = [&](std::uint32_t o) {
        return std::span<const std::string_view>(m.string_pool.data() + o + 1, t.string_lists[o]);
    };

    m.type_code_pool.resize(t.type_lists.size());
    m.type_ref_pool.resize(t.type_lists.size());
    for (std::size_t o = 0; o < t.type_lists.size(); o += 1 + detail::type_ref_stride * t.type_lists[o]) {
        for (std::uint32_t k = 0; k < t.type_lists[o]; ++k) {
            const std::uint32_t* item = &t.type_lists[o + 1 + detail::type_ref_stride * k];
            m.type_code_pool[o + 1 + k] = s[item[0]];
            m.type_ref_pool[o + 1 + k] = TypeRef{s[item[0]], s[item[1]], string_list(item[2])};
        }
    }

    m.invariant_pool.resize(t.invariant_lists.size());
    for (std::size_t o = 0; o < t.invariant_lists.size(); o += 1 + t.invariant_lists[o]) {
        for (std::uint32_t k = 0; k < t.invariant_lists[o]; ++k) {
            const std::uint32_t* row = &t.invariants[detail::invariant_stride * t.invariant_lists[o + 1 + k]];
            m.invariant_pool[o + 1 + k] =
                Invariant{s[row[detail::i_key]], s[row[detail::i_severity]], s[row[detail::i_human]],
                          s[row[detail::i_expression]]};
        }
    }

    m.code_pool.resize(t.code_lists.size());
    m.system_pool.resize(t.code_lists.size());
    for (std::size_t o = 0; o < t.code_lists.size(); o += 1 + detail::code_stride * t.code_lists[o]) {
        for (std::uint32_t k = 0; k < t.code_lists[o]; ++k) {
            m.system_pool[o + 1 + k] = s[t.code_lists[o + 1 + detail::code_stride * k]];
            m.code_pool[o + 1 + k] = s[t.code_lists[o + 2 + detail::code_stride * k]];
        }
    }

    for (std::size_t b = 0; b < t.bindings.size(); b += detail::binding_stride) {
        const std::uint32_t o = t.bindings[b + detail::b_code_list];
        m.bindings.push_back(Binding{s[t.bindings[b + detail::b_value_set]], t.bindings[b + detail::b_codes_known] != 0,
                                     {m.code_pool.data() + o + 1, t.code_lists[o]},
                                     {m.system_pool.data() + o + 1, t.code_lists[o]}});
    }
}

std::span<const std::string_view> target_union(Model& m, std::span<const TypeRef> refs) {
    std::span<const std::string_view> only;
    std::size_t with_targets = 0;
    for (const auto& r : refs) {
        if (!r.targets.empty()) {
            only = r.targets;
            ++with_targets;
        }
    }
    if (with_targets <= 1) return only;
    auto& u = m.target_unions.emplace_back();
    for (const auto& r : refs) {
        for (auto name : r.targets) {
            if (std::find(u.begin(), u.end(), name) == u.end()) u.push_back(name);
        }
    }
    return u;
}

Element make_element(const Tables& t, Model& m, std::size_t row_index) {
    const std::uint32_t* row = &t.elements[detail::element_stride * row_index];
    const auto& s = m.strings;
    Element e;
    e.path = s[row[detail::e_path]];
    e.name = last_segment(e.path);
    e.min = row[detail::e_min];
    e.max = row[detail::e_max] == detail::max_unbounded ? unbounded : row[detail::e_max];
    const std::uint32_t types = row[detail::e_type_list];
    e.types = {m.type_code_pool.data() + types + 1, t.type_lists[types]};
    e.type_refs = {m.type_ref_pool.data() + types + 1, t.type_lists[types]};
    e.targets = target_union(m, e.type_refs);
    e.content_reference = s[row[detail::e_content_reference]];
    e.binding = row[detail::e_binding] == 0 ? nullptr : &m.bindings[row[detail::e_binding] - 1];
    const std::uint32_t inv = row[detail::e_invariant_list];
    e.invariants = {m.invariant_pool.data() + inv + 1, t.invariant_lists[inv]};
    e.is_modifier = (row[detail::e_flags] & detail::el_modifier) != 0;
    e.is_summary = (row[detail::e_flags] & detail::el_summary) != 0;
    e.xml_attribute = (row[detail::e_flags] & detail::el_xml_attr) != 0;
    return e;
}

// Appends one type's elements breadth-first and records each one's children.
void load_type_elements(const Tables& t, Model& m, std::uint32_t first, std::uint32_t count) {
    std::vector<Element> snapshot;
    snapshot.reserve(count);
    std::unordered_map<std::string_view, std::uint32_t> local;
    std::vector<std::vector<std::uint32_t>> kids(count);
    for (std::uint32_t i = 0; i < count; ++i) {
        snapshot.push_back(make_element(t, m, first + i));
        local.emplace(snapshot.back().path, i);
        if (i > 0) kids[local.at(parent_path(snapshot.back().path))].push_back(i);
    }
    // Breadth-first: the queue is the output order itself.
    std::vector<std::uint32_t> order{0};
    for (std::size_t q = 0; q < order.size(); ++q) order.insert(order.end(), kids[order[q]].begin(), kids[order[q]].end());
    std::vector<std::uint32_t> position(count);
    const auto base = static_cast<std::uint32_t>(m.elements.size());
    for (std::uint32_t p = 0; p < count; ++p) position[order[p]] = base + p;
    for (std::uint32_t p = 0; p < count; ++p) {
        const std::uint32_t i = order[p];
        m.elements.push_back(snapshot[i]);
        m.child_range.push_back(kids[i].empty() ? Range{} : Range{position[kids[i].front()], position[kids[i].back()] + 1});
    }
}

Model::Model() {
    const Tables& t = detail::r4_tables();
    Model& m = *this;
    load_strings(t, m);
    load_lists(t, m);
    const std::size_t type_count = t.types.size() / detail::type_stride;
    m.elements.reserve(t.elements.size() / detail::element_stride);
    std::vector<std::uint32_t> roots;
    for (std::size_t i = 0; i < type_count; ++i) {
        const std::uint32_t* row = &t.types[detail::type_stride * i];
        roots.push_back(static_cast<std::uint32_t>(m.elements.size()));
        load_type_elements(t, m, row[detail::t_first], row[detail::t_count]);
    }
    for (std::uint32_t i = 0; i < m.elements.size(); ++i) m.by_path.emplace(m.elements[i].path, i);
    m.content_target.assign(m.elements.size(), none);
    for (std::uint32_t i = 0; i < m.elements.size(); ++i) {
        const auto ref = m.elements[i].content_reference;
        if (ref.starts_with('#')) {
            if (auto it = m.by_path.find(ref.substr(1)); it != m.by_path.end()) m.content_target[i] = it->second;
        }
    }
    for (std::size_t i = 0; i < type_count; ++i) {
        const std::uint32_t* row = &t.types[detail::type_stride * i];
        const auto kind = static_cast<Kind>(row[detail::t_kind]);
        const bool is_abstract = (row[detail::t_flags] & detail::type_abstract) != 0;
        m.types.push_back(TypeDef{m.strings[row[detail::t_name]], kind, is_abstract,
                                  (row[detail::t_flags] & detail::type_constraint) != 0, m.strings[row[detail::t_base]],
                                  m.strings[row[detail::t_regex]], m.strings[row[detail::t_value_type]],
                                  &m.elements[roots[i]]});
        m.by_type.emplace(m.types.back().name, static_cast<std::uint32_t>(i));
        if (kind == Kind::resource && !is_abstract) m.resource_names.push_back(m.types.back().name);
    }
    std::sort(m.resource_names.begin(), m.resource_names.end());
}

const Model& the_model() {
    static const Model m;  // thread-safe initialization on first use; read-only afterwards
    return m;
}

std::span<const Element> children_of(const Model& m, std::uint32_t index) {
    if (m.content_target[index] != none) index = m.content_target[index];
    const Range r = m.child_range[index];
    if (r.begin != r.end) return {m.elements.data() + r.begin, r.end - r.begin};
    const Element& e = m.elements[index];
    if (e.types.size() != 1) return {};
    const auto it = m.by_type.find(e.types.front());
    if (it == m.by_type.end()) return {};
    const Element* root = m.types[it->second].root;
    const Range tr = m.child_range[static_cast<std::size_t>(root - m.elements.data())];
    return {m.elements.data() + tr.begin, tr.end - tr.begin};
}

// "Quantity" matches "Quantity", "DateTime" matches "dateTime": the type with its first letter uppercased.
bool matches_choice_type(std::string_view suffix, std::string_view type) {
    if (suffix.size() != type.size() || suffix.empty()) return false;
    const char first = type.front() >= 'a' && type.front() <= 'z' ? static_cast<char>(type.front() - 'a' + 'A') : type.front();
    return suffix.front() == first && suffix.substr(1) == type.substr(1);
}

std::string_view resolved_type(const Model& m, const Element& e) {
    if (e.types.size() == 1) return e.types.front();
    const auto index = static_cast<std::size_t>(&e - m.elements.data());
    if (m.content_target[index] != none) {
        const Element& target = m.elements[m.content_target[index]];
        if (target.types.size() == 1) return target.types.front();
    }
    return {};
}

// Validation, FHIRPath and element order look the same few dozen names up millions of times a
// minute. A direct-mapped cache in front of the hash maps: a slot from a few of the name's bytes,
// and a hit only when the cached entry's own name is the name asked for. Entries point into the
// model, which never changes once built, so a slot is a single atomic pointer.
template <class T, std::size_t N = 512>
class NameCache {
public:
    template <class Lookup>
    const T* get(std::string_view name, std::string_view (*name_of)(const T&), Lookup&& lookup) {
        if (name.empty()) return lookup();
        auto b = [&](std::size_t i) { return static_cast<std::size_t>(static_cast<unsigned char>(name[i])); };
        const std::size_t n = name.size();
        std::size_t h = n * 131 + b(0) * 31 + b(n - 1) * 7 + b(n / 2) * 17 + b(n / 3) * 3 + b((2 * n) / 3) * 11;
        auto& slot = slots_[h % N];
        if (const T* hit = slot.load(std::memory_order_relaxed); hit && name_of(*hit) == name) return hit;
        const T* found = lookup();
        if (found) slot.store(found, std::memory_order_relaxed);
        return found;
    }

private:
    std::array<std::atomic<const T*>, N> slots_{};
};

std::string_view type_name(const TypeDef& t) { return t.name; }
std::string_view element_path(const Element& e) { return e.path; }

}  // namespace

bool Binding::allows(std::string_view code) const {
    return std::find(codes.begin(), codes.end(), code) != codes.end();
}

bool Binding::allows(std::string_view system, std::string_view code) const {
    for (std::size_t i = 0; i < codes.size(); ++i) {
        if (codes[i] == code && systems[i] == system) return true;
    }
    return false;
}

const TypeDef* type(std::string_view name) {
    static NameCache<TypeDef> cache;
    const Model& m = the_model();
    return cache.get(name, &type_name, [&]() -> const TypeDef* {
        const auto it = m.by_type.find(name);
        return it == m.by_type.end() ? nullptr : &m.types[it->second];
    });
}

const Element* element(std::string_view path) {
    static NameCache<Element, 2048> cache;
    const Model& m = the_model();
    return cache.get(path, &element_path, [&]() -> const Element* {
        const auto it = m.by_path.find(path);
        return it == m.by_path.end() ? nullptr : &m.elements[it->second];
    });
}

std::span<const Element> children(std::string_view path) {
    const Model& m = the_model();
    const Element* e = element(path);
    return e ? children_of(m, static_cast<std::uint32_t>(e - m.elements.data())) : std::span<const Element>{};
}

std::optional<Resolved> resolve_property(std::string_view parent, std::string_view json_name) {
    const Model& m = the_model();
    for (const Element& e : children(parent)) {
        if (!e.is_choice()) {
            if (e.name == json_name) return Resolved{&e, resolved_type(m, e)};
            continue;
        }
        const auto base = e.choice_base();
        if (json_name.size() <= base.size() || !json_name.starts_with(base)) continue;
        const auto suffix = json_name.substr(base.size());
        for (auto t : e.types) {
            if (matches_choice_type(suffix, t)) return Resolved{&e, t};
        }
    }
    return std::nullopt;
}

std::span<const std::string_view> resource_names() { return the_model().resource_names; }

std::span<const TypeDef> types() { return the_model().types; }

}  // namespace helsebro::fhir::model
