#include "adapter/ingress/search.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <span>
#include <cmath>
#include <optional>

#include "adapter/ingress/reply.hpp"
#include "fhir/json.hpp"
#include "fhir/resource_types.hpp"
#include "fhir/search_params.hpp"

namespace helsebro::ingress {

namespace {

using store::Alternative;
using store::Clause;
using store::Test;
using On = Test::On;
using Op = Test::Op;
using Alternatives = std::vector<Alternative>;
namespace sp = fhir::search;

// Parameters about the answer rather than the match.
constexpr std::string_view paging_params[] = {"_count", "_cursor"};
constexpr std::string_view ignored_params[] = {"_format", "_pretty"};  // negotiation has handled them

Alternative all(std::vector<Test> tests) { return Alternative{std::move(tests), false}; }

// A query value split at its commas (OR); "\," is a comma inside a value, "\\" a backslash.
std::vector<std::string> split_values(std::string_view value) {
    std::vector<std::string> out(1);
    for (std::size_t i = 0; i < value.size(); ++i) {
        if (value[i] == '\\' && i + 1 < value.size()) {
            out.back() += value[++i];
        } else if (value[i] == ',') {
            out.emplace_back();
        } else {
            out.back() += value[i];
        }
    }
    return out;
}

enum class Prefix { eq, ne, lt, gt, le, ge, sa, eb, ap };

Prefix split_prefix(std::string_view& v) {
    static constexpr std::pair<std::string_view, Prefix> names[] = {
        {"eq", Prefix::eq}, {"ne", Prefix::ne}, {"lt", Prefix::lt}, {"gt", Prefix::gt}, {"le", Prefix::le},
        {"ge", Prefix::ge}, {"sa", Prefix::sa}, {"eb", Prefix::eb}, {"ap", Prefix::ap}};
    for (auto [name, prefix] : names) {
        if (v.starts_with(name)) {
            v.remove_prefix(2);
            return prefix;
        }
    }
    return Prefix::eq;
}

// The target's range is [a, b] (low, high); the search value's [low, high] (FHIR search.html#prefix).
// `ap` is taken as overlapping: "approximately" has no precise meaning to compute.
Alternatives date_tests(Prefix p, const sp::Range& r) {
    switch (p) {
        case Prefix::eq: return {all({{On::a, Op::ge, r.low}, {On::b, Op::le, r.high}})};
        case Prefix::ne: return {all({{On::a, Op::lt, r.low}}), all({{On::b, Op::gt, r.high}})};
        case Prefix::lt: return {all({{On::a, Op::lt, r.low}})};
        case Prefix::gt: return {all({{On::b, Op::gt, r.high}})};
        case Prefix::le: return {all({{On::a, Op::le, r.high}})};
        case Prefix::ge: return {all({{On::b, Op::ge, r.low}})};
        case Prefix::sa: return {all({{On::a, Op::gt, r.high}})};
        case Prefix::eb: return {all({{On::b, Op::lt, r.low}})};
        case Prefix::ap: return {all({{On::a, Op::le, r.high}, {On::b, Op::ge, r.low}})};
    }
    return {};
}

std::optional<Alternatives> date_value(std::string_view v) {
    Prefix p = split_prefix(v);
    auto range = sp::date_range(v);
    if (!range) return std::nullopt;
    return date_tests(p, *range);
}

// A number stands for the interval its precision implies: 100 is [99.5, 100.5).
std::optional<Alternatives> number_tests(std::string_view v, std::optional<Test> unit) {
    Prefix p = split_prefix(v);
    double x = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
    if (ec != std::errc() || end != v.data() + v.size() || v.empty()) return std::nullopt;
    auto dot = v.find('.');
    double half = 0.5 * std::pow(10.0, -static_cast<double>(dot == std::string_view::npos ? 0 : v.size() - dot - 1));
    auto with_unit = [&](std::vector<Test> tests) {
        if (unit) tests.push_back(*unit);
        return all(std::move(tests));
    };
    switch (p) {
        case Prefix::eq: return Alternatives{with_unit({{On::a, Op::ge, x - half}, {On::a, Op::lt, x + half}})};
        case Prefix::ne: return Alternatives{with_unit({{On::a, Op::lt, x - half}}), with_unit({{On::a, Op::ge, x + half}})};
        case Prefix::lt:
        case Prefix::eb: return Alternatives{with_unit({{On::a, Op::lt, x}})};
        case Prefix::gt:
        case Prefix::sa: return Alternatives{with_unit({{On::a, Op::gt, x}})};
        case Prefix::le: return Alternatives{with_unit({{On::a, Op::le, x}})};
        case Prefix::ge: return Alternatives{with_unit({{On::a, Op::ge, x}})};
        case Prefix::ap: return Alternatives{with_unit({{On::a, Op::ge, x - std::abs(x) * 0.1}, {On::a, Op::le, x + std::abs(x) * 0.1}})};
    }
    return std::nullopt;
}

// number|system|code, number||code or number alone.
std::optional<Alternatives> quantity_value(std::string_view v) {
    auto bar = v.find('|');
    if (bar == std::string_view::npos) return number_tests(v, std::nullopt);
    auto rest = v.substr(bar + 1);
    auto bar2 = rest.find('|');
    if (bar2 == std::string_view::npos) return std::nullopt;
    std::string system(rest.substr(0, bar2)), code(rest.substr(bar2 + 1));
    Test unit = system.empty() ? Test{On::b, Op::ends_with, "|" + code} : Test{On::b, Op::eq, system + "|" + code};
    return number_tests(v.substr(0, bar), unit);
}

// code, system|code, |code (no system), system| (any code of the system).
Alternative token_value(std::string_view v) {
    auto bar = v.find('|');
    if (bar == std::string_view::npos) return all({{On::a, Op::eq, std::string(v)}});
    std::string system(v.substr(0, bar)), code(v.substr(bar + 1));
    if (code.empty()) return all({{On::b, Op::eq, system}});
    return all({{On::a, Op::eq, code}, {On::b, Op::eq, system}});
}

Alternative reference_value(std::string_view v, std::string_view type_modifier, std::string_view base_url) {
    if (!base_url.empty() && v.size() > base_url.size() + 1 && v.starts_with(base_url) && v[base_url.size()] == '/')
        v.remove_prefix(base_url.size() + 1);  // our own absolute url is a relative reference here
    if (!type_modifier.empty()) return all({{On::a, Op::eq, std::string(v)}, {On::b, Op::eq, std::string(type_modifier)}});
    auto t = sp::reference_target(v);
    if (t && !t->type.empty()) return all({{On::a, Op::eq, t->id}, {On::b, Op::eq, t->type}});
    return all({{On::a, Op::eq, std::string(v)}});  // an id of any type, or a whole url
}

std::optional<Alternative> string_value(std::string_view v, std::string_view modifier) {
    if (modifier.empty()) return all({{On::a, Op::starts_with, sp::normalize(v)}});
    if (modifier == "exact") return all({{On::b, Op::eq, std::string(v)}});
    if (modifier == "contains") return all({{On::a, Op::contains, sp::normalize(v)}});
    return std::nullopt;
}

struct ClauseResult {
    std::optional<Clause> clause;
    std::string error;
};

ClauseResult refuse(std::string message) { return {std::nullopt, std::move(message)}; }

// The alternatives of one value of a parameter, by its kind and modifier.
std::optional<Alternatives> value_tests(const sp::Param& p, std::string_view modifier, std::string_view v,
                                        std::string_view base_url) {
    if (p.code == "_id") return Alternatives{all({{On::a, Op::eq, std::string(v)}})};
    switch (p.kind) {
        case sp::Kind::token:
            if (!modifier.empty() && modifier != "not") return std::nullopt;
            return Alternatives{token_value(v)};
        case sp::Kind::reference:
            if (modifier == "identifier") return Alternatives{token_value(v)};
            if (!modifier.empty() && !fhir::is_resource_type(modifier)) return std::nullopt;
            return Alternatives{reference_value(v, modifier, base_url)};
        case sp::Kind::date: return modifier.empty() ? date_value(v) : std::nullopt;
        case sp::Kind::string:
            if (auto a = string_value(v, modifier)) return Alternatives{std::move(*a)};
            return std::nullopt;
        case sp::Kind::uri:
            if (modifier.empty()) return Alternatives{all({{On::a, Op::eq, std::string(v)}})};
            if (modifier == "below") return Alternatives{all({{On::a, Op::starts_with, std::string(v)}})};
            return std::nullopt;
        case sp::Kind::number: return modifier.empty() ? number_tests(v, std::nullopt) : std::nullopt;
        case sp::Kind::quantity: return modifier.empty() ? quantity_value(v) : std::nullopt;
        case sp::Kind::composite:
        case sp::Kind::special: return std::nullopt;
    }
    return std::nullopt;
}

ClauseResult make_clause(const sp::Param& p, std::string_view modifier, const std::string& value, std::string_view base_url) {
    std::string name(p.code);
    if (modifier == "missing") {
        if (p.code == "_id" || p.code == "_lastUpdated" || (value != "true" && value != "false"))
            return refuse("The search parameter '" + name + ":missing' takes true or false, and not on _id or _lastUpdated.");
        return {Clause{name, {}, value == "true"}, {}};
    }
    Clause c{name, {}, std::nullopt};
    if (p.kind == sp::Kind::reference && modifier == "identifier") c.param += ":identifier";
    for (const auto& v : split_values(value)) {
        if (v.empty()) return refuse("The search parameter '" + name + "' has an empty value.");
        auto tests = value_tests(p, modifier, v, base_url);
        if (!tests) {
            bool the_modifier = !modifier.empty() && value_tests(p, {}, v, base_url);
            return refuse(the_modifier ? "The modifier ':" + std::string(modifier) + "' of search parameter '" + name +
                                             "' is not supported."
                                       : "The value of search parameter '" + name + "' is not a valid " +
                                             std::string(sp::to_string(p.kind)) + ".");
        }
        for (auto& a : *tests) c.any.push_back(std::move(a));
    }
    if (modifier == "not") {  // no value of the parameter matches: resources without it included
        for (auto& a : c.any) a.negated = true;
        if (c.any.size() > 1) {  // not (x or y) = not x and not y: one alternative per clause
            return refuse("The search parameter '" + name + ":not' takes one value; repeat the parameter for more.");
        }
    }
    return {std::move(c), {}};
}

bool is_one_of(std::string_view name, std::span<const std::string_view> list) {
    return std::find(list.begin(), list.end(), name) != list.end();
}

bool parse_paging(std::string_view name, const std::string& value, ParsedSearch& out, const SearchLimits& limits) {
    if (name == "_count") {
        std::size_t n = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
        if (ec != std::errc() || end != value.data() + value.size()) {
            out.error = "_count must be a whole number.";
            return false;
        }
        out.query.count = std::clamp<std::size_t>(n, 1, limits.max_count);
        return true;
    }
    // _cursor: "<after>-<snapshot>" in hex, as our own next links write it.
    auto dash = value.find('-');
    std::int64_t after = 0, snapshot = 0;
    auto a = std::from_chars(value.data(), value.data() + (dash == std::string::npos ? 0 : dash), after, 16);
    auto b = std::from_chars(value.data() + dash + 1, value.data() + value.size(), snapshot, 16);
    if (dash == std::string::npos || a.ec != std::errc() || b.ec != std::errc() || b.ptr != value.data() + value.size() ||
        after < 0 || snapshot <= 0) {
        out.error = "_cursor is not one this server made; follow the next link as given.";
        return false;
    }
    out.query.after = after;
    out.query.snapshot = snapshot;
    return true;
}

std::string cursor(std::int64_t after, std::int64_t snapshot) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%llx-%llx", static_cast<unsigned long long>(after), static_cast<unsigned long long>(snapshot));
    return buf;
}

std::string percent_encode(std::string_view s, bool keep_commas) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == ':' || c == '/' || (keep_commas && c == ',')) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::string link_url(std::string_view base, const Query& params) {
    std::string url(base);
    for (std::size_t i = 0; i < params.size(); ++i) {
        url += i ? '&' : '?';
        url += percent_encode(params[i].first, false) + "=" + percent_encode(params[i].second, true);
    }
    return url;
}

