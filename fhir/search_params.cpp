#include "fhir/search_params.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <regex>
#include <tuple>

#include "fhir/fhirpath.hpp"
#include "fhir/fhirpath/temporal.hpp"
#include "fhir/model/model.hpp"

namespace helsebro::fhir::search {

namespace detail {
std::span<const Param> r4_rows();
}

namespace {

using fhirpath::Item;
using fhirpath::Node;

std::span<const Param> rows() { return detail::r4_rows(); }

// The rows of one type: they are sorted by type, then code.
std::span<const Param> rows_of(std::string_view type) {
    auto all = rows();
    auto lo = std::lower_bound(all.begin(), all.end(), type, [](const Param& p, std::string_view t) { return p.type < t; });
    auto hi = std::upper_bound(lo, all.end(), type, [](std::string_view t, const Param& p) { return t < p.type; });
    return {lo, hi};
}

// Resource's parameters apply to every type, DomainResource's to all but Bundle, Binary, Parameters.
std::vector<std::string_view> lineage(std::string_view type) {
    std::vector<std::string_view> out;
    for (const auto* t = model::type(type); t && !t->name.empty(); t = t->base.empty() ? nullptr : model::type(t->base))
        out.push_back(t->name);
    return out;
}

// ---------------------------------------------------------------------------------------------
// Compiling the expressions, once each.

// resolve() cannot look into the store while a resource is indexed, and it could never resolve a
// reference by identifier alone. `X.where(resolve() is T)` is therefore decided by the reference
// itself: its "T/" prefix (or ".../T/id" url), else its `type` element; an untyped reference by
// identifier counts as a Patient, as the shared records in Norway name the patient that way.
std::string rewrite_resolve(std::string_view expression) {
    static const std::regex pattern(R"(\.where\(\s*resolve\(\)\s+is\s+([A-Za-z]+)\s*\))");
    std::string out;
    std::string text(expression);
    auto it = std::sregex_iterator(text.begin(), text.end(), pattern);
    std::size_t last = 0;
    for (; it != std::sregex_iterator(); ++it) {
        const auto& m = *it;
        std::string t = m[1].str();
        out.append(text, last, static_cast<std::size_t>(m.position(0)) - last);
        out += ".where(reference.startsWith('" + t + "/') or reference.contains('/" + t + "/') or (reference.empty() and (type = '" +
               t + "' or type.endsWith('/" + t + "')";
        if (t == "Patient") out += " or (type.empty() and identifier.exists())";
        out += ")))";
        last = static_cast<std::size_t>(m.position(0) + m.length(0));
    }
    out.append(text, last);
    return out;
}

// The elements of the resource an expression starts from ("subject" for CarePlan.subject...), so
// that a resource without any of them is not evaluated at all: most of a type's parameters name
// elements a given resource does not have. Empty when the expression does not say plainly.
std::vector<std::string> roots_of(std::string_view expression, std::string_view type) {
    std::vector<std::string> roots;
    std::string prefix = std::string(type) + ".";
    std::size_t branch_start = 0;
    int depth = 0;
    auto check_branch = [&](std::size_t begin, std::size_t end) {
        std::string_view b = expression.substr(begin, end - begin);
        while (!b.empty() && (b.front() == '(' || b.front() == ' ')) b.remove_prefix(1);
        if (!b.starts_with(prefix)) return false;
        b.remove_prefix(prefix.size());
        std::size_t n = 0;
        while (n < b.size() && (std::isalnum(static_cast<unsigned char>(b[n])) || b[n] == '_')) ++n;
        if (n == 0) return false;
        roots.emplace_back(b.substr(0, n));
        return true;
    };
    for (std::size_t i = 0; i <= expression.size(); ++i) {
        char c = i < expression.size() ? expression[i] : '|';
        if (c == '(' || c == '[') ++depth;
        if (c == ')' || c == ']') --depth;
        if (c == '\'') i = std::min(expression.find('\'', i + 1), expression.size());
        if (c == '|' && depth == 0) {
            if (!check_branch(branch_start, i)) return {};
            branch_start = i + 1;
        }
    }
    // Later mentions (`Patient.deceased.exists() and Patient.deceased != false`) are roots too.
    for (auto at = expression.find(prefix); at != std::string_view::npos; at = expression.find(prefix, at + 1)) {
        if (at > 0 && (std::isalnum(static_cast<unsigned char>(expression[at - 1])) || expression[at - 1] == '.')) continue;
        std::size_t n = at + prefix.size(), e = n;
        while (e < expression.size() && std::isalnum(static_cast<unsigned char>(expression[e]))) ++e;
        if (e > n) roots.emplace_back(expression.substr(n, e - n));
    }
    std::sort(roots.begin(), roots.end());
    roots.erase(std::unique(roots.begin(), roots.end()), roots.end());
    return roots;
}

struct Compiled {
    std::optional<fhirpath::Expression> expression;
    std::vector<std::string> roots;
};

struct Slot {
    std::once_flag once;
    Compiled compiled;
};

Slot& slot(const Param& p) {
    static const std::unique_ptr<Slot[]> slots(new Slot[rows().size()]);
    return slots[static_cast<std::size_t>(&p - rows().data())];
}

const Compiled& compiled(const Param& p) {
    Slot& s = slot(p);
    std::call_once(s.once, [&] {
        std::string text = rewrite_resolve(p.expression);
        fhirpath::CompileOptions options;
        options.context_type = p.type;
        auto c = fhirpath::compile(text, options);
        if (!c.expression) c = fhirpath::compile(text);  // a definition the model check disagrees with
        s.compiled.expression = std::move(c.expression);
        s.compiled.roots = roots_of(p.expression, p.type);
    });
    return s.compiled;
}

// Whether the resource has one of the roots; a choice root ("value") matches "valueQuantity".
bool has_root(const json::Value& resource, const std::vector<std::string>& roots) {
    if (roots.empty()) return true;
    for (const auto& [key, value] : resource.members()) {
        for (const auto& r : roots) {
            if (!key.starts_with(r)) continue;
            if (key.size() == r.size() || std::isupper(static_cast<unsigned char>(key[r.size()]))) return true;
        }
    }
    return false;
}

// ---------------------------------------------------------------------------------------------
// Turning what an expression gives into index values.

struct Sink {
    const Param& param;
    std::vector<Entry>& out;

