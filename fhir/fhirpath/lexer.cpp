#include "fhir/fhirpath/lexer.hpp"

#include <cctype>

namespace helsebro::fhir::fhirpath::detail {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c); }

void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

class Lexer {
public:
    explicit Lexer(std::string_view text) : s_(text) {}

    std::vector<Token> run() {
        std::vector<Token> out;
        for (;;) {
            if (!skip_space_and_comments(out)) return out;
            Token t = next();
            const bool stop = t.kind == Tok::end || t.kind == Tok::error;
            out.push_back(std::move(t));
            if (stop) return out;
        }
    }

private:
    std::string_view s_;
    std::size_t i_ = 0;
    std::uint32_t line_ = 1;
    std::size_t line_start_ = 0;

    char peek(std::size_t ahead = 0) const { return i_ + ahead < s_.size() ? s_[i_ + ahead] : '\0'; }
    void advance() {
        if (s_[i_] == '\n') {
            ++line_;
            line_start_ = i_ + 1;
        }
        ++i_;
    }
    Token start(Tok kind) const {
        return Token{kind, {}, line_, static_cast<std::uint32_t>(i_ - line_start_ + 1), i_};
    }
    static Token fail(Token t, std::string message) {
        t.kind = Tok::error;
        t.text = std::move(message);
        return t;
    }

    bool skip_space_and_comments(std::vector<Token>& out) {
        for (;;) {
            while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) advance();
            if (peek() == '/' && peek(1) == '/') {
                while (i_ < s_.size() && s_[i_] != '\n') advance();
            } else if (peek() == '/' && peek(1) == '*') {
                Token t = start(Tok::error);
                const auto close = s_.find("*/", i_ + 2);
                if (close == std::string_view::npos) {
                    out.push_back(fail(t, "The comment that starts here is not closed with */."));
                    return false;
                }
                while (i_ < close + 2) advance();
            } else {
                return true;
            }
        }
    }

    Token next() {
        Token t = start(Tok::end);
        if (i_ >= s_.size()) return t;
        const char c = peek();
        if (is_ident_start(c)) {
            t.kind = Tok::identifier;
            while (is_ident_char(peek())) t.text += s_[i_++];
            return t;
        }
        if (is_digit(c)) return number(t);
        if (c == '\'' || c == '`') return quoted(t, c);
        if (c == '@') return date_time(t);
        if (c == '%') {
            advance();
            t.kind = Tok::external;
            if (is_ident_start(peek())) {
                while (is_ident_char(peek())) t.text += s_[i_++];
                return t;
            }
            if (peek() == '`' || peek() == '\'') {
                Token q = quoted(start(Tok::string), peek());
                if (q.kind == Tok::error) return q;
                t.text = std::move(q.text);
                return t;
            }
            return fail(t, "Expected a variable name after %.");
        }
        static constexpr std::string_view two[] = {"!=", "!~", "<=", ">="};
        for (auto op : two) {
            if (s_.substr(i_, 2) == op) {
                t.kind = Tok::symbol;
                t.text = std::string(op);
                advance();
                advance();
                return t;
            }
        }
        if (std::string_view(".[](){},+-*/&|=~<>$").find(c) != std::string_view::npos) {
            t.kind = Tok::symbol;
            t.text = std::string(1, c);
            advance();
            return t;
        }
        return fail(t, "Unexpected character; expected an expression.");
    }

    Token number(Token t) {
        t.kind = Tok::number;
        while (is_digit(peek())) t.text += s_[i_++];
        if (peek() == '.' && is_digit(peek(1))) {
            t.text += s_[i_++];
            while (is_digit(peek())) t.text += s_[i_++];
        }
        return t;
    }

    Token quoted(Token t, char quote) {
        t.kind = quote == '`' ? Tok::delimited_identifier : Tok::string;
        advance();
        for (;;) {
            if (i_ >= s_.size()) return fail(t, "The quoted text that starts here is not closed.");
            const char c = s_[i_];
            if (c == quote) {
                advance();
                return t;
            }
            if (c != '\\') {
                t.text += c;
                advance();
                continue;
            }
            advance();
            if (i_ >= s_.size()) return fail(t, "The quoted text that starts here is not closed.");
            const char e = s_[i_];
            advance();
            switch (e) {
                case '\'': case '"': case '`': case '\\': case '/': t.text += e; break;
                case 'f': t.text += '\f'; break;
                case 'n': t.text += '\n'; break;
                case 'r': t.text += '\r'; break;
                case 't': t.text += '\t'; break;
                case 'u': {
                    unsigned cp = 0;
                    for (int k = 0; k < 4; ++k) {
                        const char h = peek();
                        if (!std::isxdigit(static_cast<unsigned char>(h)))
                            return fail(t, "\\u must be followed by four hexadecimal digits.");
                        cp = cp * 16 + static_cast<unsigned>(is_digit(h) ? h - '0' : (std::tolower(h) - 'a' + 10));
                        advance();
                    }
                    append_utf8(t.text, cp);
                    break;
                }
                default: return fail(t, "Unknown escape sequence in quoted text.");
            }
        }
    }

    // '@' date ['T' [time]] [zone] | '@T' time [zone]; the text keeps everything after '@' and the
    // parser decides between Date, DateTime and Time.
    Token date_time(Token t) {
        t.kind = Tok::date_time;
        advance();
        auto take_digits = [&](int n) {
            for (int k = 0; k < n; ++k) {
                if (!is_digit(peek())) return false;
                t.text += s_[i_++];
            }
            return true;
        };
        auto take_time = [&]() {
            if (!take_digits(2)) return false;
            if (peek() == ':' && is_digit(peek(1))) {
                t.text += s_[i_++];
                if (!take_digits(2)) return false;
                if (peek() == ':' && is_digit(peek(1))) {
                    t.text += s_[i_++];
                    if (!take_digits(2)) return false;
                    if (peek() == '.' && is_digit(peek(1))) {
                        t.text += s_[i_++];
                        while (is_digit(peek())) t.text += s_[i_++];
                    }
                }
            }
            return true;
        };
        auto take_zone = [&]() {
            if (peek() == 'Z') {
                t.text += s_[i_++];
            } else if ((peek() == '+' || peek() == '-') && is_digit(peek(1))) {
                t.text += s_[i_++];
                if (!take_digits(2) || peek() != ':') return false;
                t.text += s_[i_++];
                if (!take_digits(2)) return false;
            }
            return true;
        };
        const char* bad = "Malformed date/time literal; expected @YYYY[-MM[-DD]][Thh[:mm[:ss[.fff]]]][Z|+hh:mm] or @Thh[:mm[:ss[.fff]]].";
        if (peek() == 'T') {
            t.text += s_[i_++];
            if (!take_time() || !take_zone()) return fail(t, bad);
            return t;
        }
        if (!take_digits(4)) return fail(t, bad);
        if (peek() == '-' && is_digit(peek(1))) {
            t.text += s_[i_++];
            if (!take_digits(2)) return fail(t, bad);
            if (peek() == '-' && is_digit(peek(1))) {
                t.text += s_[i_++];
                if (!take_digits(2)) return fail(t, bad);
            }
        }
        if (peek() == 'T') {
            t.text += s_[i_++];
            if (is_digit(peek()) && !take_time()) return fail(t, bad);
            if (!take_zone()) return fail(t, bad);
        }
        return t;
    }
};

}  // namespace

std::vector<Token> lex(std::string_view text) { return Lexer(text).run(); }

}  // namespace helsebro::fhir::fhirpath::detail