std::string quoted(std::string_view s) { return fhir::json::write(fhir::json::Value::string(std::string(s))); }

void append_link(std::string& out, const char* relation, const std::string& url, bool first) {
    if (!first) out += ',';
    out += "{\"relation\":\"" + std::string(relation) + "\",\"url\":" + quoted(url) + "}";
}

std::string bundle_head(const char* type, const std::string& self, const std::optional<std::string>& next) {
    std::string out = "{\"resourceType\":\"Bundle\",\"id\":" + quoted(store::new_id()) + ",\"meta\":{\"lastUpdated\":" +
                      quoted(store::now_instant()) + "},\"type\":\"" + type + "\",\"link\":[";
    append_link(out, "self", self, true);
    if (next) append_link(out, "next", *next, false);
    return out + "],\"entry\":[";
}

// The parameters set aside under handling=lenient, as FHIR says: an OperationOutcome entry.
std::string outcome_entry(const std::vector<std::string>& ignored) {
    std::vector<fhir::Issue> issues;
    for (const auto& name : ignored) {
        fhir::Issue i;
        i.severity = fhir::Severity::warning;
        i.code = "not-supported";
        i.diagnostics = "The search parameter '" + name + "' is not supported here and was ignored.";
        issues.push_back(std::move(i));
    }
    return "{\"resource\":" + fhir::json::write(fhir::operation_outcome(issues)) + ",\"search\":{\"mode\":\"outcome\"}}";
}

