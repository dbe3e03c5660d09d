#include "adapter/cli/fhirpath.hpp"

#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string_view>

#include "fhir/fhirpath.hpp"
#include "fhir/json.hpp"
#include "fhir/xml.hpp"

namespace helsebro::cli {

namespace {

namespace fp = fhir::fhirpath;
using fhir::json::Value;

std::optional<std::string> read_all(const std::string& file) {
    if (file == "-") return std::string(std::istreambuf_iterator<char>(std::cin), {});
    std::ifstream in(file, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

bool looks_like_xml(std::string_view text) {
    auto first = text.find_first_not_of(" \t\r\n");
    return first != std::string_view::npos && text[first] == '<';
}

// The input as a tree, or nullopt once the reason it is not FHIR has been reported.
std::optional<Value> read_input(const std::string& file) {
    auto text = read_all(file);
    if (!text) {
        std::cerr << "helsebro fhirpath: cannot read " << file << "\n";
        return std::nullopt;
    }
    auto fail = [&](std::size_t line, const std::string& path, const std::string& message) {
        std::cerr << "helsebro fhirpath: " << file << (line ? ":" + std::to_string(line) : "")
                  << (path.empty() ? "" : " at " + path) << ": " << message << "\n";
        return std::nullopt;
    };
    if (looks_like_xml(*text)) {
        auto parsed = fhir::xml::parse(*text);
        if (!parsed.value) return fail(parsed.error.line, parsed.error.path, parsed.error.message);
        return std::move(parsed.value);
    }
    fhir::json::ParseLimits limits;
    limits.max_depth = 512;  // as `convert`: a file is trusted more than network input
    auto parsed = fhir::json::parse(*text, limits);
    if (!parsed.value) return fail(parsed.error.line, parsed.error.path, parsed.error.message);
    // The expression is compiled against the resourceType, so a resource must say it.
    if (!parsed.value->string_at("resourceType")) return fail(0, "", "This is no FHIR resource: it has no resourceType.");
    return std::move(parsed.value);
}

// The expression's line `line` with a caret under byte column `column`. Tabs are kept and UTF-8
// continuation bytes skipped, so the caret lines up in a terminal.
void show_position(std::string_view text, std::size_t line, std::size_t column) {
    std::size_t start = 0;
    for (std::size_t l = 1; l < line && start != std::string_view::npos; ++l) {
        start = text.find('\n', start);
        if (start != std::string_view::npos) ++start;
    }
    if (start == std::string_view::npos) return;
    auto row = text.substr(start, text.find('\n', start) - start);
    std::string caret;
    for (std::size_t i = 0; i + 1 < column && i < row.size(); ++i) {
        if ((static_cast<unsigned char>(row[i]) & 0xC0) == 0x80) continue;
        caret += row[i] == '\t' ? '\t' : ' ';
    }
    std::cerr << "  " << row << "\n  " << caret << "^\n";
}

// Reports the error and gives the exit status for it: 2 when the expression is wrong, 3 when the
// evaluation failed. `origin` names a --var, or is empty for the expression itself.
int report(const std::string& origin, std::string_view text, const fp::Error& e) {
    std::cerr << "helsebro fhirpath: " << (origin.empty() ? "" : origin + ": ") << fp::to_string(e.kind) << " error";
    if (e.line) std::cerr << " at " << e.line << ":" << e.column;
    std::cerr << ": " << e.message << "\n";
    if (e.line) show_position(text, e.line, e.column);
    return e.kind == fp::Error::Kind::execution ? 3 : 2;
}

struct Evaluated {
    fp::Collection items;
    int status = 0;  // non-zero: failed, and reported
};

Evaluated evaluate(const std::string& origin, const std::string& text, const Value& input,
                   const fp::Environment& env) {
    fp::CompileOptions options;
    options.context_type = input.string_at("resourceType").value_or("");
    auto compiled = fp::compile(text, options);
    if (!compiled.expression) return {{}, report(origin, text, compiled.error)};
    auto result = compiled.expression->evaluate(input, env);
    if (!result.items) return {{}, report(origin, text, result.error)};
    return {std::move(*result.items), 0};
}

Value as_json(const fp::Collection& items) {
    Value out = Value::array();
    for (const auto& item : items) {
        Value entry = Value::object();
        entry.set("type", Value::string(std::string(item.type_name())));
        entry.set("value", item.to_json());
        out.push_back(std::move(entry));
    }
    return out;
}

// trace() output goes to stderr, so it never mixes with the result on stdout.
fp::Environment environment() {
    fp::Environment env;
    env.trace = [](std::string_view name, const fp::Collection& items) {
        std::cerr << "trace " << name << ": " << fhir::json::write(as_json(items)) << "\n";
    };
    return env;
}

// Binds each NAME=EXPRESSION in order; returns the exit status of the first that fails, else 0.
int bind_variables(const std::vector<std::string>& variables, const Value& input, fp::Environment& env) {
    for (const auto& variable : variables) {
        auto eq = variable.find('=');
        if (eq == std::string::npos || eq == 0) {
            std::cerr << "helsebro fhirpath: --var wants NAME=EXPRESSION, e.g. "
                         "--var patient='Bundle.entry.resource.ofType(Patient)'\n";
            return 2;
        }
        std::string name = variable.substr(0, eq);
        auto value = evaluate("--var " + name, variable.substr(eq + 1), input, env);
        if (value.status) return value.status;
        env.variables.emplace_back(std::move(name), std::move(value.items));
    }
    return 0;
}

}  // namespace

int evaluate_fhirpath(const std::string& input_file, const std::vector<std::string>& variables,
                      const std::string& expression) {
    auto input = read_input(input_file);
    if (!input) return 1;
    auto env = environment();
    if (int status = bind_variables(variables, *input, env)) return status;
    auto result = evaluate("", expression, *input, env);
    if (result.status) return result.status;
    std::cout << fhir::json::write(as_json(result.items)) << "\n";
    return 0;
}

}  // namespace helsebro::cli
