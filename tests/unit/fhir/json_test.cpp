#include "fhir/json.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace json = helsebro::fhir::json;
using json::Value;

namespace {

Value parse_ok(std::string_view text, const json::ParseLimits& limits = {}) {
    auto r = json::parse(text, limits);
    EXPECT_TRUE(r.value.has_value()) << "unexpected error: " << r.error.message << " at " << r.error.line << ":"
                                     << r.error.column << " path '" << r.error.path << "'";
    return r.value ? std::move(*r.value) : Value();
}

json::ParseError parse_fail(std::string_view text, const json::ParseLimits& limits = {}) {
    auto r = json::parse(text, limits);
    EXPECT_FALSE(r.value.has_value()) << "parsed although it should not: " << text.substr(0, 80);
    return r.error;
}

std::string round_trip(std::string_view text) { return json::write(parse_ok(text)); }

std::string nested(std::size_t depth, std::string_view open, std::string_view inner, std::string_view close) {
    std::string s;
    for (std::size_t i = 0; i < depth; ++i) s += open;
    s += inner;
    for (std::size_t i = 0; i < depth; ++i) s += close;
    return s;
}

}  // namespace

// --- numbers --------------------------------------------------------------------------------

TEST(JsonNumbers, DecimalsKeepTheirExactText) {
    const std::string text = R"([1.0,1.00,1E-22,-0.0,12345678901234567890123,0,-1,1e+5,2.5E-3,0.10000000000000000000001])";
    const Value v = parse_ok(text);
    ASSERT_TRUE(v.is_array());
    ASSERT_EQ(v.items().size(), 10u);
    EXPECT_EQ(v.items()[0].kind(), Value::Kind::number);
    EXPECT_EQ(v.items()[0].text(), "1.0");
    EXPECT_EQ(v.items()[1].text(), "1.00");
    EXPECT_EQ(v.items()[2].text(), "1E-22");
    EXPECT_EQ(v.items()[3].text(), "-0.0");
    EXPECT_EQ(v.items()[4].text(), "12345678901234567890123");
    EXPECT_EQ(v.items()[9].text(), "0.10000000000000000000001");
    EXPECT_EQ(json::write(v), text);
}

TEST(JsonNumbers, NumberInObjectRoundTrips) {
    EXPECT_EQ(round_trip(R"({"valueDecimal":1.50,"valueInteger":-7})"), R"({"valueDecimal":1.50,"valueInteger":-7})");
}

TEST(JsonNumbers, MalformedNumbersAreRefused) {
    for (std::string_view bad : {"1.", "1e", "1e+", "-", "+1", ".5", "NaN", "Infinity", "-Infinity", "0x10", "[1.]"}) {
        SCOPED_TRACE(bad);
        parse_fail(bad);
    }
}

TEST(JsonNumbers, LeadingZeroIsRefusedWithAClearMessage) {
    auto e = parse_fail("01");
    EXPECT_NE(e.message.find("leading zero"), std::string::npos) << e.message;
    e = parse_fail(R"({"a":[1,007]})");
    EXPECT_NE(e.message.find("leading zero"), std::string::npos) << e.message;
    EXPECT_EQ(e.path, "a");
    parse_fail("-01");
}

TEST(JsonNumbers, NumbersBeyondDoubleRangeAreRefused) {
    // RapidJSON computes the double alongside the text and refuses what overflows it.
    const auto e = parse_fail(R"({"v":1e400})");
    EXPECT_NE(e.message.find("too large"), std::string::npos) << e.message;
    EXPECT_EQ(e.path, "v");
}

// --- strings and unicode ------------------------------------------------------------------

TEST(JsonStrings, Utf8IsKeptAsIs) {
    const std::string text = "{\"family\":\"Ærøskøbing æøå ÆØÅ \xF0\x9F\x98\x80\"}";  // U+1F600
    EXPECT_EQ(round_trip(text), text);
    const Value v = parse_ok(text);
    EXPECT_EQ(v.string_at("family"), std::optional<std::string_view>("Ærøskøbing æøå ÆØÅ \xF0\x9F\x98\x80"));
}

