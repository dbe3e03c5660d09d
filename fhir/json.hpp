// Faithful JSON for FHIR: numbers keep their exact text (1.0, 1.00, 1E-22 stay as written),
// object members keep their order, and parse errors carry line, column and the element path.
// A plain value tree; no network, no storage.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace helsebro::fhir::json {

class Value {
public:
    enum class Kind : unsigned char { null, boolean, number, string, array, object };
    using Member = std::pair<std::string, Value>;

    Value() = default;  // null
    static Value string(std::string s);
    static Value number(std::string text);  // text must be a valid JSON number
    static Value boolean(bool b);
    static Value array();
    static Value object();

    Kind kind() const { return kind_; }
    bool is_null() const { return kind_ == Kind::null; }
    bool is_string() const { return kind_ == Kind::string; }
    bool is_object() const { return kind_ == Kind::object; }
    bool is_array() const { return kind_ == Kind::array; }

    // The string value, or a number's text. Empty for other kinds.
    const std::string& text() const { return text_; }
    bool as_bool() const { return bool_; }

    std::vector<Value>& items() { return items_; }
    const std::vector<Value>& items() const { return items_; }
    std::vector<Member>& members() { return members_; }
    const std::vector<Member>& members() const { return members_; }

    // Object member access; nullptr when absent or when this is no object.
    const Value* find(std::string_view key) const;
    Value* find(std::string_view key);
    // Convenience: the member's string value, or nullopt when absent or not a string.
    std::optional<std::string_view> string_at(std::string_view key) const;

    // Replaces the member's value, or inserts it at `position` (clamped; default: the end).
    Value& set(std::string_view key, Value v, std::size_t position = static_cast<std::size_t>(-1));
    bool erase(std::string_view key);
    Value& push_back(Value v);  // arrays only

    friend bool operator==(const Value&, const Value&) = default;

private:
    Kind kind_ = Kind::null;
    bool bool_ = false;
    std::string text_;
    std::vector<Value> items_;
    std::vector<Member> members_;
};

struct ParseLimits {
    // Nesting of objects and arrays; deeper input is refused. Parsing and writing never recurse,
    // but Value's destructor, copy and == do, so this also bounds their stack use.
    std::size_t max_depth = 64;
};

struct ParseError {
    std::size_t line = 0;    // 1-based
    std::size_t column = 0;  // 1-based, in bytes
    std::size_t offset = 0;  // 0-based byte offset
    std::string path;        // FHIR-style element path where the error was found, e.g. "entry[2].resource"
    std::string message;     // a full sentence, never quoting string values (they may be personal data)
};

struct ParseResult {
    std::optional<Value> value;  // set on success
    ParseError error;            // meaningful when !value
};

// Whether text is a number by RFC 8259's grammar (what Value::number accepts).
bool is_number_text(std::string_view text);

// Strict RFC 8259 JSON, UTF-8 validated; duplicate keys in one object are an error.
// Never recurses on the input's nesting, so hostile depth cannot overflow the stack.
ParseResult parse(std::string_view text, const ParseLimits& limits = {});

// Compact output, members in stored order, numbers as their original text.
std::string write(const Value& v);
void write_to(const Value& v, std::string& out);  // appends

}  // namespace helsebro::fhir::json