std::size_t history_count(const Query& query, const SearchLimits& limits, std::int64_t& before, std::string& error) {
    std::size_t count = limits.default_count;
    for (const auto& [name, value] : query) {
        if (is_one_of(name, ignored_params)) continue;
        std::size_t n = 0;
        std::int64_t v = 0;
        auto end = value.data() + value.size();
        if (name == "_count" && std::from_chars(value.data(), end, n).ptr == end && !value.empty())
            count = std::clamp<std::size_t>(n, 1, limits.max_count);
        else if (name == "_cursor" && std::from_chars(value.data(), end, v).ptr == end && v > 1)
            before = v;
        else
            error = "The history parameter '" + name + "' is not supported here, or its value is not valid.";
    }
    return count;
}

void append_history_entry(std::string& out, std::string_view base_url, const store::ResourceVersion& v) {
    std::string path = v.type + "/" + v.id;
    out += "{\"fullUrl\":" + quoted(std::string(base_url) + "/" + path);
    if (!v.deleted) out += ",\"resource\":" + v.json;
    // The store keeps no record of which interaction made a version: version 1 is shown as its
    // creation, later ones as updates.
    const char* method = v.deleted ? "DELETE" : v.version == 1 ? "POST" : "PUT";
    out += ",\"request\":{\"method\":\"" + std::string(method) + "\",\"url\":" + quoted(v.version == 1 && !v.deleted ? v.type : path) + "}";
    out += ",\"response\":{\"status\":" + quoted(v.deleted ? "204" : v.version == 1 ? "201" : "200") + ",\"etag\":" +
           quoted(etag(v.version)) + ",\"lastModified\":" + quoted(v.last_updated) + "}}";
}

}  // namespace