TEST(JsonStrings, UnicodeEscapesBecomeUtf8) {
    const Value v = parse_ok(R"(["\u00e6\u00F8\u00e5","\ud83d\ude00","\u0041\/"])");
    EXPECT_EQ(v.items()[0].text(), "\xC3\xA6\xC3\xB8\xC3\xA5");  // æøå
    EXPECT_EQ(v.items()[1].text(), "\xF0\x9F\x98\x80");          // surrogate pair -> one code point
    EXPECT_EQ(v.items()[2].text(), "A/");
    // Written back as UTF-8, not re-escaped.
    EXPECT_EQ(json::write(v), "[\"\xC3\xA6\xC3\xB8\xC3\xA5\",\"\xF0\x9F\x98\x80\",\"A/\"]");
}

TEST(JsonStrings, EscapedNulIsKeptAndWrittenEscaped) {
    const Value v = parse_ok(R"("a\u0000b")");
    ASSERT_EQ(v.text().size(), 3u);
    EXPECT_EQ(v.text()[1], '\0');
    EXPECT_EQ(json::write(v), R"("a\u0000b")");
}

TEST(JsonStrings, LoneSurrogateEscapesAreRefused) {
    for (std::string_view bad : {R"(["\uDC00"])", R"(["\uD800"])", R"(["\uD800x"])", R"(["\uD800\u0041"])",
                                 R"({"\uDFFF":1})", R"(["\ude00\ud83d"])"}) {
        SCOPED_TRACE(bad);
        const auto e = parse_fail(bad);
        EXPECT_NE(e.message.find("surrogate"), std::string::npos) << e.message;
    }
}

TEST(JsonStrings, InvalidUtf8IsRefused) {
    for (std::string_view bad : {std::string_view("[\"\xC3\"]"),           // truncated sequence
                                 std::string_view("[\"\xC0\xAF\"]"),       // overlong '/'
                                 std::string_view("[\"\xE0\x80\xAF\"]"),   // overlong, 3 bytes
                                 std::string_view("[\"\xED\xA0\x80\"]"),   // encoded surrogate
                                 std::string_view("[\"\xF4\x90\x80\x80\"]"),  // above U+10FFFF
                                 std::string_view("[\"\xFF\"]"), std::string_view("{\"\xC3\":1}"),
                                 std::string_view("[\"ok\xC3")}) {
        SCOPED_TRACE(testing::PrintToString(bad));
        const auto e = parse_fail(bad);
        EXPECT_NE(e.message.find("UTF-8"), std::string::npos) << e.message;
    }
}

