#include "fhir/json.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstdint>
#include <cstring>
#include <memory>
#include <tuple>
#include <unordered_set>

#include <rapidjson/error/error.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

namespace helsebro::fhir::json {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// RFC 8259 number grammar; only used to catch programming errors in Value::number().
bool is_json_number(std::string_view s) {
    std::size_t i = 0;
    const std::size_t n = s.size();
    if (i < n && s[i] == '-') ++i;
    if (i == n) return false;
    if (s[i] == '0') {
        ++i;
    } else if (s[i] >= '1' && s[i] <= '9') {
        while (i < n && is_digit(s[i])) ++i;
    } else {
        return false;
    }
    if (i < n && s[i] == '.') {
        ++i;
        if (i == n || !is_digit(s[i])) return false;
        while (i < n && is_digit(s[i])) ++i;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
        if (i == n || !is_digit(s[i])) return false;
        while (i < n && is_digit(s[i])) ++i;
    }
    return i == n;
}

// Property names end up in messages and paths that are logged; hostile input could make them
// huge or put control characters into log lines, so they are cut short and neutralised.
void append_name(std::string& out, std::string_view name) {
    constexpr std::size_t max_bytes = 64;
    std::size_t n = name.size();
    const bool cut = n > max_bytes;
    if (cut) {
        n = max_bytes;
        while (n > 0 && (static_cast<unsigned char>(name[n]) & 0xC0) == 0x80) --n;  // UTF-8 boundary
    }
    for (std::size_t i = 0; i < n; ++i) {
        const auto c = static_cast<unsigned char>(name[i]);
        out.push_back(c < 0x20 || c == 0x7F ? '?' : static_cast<char>(c));
    }
    if (cut) out += "...";
}

void append_index(std::string& out, std::size_t i) {
    out.push_back('[');
    out += std::to_string(i);
    out.push_back(']');
}

void append_key(std::string& path, std::string_view key) {
    if (!path.empty()) path.push_back('.');
    append_name(path, key);
}

// The input was UTF-8 validated, so an encoded UTF-16 surrogate (ED A0..BF) can only come from a
// \uDC00-style escape, which RapidJSON 1.1 decodes without checking that it is paired.
bool has_lone_surrogate(const char* s, std::size_t n) {
    const char* end = s + n;
    while (s < end) {
        const void* hit = std::memchr(s, 0xED, static_cast<std::size_t>(end - s));
        if (hit == nullptr) return false;
        s = static_cast<const char*>(hit);
        if (s + 1 < end && static_cast<unsigned char>(s[1]) >= 0xA0) return true;
        ++s;
    }
    return false;
}

// Strict UTF-8 (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF). Checking the
// whole input up front, eight ASCII bytes at a time, is much cheaper than RapidJSON's per-byte
// validation inside every string, which is then only needed to explain input that fails here.
bool is_valid_utf8(std::string_view text) {
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const unsigned char* const end = p + text.size();
    while (p < end) {
        if (end - p >= 8) {
            std::uint64_t chunk;
            std::memcpy(&chunk, p, sizeof chunk);
            if ((chunk & 0x8080808080808080ULL) == 0) {
                p += 8;
                continue;
            }
        }
        const unsigned char c = *p;
        if (c < 0x80) {
            ++p;
            continue;
        }
        // Bounds of the second byte per lead byte (Unicode Table 3-7); later bytes are 80..BF.
        std::size_t len;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        } else {
            return false;
        }
        if (static_cast<std::size_t>(end - p) < len) return false;
        if (p[1] < lo || p[1] > hi) return false;
        for (std::size_t i = 2; i < len; ++i)
            if (p[i] < 0x80 || p[i] > 0xBF) return false;
        p += len;
    }
    return true;
}

