#include "fhir/validate/references.hpp"

#include <algorithm>
#include <string>

#include "fhir/resource_types.hpp"
#include "fhir/validate/primitives.hpp"

namespace helsebro::fhir::validation {

namespace {

bool is_scheme_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '-' ||
           c == '.';
}

// "http:", "urn:" ...: a letter, then letters, digits, '+', '-' or '.', then ':' before any '/', '?' or '#'.
bool has_scheme(std::string_view s) {
    if (s.empty() || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return false;
    for (std::size_t i = 1; i < s.size(); ++i) {
        if (s[i] == ':') return true;
        if (!is_scheme_char(s[i])) return false;
    }
    return false;
}

bool has_whitespace(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

std::string_view next_segment(std::string_view& rest) {
    const auto slash = rest.find('/');
    const std::string_view seg = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    return seg;
}

// Type/id or Type/id/_history/vid, the whole of `s`; sets the type.
bool is_rest_path(std::string_view s, std::string_view& type) {
    std::string_view rest = s;
    const std::string_view t = next_segment(rest);
    if (!is_resource_type(t) || rest.empty()) return false;
    const std::string_view id = next_segment(rest);
    if (!is_valid_id(id)) return false;
    if (!rest.empty()) {
        if (next_segment(rest) != "_history" || rest.empty()) return false;
        const std::string_view version = next_segment(rest);
        if (!is_valid_id(version) || !rest.empty()) return false;
    }
    type = t;
    return true;
}

// A RESTful URL ends with /Type/id or /Type/id/_history/vid; finds the type of it, if any.
std::string_view rest_type_of_url(std::string_view url) {
    url = url.substr(0, url.find_first_of("?#"));
    // Try the last two and the last four segments.
    for (int segments : {2, 4}) {
        std::size_t pos = url.size();
        for (int i = 0; i < segments && pos != std::string_view::npos; ++i) {
            pos = pos == 0 ? std::string_view::npos : url.rfind('/', pos - 1);
        }
        if (pos == std::string_view::npos) continue;
        std::string_view type;
        if (is_rest_path(url.substr(pos + 1), type)) return type;
    }
    return {};
}

ReferenceForm invalid(std::string_view problem) {
    ReferenceForm f;
    f.kind = ReferenceForm::Kind::invalid;
    f.problem = problem;
    return f;
}

}  // namespace

ReferenceForm parse_reference(std::string_view s) {
    ReferenceForm f;
    if (s.starts_with('#')) {
        f.kind = ReferenceForm::Kind::local;
        f.id = s.substr(1);
        if (!f.id.empty() && !is_valid_id(f.id))
            return invalid("a local reference must be '#' and the id of a contained resource");
        return f;
    }
    if (has_whitespace(s)) return invalid("a reference must not contain whitespace");
    if (has_scheme(s)) {
        if (s.starts_with("urn:uuid:")) {
            if (!check_format(Primitive::uuid, s).empty())
                return invalid("a urn:uuid: reference needs a lowercase UUID");
        } else if (s.starts_with("urn:oid:")) {
            if (!check_format(Primitive::oid, s).empty()) return invalid("a urn:oid: reference needs a valid OID");
        }
        f.kind = ReferenceForm::Kind::absolute;
        if (s.starts_with("http://") || s.starts_with("https://")) f.type = rest_type_of_url(s);
        return f;
    }
    const auto question = s.find('?');
    const auto slash = s.find('/');
    if (question != std::string_view::npos && (slash == std::string_view::npos || question < slash)) {
        f.type = s.substr(0, question);
        if (!is_resource_type(f.type)) return invalid("a conditional reference must start with a resource type");
        f.kind = ReferenceForm::Kind::conditional;
        return f;
    }
    if (!is_rest_path(s, f.type)) {
        std::string_view rest = s;
        if (is_resource_type(next_segment(rest))) {
            return invalid(
                "in Type/id and Type/id/_history/version the ids must be 1 to 64 of A-Z, a-z, 0-9, '-' and '.'");
        }
        return invalid("a relative reference must be Type/id or Type/id/_history/version with a known resource type");
    }
    f.kind = ReferenceForm::Kind::relative;
    return f;
}

bool target_allowed(std::span<const std::string_view> targets, std::string_view type) {
    if (targets.empty()) return true;
    return std::any_of(targets.begin(), targets.end(),
                       [&](std::string_view t) { return t == "Resource" || t == type; });
}

std::string join_targets(std::span<const std::string_view> targets) {
    std::string out;
    for (std::size_t i = 0; i < targets.size(); ++i) {
        if (i > 0) out += i + 1 == targets.size() ? " or " : ", ";
        out += targets[i];
    }
    return out;
}

}  // namespace helsebro::fhir::validation