namespace {

// Written independently of the library's table-driven check: decode, then range-check.
bool reference_utf8_valid(const std::string& b) {
    std::size_t i = 0;
    while (i < b.size()) {
        const auto c = static_cast<unsigned char>(b[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len;
        std::uint32_t cp, min;
        if ((c & 0xE0) == 0xC0) {
            len = 2, cp = c & 0x1Fu, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, cp = c & 0x0Fu, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4, cp = c & 0x07u, min = 0x10000;
        } else {
            return false;
        }
        if (i + len > b.size()) return false;
        for (std::size_t k = 1; k < len; ++k) {
            const auto d = static_cast<unsigned char>(b[i + k]);
            if ((d & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (d & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += len;
    }
    return true;
}

}  // namespace

TEST(JsonStrings, Utf8AcceptanceMatchesAReferenceDecoder) {
    // Every non-ASCII lead byte followed by 0-3 bytes from a set that hits each range boundary.
    const unsigned char follow[] = {0x41, 0x7E, 0x7F, 0x80, 0x81, 0x8F, 0x90, 0x9F,
                                    0xA0, 0xBF, 0xC0, 0xC2, 0xE0, 0xF0, 0xF4, 0xFF};
    int mismatches = 0;
    auto check = [&](const std::string& seq) {
        const bool parsed = json::parse("[\"" + seq + "\"]").value.has_value();
        if (parsed != reference_utf8_valid(seq) && ++mismatches <= 5)
            ADD_FAILURE() << "sequence " << testing::PrintToString(seq) << " parsed=" << parsed;
    };
    for (int lead = 0x80; lead <= 0xFF; ++lead) {
        const std::string l(1, static_cast<char>(lead));
        check(l);
        for (unsigned char a : follow) {
            check(l + char(a));
            for (unsigned char b : follow) {
                check(l + char(a) + char(b));
                for (unsigned char c : follow) check(l + char(a) + char(b) + char(c));
            }
        }
    }
    EXPECT_EQ(mismatches, 0);
}

TEST(JsonStrings, InvalidUtf8IsFoundAfterAnyAsciiPrefix) {
    // The fast check reads eight bytes at a time; a bad byte must be seen at every alignment.
    for (std::size_t prefix = 0; prefix < 20; ++prefix) {
        SCOPED_TRACE(prefix);
        const std::string ascii(prefix, 'a');
        parse_ok("\"" + ascii + "\xC3\xA6\"");
        const auto e = parse_fail("\"" + ascii + "\xC0\xAF\"");
        EXPECT_EQ(e.offset, prefix + 1);
        parse_fail("\"" + ascii + "\xC3");
        const auto lone = parse_fail("\"" + ascii + "\xFF" + std::string(10, 'b') + "\"");  // valid if unseen
        EXPECT_NE(lone.message.find("UTF-8"), std::string::npos) << lone.message;
    }
}

TEST(JsonStrings, InvalidUtf8ErrorHasPathAndPosition) {
    const auto e = parse_fail("{\"a\":[\"ok\",\n\"b\xFF\"]}");
    EXPECT_EQ(e.path, "a[1]");
    EXPECT_EQ(e.line, 2u);
    EXPECT_EQ(e.column, 3u);
}

TEST(JsonStrings, RawControlCharacterIsRefused) {
    const auto e = parse_fail("{\"a\":\"x\ty\"}");
    EXPECT_NE(e.message.find("control character"), std::string::npos) << e.message;
    EXPECT_EQ(e.path, "a");
    EXPECT_EQ(e.column, 8u);
}

TEST(JsonStrings, InvalidEscapeIsRefused) {
    const auto e = parse_fail(R"({"a":"\x"})");
    EXPECT_NE(e.message.find("escape"), std::string::npos) << e.message;
    parse_fail(R"(["\u12G4"])");
}

TEST(JsonStrings, MessagesDoNotQuoteStringValues) {
    const std::string secret = "Kari Nordmann 01017012345";
    for (const std::string& bad : {R"({"name":")" + secret + R"(\q"})", R"({"name":")" + secret + "\x01\"}",
                                   R"({"name":")" + secret, R"({"name":")" + secret + R"(" "x"})",
                                   R"({"name":")" + secret + "\xC3\"}", R"(["\uDC00)" + secret + R"("])"}) {
        SCOPED_TRACE(bad);
        const auto e = parse_fail(bad);
        EXPECT_FALSE(e.message.empty());
        EXPECT_EQ(e.message.find("Nordmann"), std::string::npos) << e.message;
        EXPECT_EQ(e.path.find("Nordmann"), std::string::npos) << e.path;
    }
}

TEST(JsonWrite, ControlCharactersAndQuotesAreEscaped) {
    Value v = Value::string("a\x01" "b\n\t\r\b\f\"\\/\x1f\x7f");
    EXPECT_EQ(json::write(v), "\"a\\u0001b\\n\\t\\r\\b\\f\\\"\\\\/\\u001f\x7f\"");
    // And the output parses back to the same string.
    EXPECT_EQ(parse_ok(json::write(v)), v);
}

TEST(JsonWrite, KeysAreEscapedToo) {
    EXPECT_EQ(round_trip(R"({"a\"b\\c\n":1})"), R"({"a\"b\\c\n":1})");
}

TEST(JsonWrite, ScalarsAndEmptyContainers) {
    EXPECT_EQ(round_trip("null"), "null");
    EXPECT_EQ(round_trip("true"), "true");
    EXPECT_EQ(round_trip("false"), "false");
    EXPECT_EQ(round_trip("\"\""), "\"\"");
    EXPECT_EQ(round_trip("-0.0"), "-0.0");
    EXPECT_EQ(round_trip(" { \"a\" : [ ] ,\n\"b\":{},\t\"c\":[{},[[]],null] } "), R"({"a":[],"b":{},"c":[{},[[]],null]})");
    EXPECT_EQ(json::write(Value()), "null");
}

TEST(JsonWrite, WriteToAppends) {
    std::string out = "prefix:";
    json::write_to(parse_ok("[1,2]"), out);
    EXPECT_EQ(out, "prefix:[1,2]");
}

TEST(JsonWrite, RealisticBundleRoundTripsByteForByte) {
    const std::string text =
        R"({"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a",)"
        R"("resource":{"resourceType":"Patient","id":"p1","meta":{"lastUpdated":"2024-01-02T03:04:05.678+01:00"},)"
        R"("active":true,"name":[{"use":"official","family":"Ødegård","given":["Åse","Bjørn"]}],"deceasedBoolean":false,)"
        R"("multipleBirthInteger":2,"extension":[{"url":"http://example.org/x","valueDecimal":70.00}]},)"
        R"("request":{"method":"POST","url":"Patient"}},{"resource":{"resourceType":"Observation","status":"final",)"
        R"("valueQuantity":{"value":1.230E+2,"unit":"mg"},"note":[{"text":"line1\nline2 \"quoted\" \\ \u0007"}]}}]})";
    const Value v = parse_ok(text);
    EXPECT_EQ(json::write(v), text);
}