// Errors that happen while a value (not a separator) is being read; the path then names the
// element being read rather than its container.
bool is_value_error(rapidjson::ParseErrorCode code) {
    switch (code) {
        case rapidjson::kParseErrorValueInvalid:
        case rapidjson::kParseErrorStringUnicodeEscapeInvalidHex:
        case rapidjson::kParseErrorStringUnicodeSurrogateInvalid:
        case rapidjson::kParseErrorStringEscapeInvalid:
        case rapidjson::kParseErrorStringMissQuotationMark:
        case rapidjson::kParseErrorStringInvalidEncoding:
        case rapidjson::kParseErrorNumberTooBig:
        case rapidjson::kParseErrorNumberMissFraction:
        case rapidjson::kParseErrorNumberMissExponent:
            return true;
        default:
            return false;
    }
}

std::string message_for(rapidjson::ParseErrorCode code, std::string_view text, std::size_t offset) {
    const bool at_nul = offset < text.size() && text[offset] == '\0';
    if (at_nul && code != rapidjson::kParseErrorStringInvalidEncoding)
        return "The input contains a NUL byte, which JSON allows only as the escape \\u0000 inside a string.";
    switch (code) {
        case rapidjson::kParseErrorDocumentEmpty:
            return "The input is empty; a JSON value was expected.";
        case rapidjson::kParseErrorDocumentRootNotSingular:
        case rapidjson::kParseErrorArrayMissCommaOrSquareBracket:
        case rapidjson::kParseErrorObjectMissCommaOrCurlyBracket:
            // RapidJSON stops a number at a leading zero ("01" reads as 0 then 1), which would
            // otherwise be reported as a confusing missing comma.
            if (offset > 0 && offset < text.size() && is_digit(text[offset]) && text[offset - 1] == '0')
                return "A number has a leading zero, which JSON does not allow.";
            if (code == rapidjson::kParseErrorDocumentRootNotSingular)
                return "Unexpected content follows the JSON value; the input must hold exactly one value.";
            if (code == rapidjson::kParseErrorArrayMissCommaOrSquareBracket)
                return "A comma or a closing bracket ']' was expected after the array element.";
            return "A comma or a closing brace '}' was expected after the property value.";
        case rapidjson::kParseErrorValueInvalid:
            return "An invalid value was found; expected an object, array, string, number, true, false or null.";
        case rapidjson::kParseErrorObjectMissName:
            return "A property name in double quotes was expected.";
        case rapidjson::kParseErrorObjectMissColon:
            return "A colon ':' was expected after the property name.";
        case rapidjson::kParseErrorStringUnicodeEscapeInvalidHex:
            return "A \\u escape in a string is not followed by four hexadecimal digits.";
        case rapidjson::kParseErrorStringUnicodeSurrogateInvalid:
            return "A \\u escape in a string holds a UTF-16 high surrogate that is not followed by a low surrogate.";
        case rapidjson::kParseErrorStringEscapeInvalid:
            if (offset < text.size() && static_cast<unsigned char>(text[offset]) < 0x20)
                return "A string contains an unescaped control character; control characters must be escaped.";
            return "A string contains an invalid escape sequence.";
        case rapidjson::kParseErrorStringMissQuotationMark:
            return "A string is missing its closing quotation mark.";
        case rapidjson::kParseErrorStringInvalidEncoding:
            return "The input is not valid UTF-8.";
        case rapidjson::kParseErrorNumberTooBig:
            return "A number is too large; its magnitude must stay within about 1.8E308.";
        case rapidjson::kParseErrorNumberMissFraction:
            return "A number has a decimal point that is not followed by digits.";
        case rapidjson::kParseErrorNumberMissExponent:
            return "A number has an exponent marker that is not followed by digits.";
        default:
            return "The input is not valid JSON.";
    }
}

// Builds the tree in place: each open container is a slot in its parent (the parent's last
// item or member), and a parent never grows while a child is open, so the slot pointers on the
// explicit stack stay valid. Nothing here recurses.
class TreeBuilder : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, TreeBuilder> {
public:
    TreeBuilder(std::size_t max_depth, bool may_have_surrogate_escapes)
        : max_depth_(max_depth), check_surrogates_(may_have_surrogate_escapes) {
        frames_.reserve(std::min<std::size_t>(max_depth, 32));
    }