bool lenient_handling(std::string_view prefer) {
    for (std::size_t at = prefer.find("handling"); at != std::string_view::npos; at = prefer.find("handling", at + 1)) {
        auto rest = prefer.substr(at + 8);
        while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
        if (rest.starts_with("=")) {
            rest.remove_prefix(1);
            while (!rest.empty() && (rest.front() == ' ' || rest.front() == '"')) rest.remove_prefix(1);
            return rest.starts_with("lenient");
        }
    }
    return false;
}

ParsedSearch parse_search(std::string_view type, const Query& query, bool lenient, const SearchLimits& limits,
                          std::string_view base_url) {
    ParsedSearch out;
    out.query.type = std::string(type);
    out.query.count = limits.default_count;
    for (const auto& [name, value] : query) {
        if (is_one_of(name, ignored_params)) continue;
        if (is_one_of(name, paging_params)) {
            if (!parse_paging(name, value, out, limits)) return out;
            continue;
        }
        auto colon = name.find(':');
        std::string code = name.substr(0, colon);
        std::string_view modifier = colon == std::string::npos ? std::string_view{} : std::string_view(name).substr(colon + 1);
        const sp::Param* p = sp::find(type, code);
        bool searchable = p && (sp::indexed(*p) || p->code == "_id" || p->code == "_lastUpdated");
        if (!searchable) {
            if (lenient) {
                out.ignored.push_back(name);
                continue;
            }
            out.error = p ? "The search parameter '" + name + "' is not supported here."
                          : "'" + name + "' is no search parameter of " + std::string(type) + ".";
            return out;
        }
        auto made = make_clause(*p, modifier, value, base_url);
        if (!made.clause) {
            out.error = std::move(made.error);
            return out;
        }
        out.query.clauses.push_back(std::move(*made.clause));
        out.understood.emplace_back(name, value);
    }
    return out;
}