// --- structure ------------------------------------------------------------------------------

TEST(JsonObjects, MemberOrderIsPreserved) {
    const Value v = parse_ok(R"({"z":1,"a":2,"m":{"y":true,"b":null},"c":"x"})");
    ASSERT_EQ(v.members().size(), 4u);
    EXPECT_EQ(v.members()[0].first, "z");
    EXPECT_EQ(v.members()[1].first, "a");
    EXPECT_EQ(v.members()[2].first, "m");
    EXPECT_EQ(v.members()[3].first, "c");
    EXPECT_EQ(json::write(v), R"({"z":1,"a":2,"m":{"y":true,"b":null},"c":"x"})");
}

TEST(JsonObjects, DuplicateKeysAreRefusedWithPath) {
    const auto e = parse_fail(R"({"entry":[{"resource":{"id":"1"}},{"resource":{"id":"1","meta":{},"id":"2"}}]})");
    EXPECT_NE(e.message.find("Duplicate property 'id'"), std::string::npos) << e.message;
    EXPECT_EQ(e.path, "entry[1].resource.id");
    EXPECT_EQ(e.line, 1u);
    // Same key in different objects is fine.
    parse_ok(R"({"id":"1","contained":[{"id":"2"}],"x":{"id":"3"}})");
}

TEST(JsonObjects, DuplicateKeysAreFoundInLargeObjects) {
    std::string text = "{";
    for (int i = 0; i < 1000; ++i) text += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
    std::string ok = text;
    ok.back() = '}';
    const Value v = parse_ok(ok);
    EXPECT_EQ(v.members().size(), 1000u);
    EXPECT_EQ(v.find("k999")->text(), "999");

    text += "\"k3\":0}";  // duplicate of an early key, seen after the index was built
    const auto e = parse_fail(text);
    EXPECT_NE(e.message.find("Duplicate property 'k3'"), std::string::npos) << e.message;
    EXPECT_EQ(e.path, "k3");
}

TEST(JsonObjects, DuplicateEscapedKeyIsStillADuplicate) {
    const auto e = parse_fail(R"({"a":1,"\u0061":2})");
    EXPECT_NE(e.message.find("'a'"), std::string::npos) << e.message;
}