    void add(Kind kind, std::string a, std::string b = {}, double number = 0, std::string_view suffix = {}) {
        Entry e;
        e.param = std::string(param.code);
        e.param += suffix;
        e.kind = kind;
        e.a = std::move(a);
        e.b = std::move(b);
        e.number = number;
        out.push_back(std::move(e));
    }
};

std::optional<std::string> text_at(const json::Value& v, std::string_view key) {
    const json::Value* m = v.find(key);
    if (!m || m->kind() == json::Value::Kind::object || m->kind() == json::Value::Kind::array || m->is_null())
        return std::nullopt;
    if (m->kind() == json::Value::Kind::boolean) return std::string(m->as_bool() ? "true" : "false");
    return m->text();
}

// A primitive node's value, or a system value's text.
std::optional<std::string> primitive_text(const Item& item) {
    if (const Node* n = item.node()) {
        if (!n->value || n->value->is_object() || n->value->is_array() || n->value->is_null()) return std::nullopt;
        if (n->value->kind() == json::Value::Kind::boolean) return std::string(n->value->as_bool() ? "true" : "false");
        return n->value->text();
    }
    return item.to_text();
}

void add_coding(Sink& s, const json::Value& coding, std::string_view suffix = {}) {
    auto code = text_at(coding, "code");
    if (code && !code->empty()) s.add(Kind::token, *code, text_at(coding, "system").value_or(""), 0, suffix);
}

void add_token(Sink& s, const Item& item) {
    const Node* n = item.node();
    std::string_view type = n ? n->type : std::string_view{};
    const json::Value* v = n ? n->value : nullptr;
    if (v && v->is_object()) {
        if (type == "Coding") return add_coding(s, *v);
        if (type == "CodeableConcept") {
            if (const json::Value* codings = v->find("coding"); codings && codings->is_array())
                for (const auto& c : codings->items()) add_coding(s, c);
            return;
        }
        if (type == "Identifier") {
            auto value = text_at(*v, "value");
            if (value && !value->empty()) s.add(Kind::token, *value, text_at(*v, "system").value_or(""));
            return;
        }
        if (type == "ContactPoint") {
            if (auto value = text_at(*v, "value"); value && !value->empty()) s.add(Kind::token, *value);
            return;
        }
        return;
    }
    if (auto text = primitive_text(item); text && !text->empty()) s.add(Kind::token, *text);
}

void add_reference(Sink& s, const Item& item) {
    const Node* n = item.node();
    const json::Value* v = n ? n->value : nullptr;
    if (v && v->is_object()) {
        if (auto ref = text_at(*v, "reference")) {
            if (auto t = reference_target(*ref)) s.add(Kind::reference, std::move(t->id), std::move(t->type));
        }
        if (const json::Value* ident = v->find("identifier"); ident && ident->is_object()) {
            auto value = text_at(*ident, "value");
            if (value && !value->empty())
                s.add(Kind::token, *value, text_at(*ident, "system").value_or(""), 0, ":identifier");
        }
        return;
    }
    // canonical and uri elements of reference parameters (instantiates-canonical, ...)
    if (auto text = primitive_text(item); text && !text->empty()) {
        if (auto t = reference_target(*text)) s.add(Kind::reference, std::move(t->id), std::move(t->type));
    }
}

void add_date_text(Sink& s, std::string_view text) {
    if (auto r = date_range(text)) s.add(Kind::date, std::move(r->low), std::move(r->high));
}

void add_date(Sink& s, const Item& item) {
    const Node* n = item.node();
    const json::Value* v = n ? n->value : nullptr;
    if (v && v->is_object()) {
        if (n->type == "Period") {
            auto start = text_at(*v, "start");
            auto end = text_at(*v, "end");
            auto low = start ? date_range(*start) : std::nullopt;
            auto high = end ? date_range(*end) : std::nullopt;
            if ((start && !low) || (end && !high) || (!low && !high)) return;
            s.add(Kind::date, low ? low->low : "0001-01-01T00:00:00.000Z", high ? high->high : "9999-12-31T23:59:59.999Z");
        } else if (n->type == "Timing") {
            if (const json::Value* events = v->find("event"); events && events->is_array())
                for (const auto& e : events->items())
                    if (e.is_string()) add_date_text(s, e.text());
        }
        return;
    }
    if (auto text = primitive_text(item)) add_date_text(s, *text);
}

void add_string_text(Sink& s, const std::string& text) {
    if (!text.empty()) s.add(Kind::string, normalize(text), text);
}

void add_string(Sink& s, const Item& item) {
    const Node* n = item.node();
    const json::Value* v = n ? n->value : nullptr;
    if (v && v->is_object()) {
        static constexpr std::string_view name_parts[] = {"text", "family", "given", "prefix", "suffix"};
        static constexpr std::string_view address_parts[] = {"text", "line", "city", "district", "state", "postalCode", "country"};
        std::span<const std::string_view> parts;
        if (n->type == "HumanName") parts = name_parts;
        else if (n->type == "Address") parts = address_parts;
        for (auto key : parts) {
            const json::Value* m = v->find(key);
            if (!m) continue;
            if (m->is_string()) add_string_text(s, m->text());
            if (m->is_array())
                for (const auto& x : m->items())
                    if (x.is_string()) add_string_text(s, x.text());
        }
        return;
    }
    if (auto text = primitive_text(item)) add_string_text(s, *text);
}

std::optional<double> number_of(std::string_view text) {
    if (text.empty()) return std::nullopt;
    std::string copy(text);
    char* end = nullptr;
    double d = std::strtod(copy.c_str(), &end);
    if (end != copy.c_str() + copy.size()) return std::nullopt;
    return d;
}

void add_number(Sink& s, const Item& item) {
    const Node* n = item.node();
    const json::Value* v = n ? n->value : nullptr;
    if (v && v->is_object()) {
        if (s.param.kind != Kind::quantity) return;
        auto value = text_at(*v, "value");
        auto number = value ? number_of(*value) : std::nullopt;
        if (!number) return;  // SampledData and Range are not indexed
        auto code = text_at(*v, "code");
        s.add(Kind::quantity, code ? *code : text_at(*v, "unit").value_or(""), text_at(*v, "system").value_or(""), *number);
        return;
    }
    auto text = primitive_text(item);
    if (auto number = text ? number_of(*text) : std::nullopt) s.add(s.param.kind, {}, {}, *number);
}

void add_item(Sink& s, const Item& item) {
    switch (s.param.kind) {
        case Kind::token: return add_token(s, item);
        case Kind::reference: return add_reference(s, item);
        case Kind::date: return add_date(s, item);
        case Kind::string: return add_string(s, item);
        case Kind::uri:
            if (auto text = primitive_text(item); text && !text->empty()) s.add(Kind::uri, *text);
            return;
        case Kind::number:
        case Kind::quantity: return add_number(s, item);
        case Kind::composite:
        case Kind::special: return;
    }
}

// ---------------------------------------------------------------------------------------------
// Dates.

std::string format_instant(std::chrono::sys_time<std::chrono::milliseconds> t) {
    using namespace std::chrono;
    auto day = floor<days>(t);
    year_month_day ymd(day);
    hh_mm_ss hms(t - day);
    int y = static_cast<int>(ymd.year());
    if (y < 1) return "0001-01-01T00:00:00.000Z";
    if (y > 9999) return "9999-12-31T23:59:59.999Z";
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", y, static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                  static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                  static_cast<int>(hms.subseconds().count()));
    return buf;
}

void append_utf8(std::string& out, char32_t c) {
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xc0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3f));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xe0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (c & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (c & 0x3f));
    }
}

