// FHIRPath tokens, for the parser only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace helsebro::fhir::fhirpath::detail {

enum class Tok : unsigned char {
    end, identifier, delimited_identifier, string, number, date_time, external,
    symbol,  // operators and punctuation, in `text`: . [ ] ( ) { } , + - * / & | = ~ != !~ < > <= >= $
    error,   // `text` is the message
};

struct Token {
    Tok kind = Tok::end;
    std::string text;  // identifier name, decoded string, number text, date text after '@', symbol
    std::uint32_t line = 1, column = 1;
    std::size_t offset = 0;
};

// The whole text as tokens ending with Tok::end, or with one Tok::error where lexing failed.
std::vector<Token> lex(std::string_view text);

}  // namespace helsebro::fhir::fhirpath::detail