TEST(JsonObjects, HugeOrControlCharacterKeysAreSanitisedInMessages) {
    const std::string key(1000, 'k');
    const auto e = parse_fail("{\"" + key + "\":1,\"" + key + "\":2}");
    EXPECT_LT(e.message.size(), 200u);
    EXPECT_LT(e.path.size(), 100u);
    const auto e2 = parse_fail(R"({"a\nb":1,"a\nb":2})");
    EXPECT_EQ(e2.path, "a?b");
    EXPECT_EQ(e2.message.find('\n'), std::string::npos);
}

// --- depth ----------------------------------------------------------------------------------

TEST(JsonDepth, ExactlyAtTheLimitIsAccepted) {
    EXPECT_EQ(json::ParseLimits{}.max_depth, 64u);
    const std::string arrays = nested(64, "[", "1", "]");
    EXPECT_EQ(round_trip(arrays), arrays);
    const std::string objects = nested(64, "{\"a\":", "1", "}");
    EXPECT_EQ(round_trip(objects), objects);
}

TEST(JsonDepth, OneLevelMoreIsRefused) {
    auto e = parse_fail(nested(65, "[", "", "]"));
    EXPECT_EQ(e.message, "JSON nesting exceeds the limit of 64 levels.");
    EXPECT_EQ(e.column, 65u);  // at the bracket that opened level 65
    EXPECT_EQ(e.offset, 64u);

    e = parse_fail(nested(65, "{\"a\":", "{}", "}"));
    EXPECT_NE(e.message.find("64 levels"), std::string::npos);
}

TEST(JsonDepth, CustomLimit) {
    json::ParseLimits limits;
    limits.max_depth = 2;
    parse_ok(R"({"a":[1]})", limits);
    const auto e = parse_fail(R"({"a":[1,{"b":2}]})", limits);
    EXPECT_NE(e.message.find("limit of 2 levels"), std::string::npos) << e.message;
    EXPECT_EQ(e.path, "a[1]");
    limits.max_depth = 0;
    parse_ok("\"scalars need no depth\"", limits);
    parse_fail("[]", limits);
}

TEST(JsonDepth, HostileDepthIsRefusedWithoutCrashing) {
    const std::string arrays(100000, '[');
    auto e = parse_fail(arrays);
    EXPECT_NE(e.message.find("64 levels"), std::string::npos);
    EXPECT_EQ(e.offset, 64u);

    const std::string closed = nested(100000, "[", "", "]");
    e = parse_fail(closed);
    EXPECT_NE(e.message.find("64 levels"), std::string::npos);

    e = parse_fail(nested(100000, "{\"a\":", "1", "}"));
    EXPECT_NE(e.message.find("64 levels"), std::string::npos);
    EXPECT_EQ(e.path.size(), 64u * 2 - 1);  // "a.a.a...." 64 keys
}

// --- errors: position and path ---------------------------------------------------------------

TEST(JsonErrors, LineAndColumnOnMultiLineInput) {
    const std::string line3 = R"(  "name": [ { "family": "Nordmann" ] },)";
    const std::string text = "{\n  \"resourceType\": \"Patient\",\n" + line3 + "\n  \"active\": true\n}\n";
    const auto e = parse_fail(text);
    EXPECT_EQ(e.line, 3u);
    EXPECT_EQ(e.column, line3.find(']') + 1);
    EXPECT_EQ(text[e.offset], ']');
    EXPECT_EQ(e.path, "name[0]");
    EXPECT_NE(e.message.find("'}'"), std::string::npos) << e.message;
}

TEST(JsonErrors, LineAndColumnAtEndOfInput) {
    const auto e = parse_fail("{\n\"a\": [1,\n2\n");
    EXPECT_EQ(e.line, 4u);
    EXPECT_EQ(e.column, 1u);
    EXPECT_EQ(e.offset, 13u);
}