char32_t lower(char32_t c) {
    if (c >= 'A' && c <= 'Z') return c + 32;
    if (c >= 0xc0 && c <= 0xde && c != 0xd7) return c + 32;  // Latin-1: À..Þ but ×
    if (c >= 0x100 && c <= 0x17f) {                          // Latin Extended-A: pairs, with two runs offset by one
        bool odd_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e);
        if (c == 0x130 || c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17f) return c;
        if (odd_upper ? (c % 2 == 1) : (c % 2 == 0)) return c + 1;
    }
    return c;
}

}  // namespace

std::string_view to_string(Kind kind) {
    switch (kind) {
        case Kind::number: return "number";
        case Kind::date: return "date";
        case Kind::string: return "string";
        case Kind::token: return "token";
        case Kind::reference: return "reference";
        case Kind::composite: return "composite";
        case Kind::quantity: return "quantity";
        case Kind::uri: return "uri";
        case Kind::special: return "special";
    }
    return "?";
}

std::vector<const Param*> params(std::string_view type) {
    std::vector<const Param*> out;
    if (!model::type(type)) return out;
    for (auto t : lineage(type))
        for (const auto& p : rows_of(t)) out.push_back(&p);
    std::sort(out.begin(), out.end(), [](const Param* a, const Param* b) { return a->code < b->code; });
    return out;
}

