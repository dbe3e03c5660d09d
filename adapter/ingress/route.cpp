#include "adapter/ingress/route.hpp"

#include <charconv>

#include "fhir/resource_types.hpp"

namespace helsebro::ingress {

namespace {

constexpr std::string_view base = "/fhir";

std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> parts;
    while (!path.empty()) {
        auto slash = path.find('/');
        auto part = path.substr(0, slash);
        if (!part.empty()) parts.push_back(part);
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    return parts;
}

std::optional<std::int64_t> parse_version(std::string_view s) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v < 1) return std::nullopt;
    return v;
}

int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

RouteResult refuse(int status, std::string code, std::string message, std::string allow = {}) {
    return {std::nullopt, {status, std::move(code), std::move(message), std::move(allow)}};
}

RouteResult resource_route(std::string_view method, const std::vector<std::string_view>& parts, Route r) {
    std::string type(parts[0]);
    if (!fhir::is_resource_type(type))
        return refuse(404, "not-supported", "'" + type + "' is not a FHIR R4 resource type.");
    r.type = type;
    if (parts.size() == 1) {
        if (method == "POST") r.op = Op::create;
        else if (method == "GET") r.op = Op::search;
        else return refuse(405, "not-supported", "Only search (GET) and create (POST) are supported on /fhir/" + type + ".", "GET, POST");
        return {r, {}};
    }
    r.id = std::string(parts[1]);
    if (!fhir::is_valid_id(r.id))
        return refuse(400, "value", "The id in the URL is not a valid FHIR id ([A-Za-z0-9-.]{1,64}).");
    if (parts.size() == 2) {
        if (method == "GET") r.op = Op::read;
        else if (method == "PUT") r.op = Op::update;
        else return refuse(405, "not-supported", "Only read (GET) and update (PUT) are supported on a resource.", "GET, PUT");
        return {r, {}};
    }
    if (parts.size() == 3 && parts[2] == "_history") {
        if (method != "GET") return refuse(405, "not-supported", "A resource's history can only be read (GET).", "GET");
        r.op = Op::history;
        return {r, {}};
    }
    if (parts.size() == 4 && parts[2] == "_history") {
        auto v = parse_version(parts[3]);
        if (!v) return refuse(404, "not-found", "A version id is a positive whole number.");
        if (method != "GET") return refuse(405, "not-supported", "A version can only be read (GET).", "GET");
        r.op = Op::vread;
        r.version = *v;
        return {r, {}};
    }
    return refuse(404, "not-supported", "This server does not implement that path.");
}

}  // namespace

std::string percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
            i += 2;
        } else if (s[i] == '+') {
            out += ' ';
        } else {
            out += s[i];
        }
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query) {
    std::vector<std::pair<std::string, std::string>> out;
    while (!query.empty()) {
        auto amp = query.find('&');
        auto pair = query.substr(0, amp);
        if (!pair.empty()) {
            auto eq = pair.find('=');
            out.emplace_back(percent_decode(pair.substr(0, eq)),
                             eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1)));
        }
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    return out;
}

RouteResult route(std::string_view method, std::string_view target) {
    auto qmark = target.find('?');
    std::string_view path = target.substr(0, qmark);
    Route r;
    if (qmark != std::string_view::npos) r.query = parse_query(target.substr(qmark + 1));

    if (path == "/health/live" || path == "/health/ready") {
        if (method != "GET") return refuse(405, "not-supported", "Health checks answer GET only.", "GET");
        r.op = Op::health;
        r.id = std::string(path.substr(8));
        return {r, {}};
    }
    if (path.substr(0, base.size()) != base || (path.size() > base.size() && path[base.size()] != '/'))
        return refuse(404, "not-found", "Nothing is served here; the FHIR base is /fhir.");
    auto parts = split_path(path.substr(base.size()));
    if (parts.empty()) {
        if (method != "POST") return refuse(405, "not-supported", "The FHIR base accepts Bundles by POST.", "POST");
        r.op = Op::bundle;
        return {r, {}};
    }
    if (parts.size() == 1 && parts[0] == "metadata") {
        if (method != "GET") return refuse(405, "not-supported", "The CapabilityStatement is read with GET.", "GET");
        r.op = Op::capabilities;
        return {r, {}};
    }
    if (parts.size() == 1 && parts[0] == "$process-message") {
        if (method != "POST") return refuse(405, "not-supported", "$process-message takes a POST.", "POST");
        r.op = Op::process_message;
        return {r, {}};
    }
    if (parts[0].starts_with('$') || parts[0].starts_with('_'))
        return refuse(404, "not-supported", "This server does not implement that operation.");
    return resource_route(method, parts, std::move(r));
}

std::optional<EntryUrl> parse_entry_url(std::string_view url) {
    EntryUrl e;
    auto qmark = url.find('?');
    if (qmark != std::string_view::npos) {
        e.query = std::string(url.substr(qmark + 1));
        url = url.substr(0, qmark);
    }
    auto parts = split_path(url);
    if (parts.empty() || parts.size() == 3 || parts.size() > 4 || url.starts_with('/')) return std::nullopt;
    e.type = std::string(parts[0]);
    if (!fhir::is_resource_type(e.type)) return std::nullopt;
    if (parts.size() >= 2) {
        e.id = std::string(parts[1]);
        if (!fhir::is_valid_id(e.id)) return std::nullopt;
    }
    if (parts.size() == 4) {
        auto v = parse_version(parts[3]);
        if (parts[2] != "_history" || !v) return std::nullopt;
        e.version = *v;
    }
    return e;
}

}  // namespace helsebro::ingress