TEST(JsonErrors, PathInsideArrayInObject) {
    auto e = parse_fail(
        R"({"entry":[{"resource":{}},{"resource":{"subject":{"reference":tru}}}]})");
    EXPECT_EQ(e.path, "entry[1].resource.subject.reference");

    e = parse_fail(R"({"a":{"b":[1,2,x]}})");
    EXPECT_EQ(e.path, "a.b[2]");
    e = parse_fail(R"({"a":{"b":[1,2 3]}})");  // missing comma: the array itself
    EXPECT_EQ(e.path, "a.b");
    e = parse_fail(R"({"a":{"b":[1,2,]}})");  // trailing comma: where an element was expected
    EXPECT_EQ(e.path, "a.b[2]");
    e = parse_fail(R"({"a":{"b":1,}})");
    EXPECT_EQ(e.path, "a");
    e = parse_fail(R"({"a":{"b" 1}})");
    EXPECT_EQ(e.path, "a.b");
    EXPECT_NE(e.message.find("colon"), std::string::npos) << e.message;
    e = parse_fail(R"([[],[[0,{"x":[]}],"\q"]])");
    EXPECT_EQ(e.path, "[1][1]");
    e = parse_fail("tru");
    EXPECT_EQ(e.path, "");
}

TEST(JsonErrors, TrailingGarbageIsRefused) {
    auto e = parse_fail("{} x");
    EXPECT_NE(e.message.find("Unexpected content"), std::string::npos) << e.message;
    EXPECT_EQ(e.column, 4u);
    EXPECT_EQ(e.path, "");
    parse_fail("{}{}");
    parse_fail("[1]]");
    parse_fail("1 2");
    parse_ok("{} \n\t\r ");
}

TEST(JsonErrors, NulBytesAreRefusedEverywhere) {
    using namespace std::string_view_literals;
    for (std::string_view bad : {"{}\0"sv, "{}\0{}"sv, "[1,\0 2]"sv, "[\"a\0b\"]"sv, "\0"sv}) {
        SCOPED_TRACE(testing::PrintToString(std::string(bad)));
        const auto e = parse_fail(bad);
        EXPECT_NE(e.message.find("NUL"), std::string::npos) << e.message;
        EXPECT_EQ(bad[e.offset], '\0');
    }
}

TEST(JsonErrors, EmptyInputIsRefused) {
    auto e = parse_fail("");
    EXPECT_NE(e.message.find("empty"), std::string::npos) << e.message;
    EXPECT_EQ(e.line, 1u);
    EXPECT_EQ(e.column, 1u);
    e = parse_fail(" \n ");
    EXPECT_NE(e.message.find("empty"), std::string::npos) << e.message;
    EXPECT_EQ(e.line, 2u);
    EXPECT_EQ(e.column, 2u);
}

TEST(JsonErrors, NonStandardSyntaxIsRefused) {
    for (std::string_view bad : {"{'a':1}", "{a:1}", "// c\n{}", "/* c */{}", "[1,2,]", "{\"a\":1,}", "[undefined]",
                                 "{\"a\"}", "[", "{", "]", "\"abc"}) {
        SCOPED_TRACE(bad);
        parse_fail(bad);
    }
}

TEST(JsonErrors, ByteOrderMarkIsIgnored) {
    const Value v = parse_ok("\xEF\xBB\xBF{\"a\":1}");
    EXPECT_EQ(json::write(v), R"({"a":1})");
    const auto e = parse_fail("\xEF\xBB\xBF{\"a\":}");
    EXPECT_EQ(e.offset, 8u);  // offsets count the BOM, so they match the bytes received
    EXPECT_EQ(e.column, 9u);
}

// --- Value API ------------------------------------------------------------------------------