const Param* find(std::string_view type, std::string_view code) {
    for (auto t : lineage(type)) {
        auto r = rows_of(t);
        auto it = std::lower_bound(r.begin(), r.end(), code, [](const Param& p, std::string_view c) { return p.code < c; });
        if (it != r.end() && it->code == code) return &*it;
    }
    return nullptr;
}

bool indexed(const Param& p) {
    if (p.expression.empty() || p.kind == Kind::composite || p.kind == Kind::special) return false;
    return p.code != "_id" && p.code != "_lastUpdated";
}

std::vector<const Param*> uncompiled() {
    std::vector<const Param*> out;
    for (const auto& p : rows())
        if (indexed(p) && !compiled(p).expression) out.push_back(&p);
    return out;
}

std::vector<Entry> extract(const json::Value& resource, std::string_view type, std::size_t* failed) {
    std::vector<Entry> out;
    if (!resource.is_object()) return out;
    auto item = Item::resource(resource, type);
    for (auto t : lineage(type)) {
        for (const auto& p : rows_of(t)) {
            if (!indexed(p)) continue;
            const Compiled& c = compiled(p);
            if (!c.expression) {
                if (failed) ++*failed;
                continue;
            }
            if (!has_root(resource, c.roots)) continue;
            auto result = c.expression->evaluate(item);
            if (!result.items) {
                if (failed) ++*failed;
                continue;
            }
            Sink sink{p, out};
            for (const auto& i : *result.items) add_item(sink, i);
        }
    }
    auto key = [](const Entry& e) { return std::tie(e.param, e.a, e.b, e.number); };
    std::sort(out.begin(), out.end(), [&](const Entry& x, const Entry& y) { return key(x) < key(y); });
    out.erase(std::unique(out.begin(), out.end(), [&](const Entry& x, const Entry& y) { return key(x) == key(y); }), out.end());
    return out;
}