    bool Null() { return put(Value()); }
    bool Bool(bool b) { return put(Value::boolean(b)); }
    bool RawNumber(const char* s, rapidjson::SizeType n, bool) { return put(Value::number(std::string(s, n))); }
    bool String(const char* s, rapidjson::SizeType n, bool) {
        if (check_surrogates_ && has_lone_surrogate(s, n)) return fail_lone_surrogate(true);
        return put(Value::string(std::string(s, n)));
    }
    bool StartObject() { return open(Value::object()); }
    bool StartArray() { return open(Value::array()); }
    bool EndObject(rapidjson::SizeType) { return close(); }
    bool EndArray(rapidjson::SizeType) { return close(); }

    bool Key(const char* s, rapidjson::SizeType n, bool) {
        if (check_surrogates_ && has_lone_surrogate(s, n)) return fail_lone_surrogate(false);
        Frame& f = frames_.back();
        const std::string_view key(s, n);
        if (is_duplicate(f, key)) {
            path_ = current_path(false);
            append_key(path_, key);
            message_ = "Duplicate property '";
            append_name(message_, key);
            message_ += "': a property may appear only once in an object.";
            return false;
        }
        f.node->members().emplace_back(std::piecewise_construct, std::forward_as_tuple(s, n),
                                       std::forward_as_tuple());
        f.awaiting_value = true;
        return true;
    }

    Value& root() { return root_; }
    bool failed_here() const { return !message_.empty(); }
    std::string& message() { return message_; }
    std::string& path() { return path_; }

    // Where the parser was: for the innermost container, `in_value` says whether an element was
    // being read (so it is named) or a separator was expected (so the container is named).
    std::string current_path(bool in_value) const {
        std::string p;
        for (std::size_t i = 0; i < frames_.size(); ++i) {
            const Frame& f = frames_[i];
            const bool top = i + 1 == frames_.size();
            if (f.node->is_array()) {
                const std::size_t n = f.node->items().size();
                if (!top)
                    append_index(p, n - 1);
                else if (in_value)
                    append_index(p, n);
            } else {
                const auto& m = f.node->members();
                if (!m.empty() && (!top || f.awaiting_value)) append_key(p, m.back().first);
            }
        }
        return p;
    }

private:
    struct Frame {
        Value* node;
        bool awaiting_value = false;  // objects: a key was read, its value not yet
        // Built only for large objects, so hostile input with many keys stays linear.
        std::unique_ptr<std::unordered_set<std::string>> keys;
    };
    static constexpr std::size_t linear_scan_limit = 16;

    static bool is_duplicate(Frame& f, std::string_view key) {
        auto& members = f.node->members();
        if (!f.keys && members.size() < linear_scan_limit) {
            for (const auto& m : members)
                if (m.first == key) return true;
            return false;
        }
        if (!f.keys) {
            f.keys = std::make_unique<std::unordered_set<std::string>>();
            f.keys->reserve(members.size() * 2);
            for (const auto& m : members) f.keys->insert(m.first);
        }
        return !f.keys->emplace(key).second;
    }

    Value* slot() {
        if (frames_.empty()) return &root_;
        Frame& f = frames_.back();
        if (f.node->is_array()) return &f.node->items().emplace_back();
        f.awaiting_value = false;
        return &f.node->members().back().second;
    }

    bool put(Value&& v) {
        *slot() = std::move(v);
        return true;
    }

    bool open(Value&& container) {
        if (frames_.size() >= max_depth_) {
            path_ = current_path(true);
            message_ = "JSON nesting exceeds the limit of " + std::to_string(max_depth_) + " levels.";
            return false;
        }
        Value* s = slot();
        *s = std::move(container);
        frames_.push_back(Frame{s, false, nullptr});
        return true;
    }

    bool close() {
        frames_.pop_back();
        return true;
    }

