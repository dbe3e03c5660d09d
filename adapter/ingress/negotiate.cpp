#include "adapter/ingress/negotiate.hpp"

#include "adapter/http/http.hpp"

namespace helsebro::ingress {

namespace {
std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}
}  // namespace

bool is_json_media(std::string_view media, bool allow_wildcards) {
    using http::iequals;
    media = trim(media.substr(0, media.find(';')));
    if (iequals(media, "application/fhir+json") || iequals(media, "application/json") || iequals(media, "json"))
        return true;
    return allow_wildcards && (media == "*/*" || iequals(media, "application/*"));
}

bool charset_is_utf8(std::string_view content_type) {
    for (auto semi = content_type.find(';'); semi != std::string_view::npos; semi = content_type.find(';')) {
        content_type.remove_prefix(semi + 1);
        auto param = trim(content_type.substr(0, content_type.find(';')));
        if (param.size() >= 8 && http::iequals(param.substr(0, 8), "charset=")) {
            auto v = param.substr(8);
            if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
            if (!http::iequals(v, "utf-8")) return false;
        }
    }
    return true;
}

std::optional<Format> media_format(std::string_view media) {
    using http::iequals;
    media = trim(media.substr(0, media.find(';')));
    if (is_json_media(media, false)) return Format::json;
    if (iequals(media, "application/fhir+xml") || iequals(media, "application/xml") || iequals(media, "text/xml") ||
        iequals(media, "xml"))
        return Format::xml;
    return std::nullopt;
}

std::optional<Format> response_format(std::string_view format_param, std::string_view accept) {
    if (!format_param.empty()) return media_format(format_param);
    if (trim(accept).empty()) return Format::json;
    // The first acceptable type in the client's order; q-values are rare in FHIR clients.
    while (!accept.empty()) {
        auto comma = accept.find(',');
        auto item = accept.substr(0, comma);
        if (is_json_media(item, true)) return Format::json;
        if (auto f = media_format(item)) return f;
        if (comma == std::string_view::npos) break;
        accept.remove_prefix(comma + 1);
    }
    return std::nullopt;
}

Return preferred_return(std::string_view prefer, Return fallback) {
    if (prefer.find("return=minimal") != std::string_view::npos) return Return::minimal;
    if (prefer.find("return=representation") != std::string_view::npos) return Return::representation;
    if (prefer.find("return=OperationOutcome") != std::string_view::npos) return Return::outcome;
    return fallback;
}

}  // namespace helsebro::ingress
