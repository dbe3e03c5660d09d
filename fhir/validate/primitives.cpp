#include "fhir/validate/primitives.hpp"

#include <array>
#include <cstdint>
#include <utility>

namespace helsebro::fhir::validation {

namespace {

constexpr std::array<std::pair<std::string_view, Primitive>, 20> primitive_names{{
    {"boolean", Primitive::boolean},
    {"integer", Primitive::integer},
    {"unsignedInt", Primitive::unsigned_int},
    {"positiveInt", Primitive::positive_int},
    {"decimal", Primitive::decimal},
    {"string", Primitive::string},
    {"markdown", Primitive::markdown},
    {"code", Primitive::code},
    {"id", Primitive::id},
    {"uri", Primitive::uri},
    {"url", Primitive::url},
    {"canonical", Primitive::canonical},
    {"oid", Primitive::oid},
    {"uuid", Primitive::uuid},
    {"base64Binary", Primitive::base64_binary},
    {"date", Primitive::date},
    {"dateTime", Primitive::date_time},
    {"instant", Primitive::instant},
    {"time", Primitive::time},
    {"xhtml", Primitive::xhtml},
}};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The whitespace of the regexes (Java's \s), which FHIR's validators use.
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// `n` digits at `pos` as a number, or -1.
int digits(std::string_view s, std::size_t pos, std::size_t n) {
    if (pos + n > s.size()) return -1;
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (!is_digit(s[i])) return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

bool is_leap(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int days_in_month(int year, int month) {
    constexpr std::array<int, 12> days{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap(year) ? 29 : days[static_cast<std::size_t>(month - 1)];
}

// hh:mm:ss(.fff)? at `pos`; returns the position after it, or 0.
std::size_t parse_time(std::string_view s, std::size_t pos) {
    const int hour = digits(s, pos, 2);
    if (hour < 0 || hour > 23 || pos + 2 >= s.size() || s[pos + 2] != ':') return 0;
    const int minute = digits(s, pos + 3, 2);
    if (minute < 0 || minute > 59 || pos + 5 >= s.size() || s[pos + 5] != ':') return 0;
    const int second = digits(s, pos + 6, 2);
    if (second < 0 || second > 60) return 0;  // 60: a leap second
    pos += 8;
    if (pos < s.size() && s[pos] == '.') {
        const std::size_t start = ++pos;
        while (pos < s.size() && is_digit(s[pos])) ++pos;
        if (pos == start) return 0;
    }
    return pos;
}

// Z, or +hh:mm / -hh:mm from -14:00 to +14:00, exactly to the end.
bool is_time_zone(std::string_view s) {
    if (s == "Z") return true;
    if (s.size() != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':') return false;
    const int hour = digits(s, 1, 2), minute = digits(s, 4, 2);
    if (hour < 0 || minute < 0 || minute > 59) return false;
    return hour <= 13 || (hour == 14 && minute == 0);
}

enum class DateMode { date, date_time, instant };

std::string_view check_date(std::string_view s, DateMode mode) {
    constexpr std::string_view date_shape = "expected YYYY, YYYY-MM or YYYY-MM-DD";
    constexpr std::string_view date_time_shape =
        "expected YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss(.sss) with a time zone";
    constexpr std::string_view instant_shape = "expected YYYY-MM-DDThh:mm:ss(.sss) with a time zone";
    const std::string_view shape = mode == DateMode::date        ? date_shape
                                   : mode == DateMode::date_time ? date_time_shape
                                                                 : instant_shape;

    const int year = digits(s, 0, 4);
    if (year < 0) return shape;
    if (year == 0) return "the year 0000 does not exist";
    if (s.size() == 4) return mode == DateMode::instant ? shape : std::string_view{};
    const int month = s[4] == '-' ? digits(s, 5, 2) : -1;
    if (month < 1 || month > 12) return shape;
    if (s.size() == 7) return mode == DateMode::instant ? shape : std::string_view{};
    const int day = s.size() > 7 && s[7] == '-' ? digits(s, 8, 2) : -1;
    if (day < 1 || day > 31) return shape;
    if (day > days_in_month(year, month)) return "the day does not exist in that month";
    if (s.size() == 10) return mode == DateMode::instant ? shape : std::string_view{};
    if (mode == DateMode::date || s[10] != 'T') return shape;
    const std::size_t end = parse_time(s, 11);
    if (end == 0) return shape;
    if (end == s.size()) return "a time needs a time zone (Z or +hh:mm)";
    if (!is_time_zone(s.substr(end))) return "the time zone must be Z or +hh:mm from -14:00 to +14:00";
    return {};
}

std::string_view check_time(std::string_view s) {
    const std::size_t end = parse_time(s, 0);
    return end != 0 && end == s.size() ? std::string_view{} : "expected hh:mm:ss(.sss) without a time zone";
}

// -?(0|[1-9][0-9]*) within [min, 2^31 - 1].
std::string_view check_integer(std::string_view s, std::int64_t min, std::string_view shape) {
    std::size_t pos = 0;
    const bool negative = !s.empty() && s[0] == '-';
    if (negative) ++pos;
    if (pos == s.size() || !is_digit(s[pos]) || (s[pos] == '0' && pos + 1 != s.size())) return shape;
    std::int64_t v = 0;
    for (; pos < s.size(); ++pos) {
        if (!is_digit(s[pos])) return shape;
        v = v * 10 + (s[pos] - '0');
        if (v > 2147483648LL) return "out of range for a 32-bit integer";
    }
    if (negative) v = -v;
    if (v > 2147483647LL || v < -2147483648LL) return "out of range for a 32-bit integer";
    if (v < min) return min == 0 ? "must not be negative" : "must be greater than zero";
    if (negative && min >= 0) return shape;  // "-0"
    return {};
}

std::string_view check_decimal(std::string_view s) {
    constexpr std::string_view shape = "expected a decimal number without leading zeros";
    std::size_t pos = 0;
    if (pos < s.size() && s[pos] == '-') ++pos;
    if (pos == s.size() || !is_digit(s[pos])) return shape;
    if (s[pos] == '0') {
        ++pos;
    } else {
        while (pos < s.size() && is_digit(s[pos])) ++pos;
    }
    if (pos < s.size() && s[pos] == '.') {
        const std::size_t start = ++pos;
        while (pos < s.size() && is_digit(s[pos])) ++pos;
        if (pos == start) return shape;
    }
    if (pos < s.size() && (s[pos] == 'e' || s[pos] == 'E')) {
        ++pos;
        if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) ++pos;
        const std::size_t start = pos;
        while (pos < s.size() && is_digit(s[pos])) ++pos;
        if (pos == start) return shape;
    }
    return pos == s.size() ? std::string_view{} : shape;
}

// The code definition: "at least one character and no leading or trailing whitespace and where there
// is no whitespace other than single spaces in the contents" (the regex [^\s]+(\s[^\s]+)* is the same
// but for allowing a single tab or newline between words, which the definition forbids).
std::string_view check_code(std::string_view s) {
    if (s.empty() || is_space(s.front()) || is_space(s.back())) return "must not start or end with whitespace";
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == ' ' && s[i + 1] == ' ') return "must not have more than one space in a row";
        if (is_space(s[i]) && s[i] != ' ') return "must have no whitespace other than single spaces";
    }
    return {};
}

bool is_id(std::string_view s) {
    if (s.empty() || s.size() > 64) return false;
    for (char c : s) {
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '-' || c == '.')) return false;
    }
    return true;
}

bool has_space(std::string_view s) {
    for (char c : s) {
        if (is_space(c)) return true;
    }
    return false;
}

// urn:oid:[0-2](\.(0|[1-9][0-9]*))+
bool is_oid(std::string_view s) {
    constexpr std::string_view prefix = "urn:oid:";
    if (!s.starts_with(prefix)) return false;
    s.remove_prefix(prefix.size());
    if (s.size() < 3 || s[0] < '0' || s[0] > '2' || s[1] != '.') return false;
    std::size_t pos = 1;
    while (pos < s.size()) {
        if (s[pos] != '.' || pos + 1 == s.size() || !is_digit(s[pos + 1])) return false;
        const bool zero = s[pos + 1] == '0';
        pos += 2;
        if (zero) continue;
        while (pos < s.size() && is_digit(s[pos])) ++pos;
    }
    return true;
}

bool is_hex_lower(char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); }