http::Response search(const store::Store& store, std::string_view base_url, std::string_view type, const Query& query,
                      std::string_view prefer, const SearchLimits& limits) {
    auto parsed = parse_search(type, query, lenient_handling(prefer), limits, base_url);
    if (!parsed.error.empty()) return outcome_reply(400, "not-supported", parsed.error);
    store::SearchPage page;
    try {
        page = store.search(parsed.query);
    } catch (const std::invalid_argument& e) {
        return outcome_reply(400, "not-supported", e.what());
    }
    std::string base = std::string(base_url) + "/" + std::string(type);
    Query self = parsed.understood;
    self.emplace_back("_count", std::to_string(parsed.query.count));
    std::optional<std::string> next;
    if (page.next_after) {
        Query n = self;
        n.emplace_back("_cursor", cursor(*page.next_after, page.snapshot));
        next = link_url(base, n);
    }
    if (parsed.query.after) self.emplace_back("_cursor", cursor(parsed.query.after, page.snapshot));
    std::string out = bundle_head("searchset", link_url(base, self), next);
    bool first = true;
    for (const auto& v : page.resources) {
        if (!first) out += ',';
        first = false;
        out += "{\"fullUrl\":" + quoted(base + "/" + v.id) + ",\"resource\":" + v.json + ",\"search\":{\"mode\":\"match\"}}";
    }
    if (!parsed.ignored.empty()) out += (first ? "" : ",") + outcome_entry(parsed.ignored);
    out += "]}";
    return resource_reply(200, std::move(out));
}

http::Response history(const store::Store& store, std::string_view base_url, std::string_view type, std::string_view id,
                       const Query& query, std::string_view prefer, const SearchLimits& limits) {
    std::int64_t before = 0;
    std::string error;
    std::size_t count = history_count(query, limits, before, error);
    if (!error.empty() && !lenient_handling(prefer)) return outcome_reply(400, "not-supported", error);
    auto versions = store.history(type, id, before, count + 1);
    if (versions.empty() && before == 0)
        return outcome_reply(404, "not-found", std::string(type) + "/" + std::string(id) + " is not known here.");
    std::string base = std::string(base_url) + "/" + std::string(type) + "/" + std::string(id) + "/_history";
    Query self{{"_count", std::to_string(count)}};
    if (before) self.emplace_back("_cursor", std::to_string(before));
    std::optional<std::string> next;
    if (versions.size() > count) {
        versions.pop_back();
        next = link_url(base, {{"_count", std::to_string(count)}, {"_cursor", std::to_string(versions.back().version)}});
    }
    std::string out = bundle_head("history", link_url(base, self), next);
    for (std::size_t i = 0; i < versions.size(); ++i) {
        if (i) out += ',';
        append_history_entry(out, base_url, versions[i]);
    }
    out += "]}";
    return resource_reply(200, std::move(out));
}

}  // namespace helsebro::ingress