    bool fail_lone_surrogate(bool in_value) {
        path_ = current_path(in_value);
        message_ = "A \\u escape in a string holds a UTF-16 low surrogate without a preceding high surrogate.";
        return false;
    }

    std::size_t max_depth_;
    bool check_surrogates_;
    Value root_;
    std::vector<Frame> frames_;
    std::string message_;
    std::string path_;
};

void fill_position(ParseError& e, std::string_view text, std::size_t offset) {
    offset = std::min(offset, text.size());
    e.offset = offset;
    const std::string_view before = text.substr(0, offset);
    e.line = 1 + static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n'));
    const std::size_t nl = before.rfind('\n');
    e.column = nl == std::string_view::npos ? offset + 1 : offset - nl;
}

// Lookup table for write: 0 = copy as is, otherwise the escape letter ('u' = \u00XX).
constexpr auto escape_table = [] {
    std::array<char, 256> t{};
    for (int c = 0; c < 0x20; ++c) t[c] = 'u';
    t['\b'] = 'b';
    t['\t'] = 't';
    t['\n'] = 'n';
    t['\f'] = 'f';
    t['\r'] = 'r';
    t['"'] = '"';
    t['\\'] = '\\';
    return t;
}();

void write_string(std::string_view s, std::string& out) {
    out.push_back('"');
    std::size_t run = 0;  // start of the pending unescaped run
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char e = escape_table[static_cast<unsigned char>(s[i])];
        if (e == 0) continue;
        out.append(s.data() + run, i - run);
        run = i + 1;
        if (e == 'u') {
            static constexpr char hex[] = "0123456789abcdef";
            const auto c = static_cast<unsigned char>(s[i]);
            const char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
            out.append(u, sizeof u);
        } else {
            const char esc[2] = {'\\', e};
            out.append(esc, sizeof esc);
        }
    }
    out.append(s.data() + run, s.size() - run);
    out.push_back('"');
}

}  // namespace

Value Value::string(std::string s) {
    Value v;
    v.kind_ = Kind::string;
    v.text_ = std::move(s);
    return v;
}

Value Value::number(std::string text) {
    assert(is_json_number(text) && "Value::number needs valid JSON number text");
    Value v;
    v.kind_ = Kind::number;
    v.text_ = std::move(text);
    return v;
}

Value Value::boolean(bool b) {
    Value v;
    v.kind_ = Kind::boolean;
    v.bool_ = b;
    return v;
}

Value Value::array() {
    Value v;
    v.kind_ = Kind::array;
    return v;
}

Value Value::object() {
    Value v;
    v.kind_ = Kind::object;
    return v;
}

const Value* Value::find(std::string_view key) const {
    if (kind_ != Kind::object) return nullptr;
    for (const auto& m : members_)
        if (m.first == key) return &m.second;
    return nullptr;
}

Value* Value::find(std::string_view key) {
    return const_cast<Value*>(static_cast<const Value*>(this)->find(key));
}

std::optional<std::string_view> Value::string_at(std::string_view key) const {
    const Value* v = find(key);
    if (v == nullptr || v->kind_ != Kind::string) return std::nullopt;
    return std::string_view(v->text_);
}

Value& Value::set(std::string_view key, Value v, std::size_t position) {
    if (kind_ == Kind::null) kind_ = Kind::object;
    assert(kind_ == Kind::object && "Value::set on a non-object");
    if (Value* existing = find(key)) {
        *existing = std::move(v);
        return *existing;
    }
    const std::size_t at = std::min(position, members_.size());
    auto it = members_.emplace(members_.begin() + static_cast<std::ptrdiff_t>(at), std::string(key), std::move(v));
    return it->second;
}

bool Value::erase(std::string_view key) {
    if (kind_ != Kind::object) return false;
    auto it = std::find_if(members_.begin(), members_.end(), [&](const Member& m) { return m.first == key; });
    if (it == members_.end()) return false;
    members_.erase(it);
    return true;
}

