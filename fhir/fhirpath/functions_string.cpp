// String functions (FHIRPath §5.6 and the 2.1 additions). Positions and lengths count Unicode
// code points, not bytes, so Norwegian letters (æ, ø, å) count as one. Regular expressions use RE2:
// linear time, so neither an administrator's pattern nor hostile input can make matching explode.
#include <re2/re2.h>

#include <array>

#include "fhir/fhirpath/eval.hpp"
#include "fhir/fhirpath/functions.hpp"
#include "fhir/fhirpath/tables.hpp"

namespace helsebro::fhir::fhirpath::detail {
namespace {

using Fn = Collection(Evaluator&, const AstNode&, const Collection&, Frame&);

Collection text(std::string s) { return {Item(std::move(s))}; }
Collection boolean(bool b) { return {Item(b)}; }

std::optional<std::string> input_string(const AstNode& call, const Collection& in) {
    return single_string(call, in, ("The input of " + call.name + "()").c_str());
}
std::optional<std::string> string_arg(Evaluator& ev, const AstNode& call, std::size_t i, Frame& frame) {
    return single_string(call, ev.arg(call, i, frame), "The argument");
}

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Byte offsets of each code point start, plus the end.
std::vector<std::size_t> code_points(std::string_view s) {
    std::vector<std::size_t> starts;
    starts.reserve(s.size() + 1);
    for (std::size_t i = 0; i < s.size(); ++i)
        if (!is_continuation(s[i])) starts.push_back(i);
    starts.push_back(s.size());
    return starts;
}

Collection fn_index_of(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    auto s = input_string(call, in);
    auto sub = string_arg(ev, call, 0, frame);
    if (!s || !sub) return {};
    const auto pos = s->find(*sub);
    if (pos == std::string::npos) return {Item(std::int64_t{-1})};
    const auto cps = code_points(std::string_view(*s).substr(0, pos));
    return {Item(static_cast<std::int64_t>(cps.size() - 1))};
}

Collection fn_substring(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    auto s = input_string(call, in);
    auto start = single_integer(call, ev.arg(call, 0, frame), "The start");
    if (!s || !start) return {};
    const auto cps = code_points(*s);
    const std::int64_t n = static_cast<std::int64_t>(cps.size() - 1);
    if (*start < 0 || *start >= n) return {};
    std::int64_t end = n;
    if (call.args.size() > 1) {
        auto length = single_integer(call, ev.arg(call, 1, frame), "The length");
        if (length) end = *length <= 0 ? *start : std::min(n, *start + *length);
    }
    const auto b = cps[static_cast<std::size_t>(*start)];
    const auto e = cps[static_cast<std::size_t>(end)];
    return text(s->substr(b, e - b));
}

template <int Which>  // 0 startsWith, 1 endsWith, 2 contains
Collection fn_affix(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    auto s = input_string(call, in);
    auto sub = string_arg(ev, call, 0, frame);
    if (!s || !sub) return {};
    if (Which == 0) return boolean(s->starts_with(*sub));
    if (Which == 1) return boolean(s->ends_with(*sub));
    return boolean(s->find(*sub) != std::string::npos);
}

// ASCII and Latin-1 letters (which cover Norwegian); other scripts are left as they are.
template <bool Upper>
Collection fn_case(Evaluator&, const AstNode& call, const Collection& in, Frame&) {
    auto s = input_string(call, in);
    if (!s) return {};
    std::string out;
    out.reserve(s->size());
    for (std::size_t i = 0; i < s->size(); ++i) {
        const unsigned char c = static_cast<unsigned char>((*s)[i]);
        if (c < 0x80) {
            out += static_cast<char>(Upper ? std::toupper(c) : std::tolower(c));
        } else if (c == 0xC3 && i + 1 < s->size()) {
            unsigned char d = static_cast<unsigned char>((*s)[++i]);
            // U+00C0..U+00DE <-> U+00E0..U+00FE, except × (D7) and ÷ (F7).
            if (Upper && d >= 0xA0 && d <= 0xBE && d != 0xB7) d = static_cast<unsigned char>(d - 0x20);
            if (!Upper && d >= 0x80 && d <= 0x9E && d != 0x97) d = static_cast<unsigned char>(d + 0x20);
            out += static_cast<char>(c);
            out += static_cast<char>(d);
        } else {
            out += static_cast<char>(c);
        }
    }
    return text(std::move(out));
}

Collection fn_replace(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    auto s = input_string(call, in);
    auto pattern = string_arg(ev, call, 0, frame);
    auto with = string_arg(ev, call, 1, frame);
    if (!s || !pattern || !with) return {};
    std::string out;
    if (pattern->empty()) {
        const auto cps = code_points(*s);
        out = *with;
        for (std::size_t k = 0; k + 1 < cps.size(); ++k) out += s->substr(cps[k], cps[k + 1] - cps[k]) + *with;
        return text(std::move(out));
    }
    std::size_t pos = 0;
    for (auto hit = s->find(*pattern); hit != std::string::npos; hit = s->find(*pattern, pos)) {
        out.append(*s, pos, hit - pos);
        out += *with;
        pos = hit + pattern->size();
    }
    out.append(*s, pos);
    return text(std::move(out));
}

std::shared_ptr<const re2::RE2> regex_arg(Evaluator& ev, const AstNode& call, Frame& frame) {
    if (call.regex) return call.regex;
    auto pattern = string_arg(ev, call, 0, frame);
    if (!pattern) return nullptr;
    auto re = compile_regex(*pattern);
    if (!re) fail(call, "The regular expression is invalid.");
    return re;
}

template <bool Full>
Collection fn_matches(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    auto s = input_string(call, in);
    auto re = regex_arg(ev, call, frame);
    if (!s || !re) return {};
    return boolean(Full ? re2::RE2::FullMatch(*s, *re) : re2::RE2::PartialMatch(*s, *re));
}

// FHIRPath writes group references as $1; RE2 wants \1.
std::string re2_rewrite(std::string_view with) {
    std::string out;
    for (std::size_t i = 0; i < with.size(); ++i) {
        if (with[i] == '$' && i + 1 < with.size() && std::isdigit(static_cast<unsigned char>(with[i + 1]))) {
            out += '\\';
        } else if (with[i] == '\\') {
            out += '\\';
        }
        out += with[i];
    }
    return out;
}

Collection fn_replace_matches(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    auto s = input_string(call, in);
    auto re = regex_arg(ev, call, frame);
    auto with = string_arg(ev, call, 1, frame);
    if (!s || !re || !with) return {};
    if (re->pattern().empty()) return text(*s);
    std::string out = *s;
    re2::RE2::GlobalReplace(&out, *re, re2_rewrite(*with));
    return text(std::move(out));
}

Collection fn_length(Evaluator&, const AstNode& call, const Collection& in, Frame&) {
    auto s = input_string(call, in);
    if (!s) return {};
    return {Item(static_cast<std::int64_t>(code_points(*s).size() - 1))};
}

Collection fn_to_chars(Evaluator&, const AstNode& call, const Collection& in, Frame&) {
    auto s = input_string(call, in);
    if (!s) return {};
    const auto cps = code_points(*s);
    Collection out;
    for (std::size_t k = 0; k + 1 < cps.size(); ++k) out.emplace_back(s->substr(cps[k], cps[k + 1] - cps[k]));
    return out;
}

Collection fn_trim(Evaluator&, const AstNode& call, const Collection& in, Frame&) {
    auto s = input_string(call, in);
    if (!s) return {};
    const auto b = s->find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return text("");
    const auto e = s->find_last_not_of(" \t\r\n");
    return text(s->substr(b, e - b + 1));
}

Collection fn_split(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    auto s = input_string(call, in);
    auto sep = string_arg(ev, call, 0, frame);
    if (!s || !sep) return {};
    Collection out;
    if (sep->empty()) return {Item(*s)};
    std::size_t pos = 0;
    for (auto hit = s->find(*sep); hit != std::string::npos; hit = s->find(*sep, pos)) {
        out.emplace_back(s->substr(pos, hit - pos));
        pos = hit + sep->size();
    }
    out.emplace_back(s->substr(pos));
    return out;
}

Collection fn_join(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    std::string sep;
    if (!call.args.empty()) sep = string_arg(ev, call, 0, frame).value_or("");
    std::string out;
    for (std::size_t i = 0; i < in.size(); ++i) {
        auto s = string_of(in[i]);
        if (!s) fail(call, "join() applies only to Strings.");
        if (i) out += sep;
        out += *s;
    }
    return text(std::move(out));
}

constexpr std::string_view b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view b64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64(std::string_view in, std::string_view alphabet) {
    std::string out;
    for (std::size_t i = 0; i < in.size(); i += 3) {
        unsigned v = static_cast<unsigned char>(in[i]) << 16;
        if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
        if (i + 2 < in.size()) v |= static_cast<unsigned char>(in[i + 2]);
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += i + 1 < in.size() ? alphabet[(v >> 6) & 63] : '=';
        out += i + 2 < in.size() ? alphabet[v & 63] : '=';
    }
    return out;
}

std::optional<std::string> unbase64(std::string_view in, std::string_view alphabet) {
    std::string out;
    unsigned v = 0;
    int bits = 0;
    for (char c : in) {
        if (c == '=') break;
        const auto k = alphabet.find(c);
        if (k == std::string_view::npos) return std::nullopt;
        v = (v << 6) | static_cast<unsigned>(k);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((v >> bits) & 0xFF);
        }
    }
    return out;
}

std::optional<std::string> unhex(std::string_view in) {
    if (in.size() % 2) return std::nullopt;
    std::string out;
    for (std::size_t i = 0; i < in.size(); i += 2) {
        unsigned v = 0;
        for (char c : in.substr(i, 2)) {
            if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
            v = v * 16 + static_cast<unsigned>(std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : std::tolower(c) - 'a' + 10);
        }
        out += static_cast<char>(v);
    }
    return out;
}

template <bool Encode>
Collection fn_codec(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    auto s = input_string(call, in);
    auto format = string_arg(ev, call, 0, frame);
    if (!s || !format) return {};
    std::optional<std::string> out;
    if (*format == "base64") out = Encode ? base64(*s, b64) : unbase64(*s, b64);
    else if (*format == "urlbase64") out = Encode ? base64(*s, b64url) : unbase64(*s, b64url);
    else if (*format == "hex") {
        if (Encode) {
            static constexpr char digits[] = "0123456789abcdef";
            out.emplace();
            for (unsigned char c : *s) {
                *out += digits[c >> 4];
                *out += digits[c & 15];
            }
        } else {
            out = unhex(*s);
        }
    } else {
        fail(call, "Unknown encoding; expected base64, urlbase64 or hex.");
    }
    if (!out) return {};
    return text(std::move(*out));
}

std::string escape_html(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string unescape_html(std::string_view s) {
    static constexpr std::array<std::pair<std::string_view, char>, 6> entities{
        {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#39;", '\''}, {"&apos;", '\''}}};
    std::string out;
    for (std::size_t i = 0; i < s.size();) {
        bool replaced = false;
        for (const auto& [entity, c] : entities) {
            if (s.substr(i, entity.size()) == entity) {
                out += c;
                i += entity.size();
                replaced = true;
                break;
            }
        }
        if (!replaced) out += s[i++];
    }
    return out;
}

std::string escape_json(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

std::string unescape_json(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        out += s[i];
    }
    return out;
}

template <bool Escape>
Collection fn_escape(Evaluator& ev, const AstNode& call, const Collection& in, Frame& frame) {
    auto s = input_string(call, in);
    auto format = string_arg(ev, call, 0, frame);
    if (!s || !format) return {};
    if (*format == "html") return text(Escape ? escape_html(*s) : unescape_html(*s));
    if (*format == "json") return text(Escape ? escape_json(*s) : unescape_json(*s));
    fail(call, "Unknown escape format; expected html or json.");
}

constexpr auto S = InputKind::string;

}  // namespace

std::shared_ptr<const re2::RE2> compile_regex(std::string_view pattern) {
    re2::RE2::Options options;
    options.set_log_errors(false);
    options.set_dot_nl(true);  // FHIRPath regexes are single-line: '.' matches newlines too
    auto re = std::make_shared<const re2::RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
    if (!re->ok()) return nullptr;
    return re;
}

std::span<const FunctionDef> string_functions() {
    static constexpr FunctionDef table[] = {
        {"indexOf", 1, 1, 0, false, false, S, fn_index_of},
        {"substring", 1, 2, 0, false, false, S, fn_substring},
        {"startsWith", 1, 1, 0, false, false, S, fn_affix<0>},
        {"endsWith", 1, 1, 0, false, false, S, fn_affix<1>},
        {"contains", 1, 1, 0, false, false, S, fn_affix<2>},
        {"upper", 0, 0, 0, false, false, S, fn_case<true>},
        {"lower", 0, 0, 0, false, false, S, fn_case<false>},
        {"replace", 2, 2, 0, false, false, S, fn_replace},
        {"matches", 1, 1, 0, false, false, S, fn_matches<false>},
        {"matchesFull", 1, 1, 0, false, false, S, fn_matches<true>},
        {"replaceMatches", 2, 2, 0, false, false, S, fn_replace_matches},
        {"length", 0, 0, 0, false, false, S, fn_length},
        {"toChars", 0, 0, 0, false, false, S, fn_to_chars},
        {"trim", 0, 0, 0, false, false, S, fn_trim},
        {"split", 1, 1, 0, false, false, S, fn_split},
        {"join", 0, 1, 0, false, false, InputKind::any, fn_join},
        {"encode", 1, 1, 0, false, false, S, fn_codec<true>},
        {"decode", 1, 1, 0, false, false, S, fn_codec<false>},
        {"escape", 1, 1, 0, false, false, S, fn_escape<true>},
        {"unescape", 1, 1, 0, false, false, S, fn_escape<false>},
    };
    return table;
}

}  // namespace helsebro::fhir::fhirpath::detail