TEST(JsonValue, MakersSetKindAndText) {
    EXPECT_TRUE(Value().is_null());
    EXPECT_EQ(Value::string("x").kind(), Value::Kind::string);
    EXPECT_EQ(Value::string("x").text(), "x");
    EXPECT_EQ(Value::number("1.50").kind(), Value::Kind::number);
    EXPECT_EQ(Value::number("1.50").text(), "1.50");
    EXPECT_EQ(Value::boolean(true).kind(), Value::Kind::boolean);
    EXPECT_TRUE(Value::boolean(true).as_bool());
    EXPECT_FALSE(Value::boolean(false).as_bool());
    EXPECT_TRUE(Value::array().is_array());
    EXPECT_TRUE(Value::object().is_object());
    EXPECT_NE(Value::number("1.0"), Value::number("1.00"));  // equality is textual, as FHIR precision is
    EXPECT_NE(Value::string("1"), Value::number("1"));
}

TEST(JsonValue, SetOnNullMakesAnObject) {
    Value v;
    v.set("resourceType", Value::string("Patient"));
    ASSERT_TRUE(v.is_object());
    EXPECT_EQ(v.string_at("resourceType"), std::optional<std::string_view>("Patient"));
}

TEST(JsonValue, SetInsertsAtPositionAndReplacesInPlace) {
    Value v = parse_ok(R"({"a":1,"b":2})");
    Value& r = v.set("id", Value::string("x"), 0);
    EXPECT_EQ(r.text(), "x");
    EXPECT_EQ(json::write(v), R"({"id":"x","a":1,"b":2})");

    v.set("c", Value::number("3"), 2);
    EXPECT_EQ(json::write(v), R"({"id":"x","a":1,"c":3,"b":2})");

    v.set("end", Value(), 99);  // clamped
    EXPECT_EQ(json::write(v), R"({"id":"x","a":1,"c":3,"b":2,"end":null})");

    v.set("d", Value::boolean(true));  // default: the end
    EXPECT_EQ(json::write(v), R"({"id":"x","a":1,"c":3,"b":2,"end":null,"d":true})");

    v.set("a", Value::string("new"), 0);  // existing: value replaced, position kept
    EXPECT_EQ(json::write(v), R"({"id":"x","a":"new","c":3,"b":2,"end":null,"d":true})");
}

TEST(JsonValue, FindAndStringAt) {
    Value v = parse_ok(R"({"s":"t","n":5,"o":{"x":"y"}})");
    ASSERT_NE(v.find("o"), nullptr);
    EXPECT_EQ(v.find("o")->string_at("x"), std::optional<std::string_view>("y"));
    EXPECT_EQ(v.find("missing"), nullptr);
    EXPECT_EQ(v.string_at("n"), std::nullopt);  // a number is no string
    EXPECT_EQ(v.string_at("missing"), std::nullopt);
    EXPECT_EQ(v.find("s")->find("s"), nullptr);  // not an object
    EXPECT_EQ(Value::array().find("x"), nullptr);

    const Value& cv = v;
    EXPECT_EQ(cv.find("n")->text(), "5");
    *v.find("n") = Value::number("6");
    EXPECT_EQ(cv.find("n")->text(), "6");
}

TEST(JsonValue, Erase) {
    Value v = parse_ok(R"({"a":1,"b":2,"c":3})");
    EXPECT_TRUE(v.erase("b"));
    EXPECT_FALSE(v.erase("b"));
    EXPECT_FALSE(v.erase("zzz"));
    EXPECT_EQ(json::write(v), R"({"a":1,"c":3})");
    Value s = Value::string("x");
    EXPECT_FALSE(s.erase("x"));
}

TEST(JsonValue, PushBack) {
    Value a = Value::array();
    a.push_back(Value::number("1"));
    Value& last = a.push_back(Value::object());
    last.set("k", Value::string("v"));
    EXPECT_EQ(json::write(a), R"([1,{"k":"v"}])");
    Value n;
    n.push_back(Value::boolean(false));
    EXPECT_EQ(json::write(n), "[false]");
}

TEST(JsonValue, ParsedTreesCompareEqual) {
    const std::string text = R"({"a":[1,"2",{"b":null}],"c":true})";
    EXPECT_EQ(parse_ok(text), parse_ok(text));
    EXPECT_NE(parse_ok(text), parse_ok(R"({"c":true,"a":[1,"2",{"b":null}]})"));  // order matters
}