Value& Value::push_back(Value v) {
    // Like set(), a null grows into the container it is used as.
    if (kind_ == Kind::null) kind_ = Kind::array;
    assert(kind_ == Kind::array && "Value::push_back on a non-array");
    return items_.emplace_back(std::move(v));
}

namespace {

template <unsigned Flags>
ParseResult parse_body(std::string_view text, std::size_t skipped, const ParseLimits& limits) {
    const std::string_view body = text.substr(skipped);
    TreeBuilder builder(limits.max_depth, body.find("\\u") != std::string_view::npos);
    rapidjson::MemoryStream stream(body.data(), body.size());
    rapidjson::Reader reader;
    const rapidjson::ParseResult ok = reader.Parse<Flags>(stream, builder);

    ParseResult result;
    if (ok && stream.Tell() == body.size()) {
        result.value.emplace(std::move(builder.root()));
        return result;
    }

    ParseError& e = result.error;
    if (ok) {
        // The reader treats a NUL byte as the end of input, so content after one went unseen.
        fill_position(e, text, skipped + stream.Tell());
        e.message = message_for(rapidjson::kParseErrorDocumentRootNotSingular, body, stream.Tell());
        return result;
    }
    fill_position(e, text, skipped + ok.Offset());
    if (ok.Code() == rapidjson::kParseErrorTermination && builder.failed_here()) {
        e.message = std::move(builder.message());
        e.path = std::move(builder.path());
    } else {
        e.message = message_for(ok.Code(), body, ok.Offset());
        e.path = builder.current_path(is_value_error(ok.Code()));
    }
    return result;
}

}  // namespace

ParseResult parse(std::string_view text, const ParseLimits& limits) {
    // RFC 8259 lets parsers ignore a byte order mark; some Windows clients send one.
    std::size_t skipped = 0;
    if (text.size() >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) skipped = 3;

    // Iterative: no recursion on hostile nesting. Numbers as strings: their text is kept exactly.
    constexpr unsigned flags = rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag;
    // Valid UTF-8 input (the norm) needs no validation while parsing; otherwise the validating
    // parse finds where the bad byte is and reports it with its path.
    if (is_valid_utf8(text.substr(skipped))) return parse_body<flags>(text, skipped, limits);
    return parse_body<flags | rapidjson::kParseValidateEncodingFlag>(text, skipped, limits);
}

void write_to(const Value& root, std::string& out) {
    struct Frame {
        const Value* v;
        std::size_t next;
    };
    std::vector<Frame> stack;

    // Scalars are written directly; containers are opened and pushed, so nesting costs heap, not stack.
    auto emit = [&](const Value& v) {
        switch (v.kind()) {
            case Value::Kind::null: out += "null"; break;
            case Value::Kind::boolean: out += v.as_bool() ? "true" : "false"; break;
            case Value::Kind::number: out += v.text(); break;
            case Value::Kind::string: write_string(v.text(), out); break;
            case Value::Kind::array: out.push_back('['); stack.push_back({&v, 0}); break;
            case Value::Kind::object: out.push_back('{'); stack.push_back({&v, 0}); break;
        }
    };

    emit(root);
    while (!stack.empty()) {
        const std::size_t top = stack.size() - 1;
        const Value& v = *stack[top].v;
        const std::size_t i = stack[top].next;
        if (v.is_array()) {
            if (i == v.items().size()) {
                out.push_back(']');
                stack.pop_back();
                continue;
            }
            ++stack[top].next;
            if (i > 0) out.push_back(',');
            emit(v.items()[i]);
        } else {
            if (i == v.members().size()) {
                out.push_back('}');
                stack.pop_back();
                continue;
            }
            ++stack[top].next;
            if (i > 0) out.push_back(',');
            const Value::Member& m = v.members()[i];
            write_string(m.first, out);
            out.push_back(':');
            emit(m.second);
        }
    }
}

std::string write(const Value& v) {
    std::string out;
    out.reserve(256);
    write_to(v, out);
    return out;
}

bool is_number_text(std::string_view text) { return is_json_number(text); }

}  // namespace helsebro::fhir::json
