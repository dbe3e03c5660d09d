#pragma once
// Assertion helpers for JSON response bodies (header-only, RapidJSON).
//
//   auto doc = parse_json(res.body);
//   EXPECT_EQ(json_string(doc, "entry[0].response.status"), "201 Created");
//   EXPECT_EQ(json_int(doc, "total"), 3);
//   EXPECT_FALSE(json_find(doc, "entry[5]"));

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace helsebro::testing {

// Throws std::runtime_error with the RapidJSON error, its offset and the
// start of the body, so a non-JSON error page is visible in the test output.
inline rapidjson::Document parse_json(const std::string& body) {
    rapidjson::Document doc;
    doc.Parse(body.data(), body.size());
    if (doc.HasParseError()) {
        throw std::runtime_error("JSON parse error at offset " + std::to_string(doc.GetErrorOffset()) + ": " +
                                 rapidjson::GetParseError_En(doc.GetParseError()) + "; body: " + body.substr(0, 300));
    }
    return doc;
}

// Serialises a value compactly (for failure messages and whole-object checks).
inline std::string json_dump(const rapidjson::Value& value) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buf);
    value.Accept(writer);
    return {buf.GetString(), buf.GetSize()};
}

// Resolves a path of member names and array indices: "entry[0].response.location",
// "issue[0].code", "[2].id" (array root). nullptr when any step is missing or of
// the wrong kind. Member names cannot contain '.' or '['.
inline const rapidjson::Value* json_find(const rapidjson::Value& root, std::string_view path) {
    const rapidjson::Value* cur = &root;
    std::size_t i = 0;
    while (i < path.size()) {
        if (path[i] == '.') {
            ++i;
            continue;
        }
        if (path[i] == '[') {
            auto close = path.find(']', i);
            if (close == std::string_view::npos) throw std::invalid_argument("json path: missing ']' in " + std::string(path));
            std::size_t index = 0;
            for (std::size_t k = i + 1; k < close; ++k) {
                if (path[k] < '0' || path[k] > '9') throw std::invalid_argument("json path: bad index in " + std::string(path));
                index = index * 10 + static_cast<std::size_t>(path[k] - '0');
            }
            if (close == i + 1) throw std::invalid_argument("json path: empty index in " + std::string(path));
            if (!cur->IsArray() || index >= cur->Size()) return nullptr;
            cur = &(*cur)[static_cast<rapidjson::SizeType>(index)];
            i = close + 1;
            continue;
        }
        auto end = path.find_first_of(".[", i);
        if (end == std::string_view::npos) end = path.size();
        std::string_view name = path.substr(i, end - i);
        if (!cur->IsObject()) return nullptr;
        auto it = cur->FindMember(rapidjson::Value(rapidjson::StringRef(name.data(), static_cast<rapidjson::SizeType>(name.size()))));
        if (it == cur->MemberEnd()) return nullptr;
        cur = &it->value;
        i = end;
    }
    return cur;
}

// The string at `path`; throws (naming the path and showing the document)
// when it is missing or not a string, so a failing test explains itself.
inline std::string json_string(const rapidjson::Value& root, std::string_view path) {
    const auto* v = json_find(root, path);
    if (!v || !v->IsString())
        throw std::runtime_error("json: no string at '" + std::string(path) + "' in " + json_dump(root).substr(0, 2000));
    return {v->GetString(), v->GetStringLength()};
}

inline std::optional<std::string> json_optional_string(const rapidjson::Value& root, std::string_view path) {
    const auto* v = json_find(root, path);
    if (!v || !v->IsString()) return std::nullopt;
    return std::string(v->GetString(), v->GetStringLength());
}

inline std::int64_t json_int(const rapidjson::Value& root, std::string_view path) {
    const auto* v = json_find(root, path);
    if (!v || !v->IsInt64())
        throw std::runtime_error("json: no integer at '" + std::string(path) + "' in " + json_dump(root).substr(0, 2000));
    return v->GetInt64();
}

// Array length at `path`, 0 when absent (FHIR omits empty arrays).
inline std::size_t json_size(const rapidjson::Value& root, std::string_view path) {
    const auto* v = json_find(root, path);
    if (!v) return 0;
    if (!v->IsArray())
        throw std::runtime_error("json: not an array at '" + std::string(path) + "' in " + json_dump(root).substr(0, 2000));
    return v->Size();
}

}  // namespace helsebro::testing