// urn:uuid: then 8-4-4-4-12 lowercase hex digits.
bool is_uuid(std::string_view s) {
    constexpr std::string_view prefix = "urn:uuid:";
    if (!s.starts_with(prefix)) return false;
    s.remove_prefix(prefix.size());
    if (s.size() != 36) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !is_hex_lower(s[i])) return false;
    }
    return true;
}

bool is_base64_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '+' || c == '/';
}

// The regex (\s*([0-9a-zA-Z\+/=]){4}\s*)+ (groups of four, whitespace between groups), with RFC 4648's
// rule that '=' only pads the last group ("xx==" or "xxx=").
std::string_view check_base64(std::string_view s) {
    std::size_t pos = 0, groups = 0;
    bool padded = false;
    while (true) {
        while (pos < s.size() && is_space(s[pos])) ++pos;
        if (pos == s.size()) break;
        if (padded) return "padding ('=') is only allowed at the end";
        if (pos + 4 > s.size()) return "expected groups of four base64 characters";
        int pad = 0;
        for (std::size_t i = pos; i < pos + 4; ++i) {
            if (s[i] == '=') {
                ++pad;
            } else if (!is_base64_char(s[i])) {
                return "expected groups of four base64 characters";
            } else if (pad > 0) {
                return "padding ('=') is only allowed at the end";
            }
        }
        if (pad > 2) return "padding ('=') is only allowed at the end";
        padded = pad > 0;
        pos += 4;
        ++groups;
    }
    return groups == 0 ? "expected base64 characters" : std::string_view{};
}