std::string normalize(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        auto b = static_cast<unsigned char>(text[i]);
        if (b < 0x80) {
            out += static_cast<char>(lower(b));
            ++i;
            continue;
        }
        int len = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
        if (len == 1 || i + static_cast<std::size_t>(len) > text.size()) {  // not UTF-8: kept as it is
            out += text[i++];
            continue;
        }
        char32_t c = b & (0x7f >> len);
        for (int k = 1; k < len; ++k) c = (c << 6) | (static_cast<unsigned char>(text[i + static_cast<std::size_t>(k)]) & 0x3f);
        append_utf8(out, lower(c));
        i += static_cast<std::size_t>(len);
    }
    return out;
}

std::optional<Range> date_range(std::string_view text) {
    using namespace std::chrono;
    using fhirpath::Precision;
    using fhirpath::Temporal;
    auto t = Temporal::parse(text.find('T') == std::string_view::npos ? Temporal::Kind::date : Temporal::Kind::datetime, text);
    if (!t) return std::nullopt;
    auto p = t->precision();
    auto ym = year(t->year()) / month(p >= Precision::month ? static_cast<unsigned>(t->month()) : 1u);
    sys_days day = ym / std::chrono::day(p >= Precision::day ? static_cast<unsigned>(t->day()) : 1u);
    sys_time<milliseconds> low = day;
    if (p >= Precision::hour) low += hours(t->hour());
    if (p >= Precision::minute) low += minutes(t->minute());
    if (p >= Precision::second) low += seconds(t->second()) + milliseconds(t->millisecond());
    sys_time<milliseconds> next;
    switch (p) {
        case Precision::year: next = sys_days((year(t->year()) + years(1)) / January / 1); break;
        case Precision::month: next = sys_days((ym + months(1)) / 1); break;
        case Precision::day: next = low + days(1); break;
        case Precision::hour: next = low + hours(1); break;
        case Precision::minute: next = low + minutes(1); break;
        case Precision::second: next = low + seconds(1); break;
        case Precision::millisecond: next = low + milliseconds(1); break;
    }
    auto offset = minutes(t->offset_minutes().value_or(0));
    return Range{format_instant(low - offset), format_instant(next - milliseconds(1) - offset)};
}

std::optional<Target> reference_target(std::string_view ref) {
    if (ref.empty() || ref.starts_with('#')) return std::nullopt;
    std::string_view path = ref;
    if (auto h = path.find("/_history/"); h != std::string_view::npos) path = path.substr(0, h);
    auto slash = path.rfind('/');
    if (slash != std::string_view::npos && slash > 0) {
        auto type_start = path.rfind('/', slash - 1);
        type_start = type_start == std::string_view::npos ? 0 : type_start + 1;
        auto type = path.substr(type_start, slash - type_start);
        auto id = path.substr(slash + 1);
        bool relative = type_start == 0;
        // Only "Type/id" itself is a reference into this server; other urls are kept whole.
        if (relative && model::type(type) && model::type(type)->kind == model::Kind::resource && !id.empty())
            return Target{std::string(type), std::string(id)};
    }
    return Target{"", std::string(ref)};
}

}  // namespace helsebro::fhir::search