bool is_name_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '-' || c == '_' || c == ':' ||
           c == '.';
}

// The narrative's div: "<div" with the XHTML namespace as an attribute of its start tag. The rest of the
// XHTML (allowed elements and attributes, txt-1/txt-2) needs an XML parser and is not checked here.
std::string_view check_xhtml(std::string_view s) {
    constexpr std::string_view xhtml_ns = "http://www.w3.org/1999/xhtml";
    if (!s.starts_with("<div") || s.size() == 4 || !(is_space(s[4]) || s[4] == '>' || s[4] == '/')) {
        return "must be a div element (start with <div)";
    }
    std::size_t pos = 4;
    while (pos < s.size()) {
        while (pos < s.size() && is_space(s[pos])) ++pos;
        if (pos == s.size() || s[pos] == '>' || s[pos] == '/') break;
        const std::size_t name_start = pos;
        while (pos < s.size() && is_name_char(s[pos])) ++pos;
        const std::string_view name = s.substr(name_start, pos - name_start);
        while (pos < s.size() && is_space(s[pos])) ++pos;
        if (name.empty() || pos == s.size() || s[pos] != '=') return "the div's start tag is not well-formed";
        ++pos;
        while (pos < s.size() && is_space(s[pos])) ++pos;
        if (pos == s.size() || (s[pos] != '"' && s[pos] != '\'')) return "the div's start tag is not well-formed";
        const char quote = s[pos++];
        const std::size_t end = s.find(quote, pos);
        if (end == std::string_view::npos) return "the div's start tag is not well-formed";
        if (name == "xmlns" && s.substr(pos, end - pos) == xhtml_ns) return {};
        pos = end + 1;
    }
    return "the div must declare the XHTML namespace (xmlns=\"http://www.w3.org/1999/xhtml\")";
}

}  // namespace

bool primitive_of(std::string_view type, Primitive& out) {
    for (const auto& [name, p] : primitive_names) {
        if (name == type) {
            out = p;
            return true;
        }
    }
    return false;
}

std::string_view name_of(Primitive p) {
    switch (p) {
        case Primitive::element_id: return "string";
        case Primitive::extension_url: return "uri";
        case Primitive::resource_id: return "id";
        default: break;
    }
    for (const auto& [name, q] : primitive_names) {
        if (q == p) return name;
    }
    return "string";
}

JsonKind json_kind(Primitive p) {
    switch (p) {
        case Primitive::boolean: return JsonKind::boolean;
        case Primitive::integer:
        case Primitive::unsigned_int:
        case Primitive::positive_int:
        case Primitive::decimal: return JsonKind::number;
        default: return JsonKind::string;
    }
}

std::string_view check_format(Primitive p, std::string_view s) {
    switch (p) {
        case Primitive::boolean: return s == "true" || s == "false" ? std::string_view{} : "expected true or false";
        case Primitive::integer: return check_integer(s, -2147483648LL, "expected a whole number");
        case Primitive::unsigned_int: return check_integer(s, 0, "expected a whole number of zero or more");
        case Primitive::positive_int: return check_integer(s, 1, "expected a whole number greater than zero");
        case Primitive::decimal: return check_decimal(s);
        case Primitive::string:
        case Primitive::markdown: return s.empty() ? "must not be empty" : std::string_view{};
        case Primitive::code: return check_code(s);
        case Primitive::id:
        case Primitive::resource_id:
            return is_id(s) ? std::string_view{} : "expected 1 to 64 of the characters A-Z, a-z, 0-9, '-' and '.'";
        case Primitive::uri:
        case Primitive::url:
        case Primitive::canonical:
        case Primitive::extension_url: return has_space(s) ? "must not contain whitespace" : std::string_view{};
        case Primitive::element_id:
            if (s.empty()) return "must not be empty";
            return has_space(s) ? "must not contain whitespace" : std::string_view{};
        case Primitive::oid: return is_oid(s) ? std::string_view{} : "expected urn:oid: followed by an OID";
        case Primitive::uuid:
            return is_uuid(s) ? std::string_view{} : "expected urn:uuid: followed by a lowercase UUID";
        case Primitive::base64_binary: return check_base64(s);
        case Primitive::date: return check_date(s, DateMode::date);
        case Primitive::date_time: return check_date(s, DateMode::date_time);
        case Primitive::instant: return check_date(s, DateMode::instant);
        case Primitive::time: return check_time(s);
        case Primitive::xhtml: return check_xhtml(s);
    }
    return {};
}

bool has_control_characters(std::string_view text) {
    bool found = false;  // no early exit: a loop the compiler can vectorize, for every string of every resource
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        found |= (u < 0x20) & (u != '\t') & (u != '\r') & (u != '\n');
    }
    return found;
}

bool is_blank(std::string_view text) {
    for (char c : text) {
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
    }
    return true;
}

}  // namespace helsebro::fhir::validation
