// FHIRPath (N1, as R4 uses it, plus the 2.1 functions the official suite tests) over the JSON value
// tree. Compile once, evaluate many times: a compiled Expression is immutable and may be evaluated
// from any number of threads at once; there is no global state. Evaluation never recurses without
// bound and never throws; errors come back as values.
//
//   auto compiled = fhirpath::compile("Observation.value.ofType(Quantity).value > 5", {"Observation"});
//   if (!compiled.expression) report(compiled.error);          // line, column, what was expected
//   auto result = compiled.expression->evaluate(observation);  // a Collection, or an Error
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "fhir/fhirpath/decimal.hpp"
#include "fhir/fhirpath/quantity.hpp"
#include "fhir/fhirpath/temporal.hpp"
#include "fhir/json.hpp"

namespace helsebro::fhir::fhirpath {

struct Error {
    // syntax: the text is no FHIRPath. semantic: it parses but cannot be right for the context type
    // (unknown element, function on the wrong type, wrong argument count). execution: evaluation
    // failed on this input (single() on two items, 'a' < 1, ...).
    enum class Kind : unsigned char { syntax, semantic, execution };
    Kind kind = Kind::syntax;
    std::size_t line = 0;    // 1-based position in the expression; 0 when it has none
    std::size_t column = 0;  // 1-based, in bytes
    std::string message;     // a full sentence; never quotes input data (it may be personal data)
};
std::string_view to_string(Error::Kind kind);

// A node of a FHIR resource: a JSON value with its FHIR type, and for primitives the `_name`
// sibling that carries their id and extensions.
struct Node {
    const json::Value* value = nullptr;      // nullptr for a primitive that has only extensions
    const json::Value* extras = nullptr;     // the `_name` object of a primitive, or nullptr
    std::string_view type;                   // model type: "HumanName", "date", "BackboneElement", "Patient"
    std::string_view model_path;             // where its children are defined: a type name or, for
                                             // inline elements, the element path ("Patient.contact")
};

// One item of a collection: a system value or a resource node.
class Item {
public:
    using Value = std::variant<bool, std::int64_t, Decimal, std::string, Temporal, Quantity, Node>;

    Item(bool b) : value_(b) {}
    Item(std::int64_t i) : value_(i) {}
    Item(Decimal d) : value_(std::move(d)) {}
    Item(std::string s) : value_(std::move(s)) {}
    Item(Temporal t) : value_(std::move(t)) {}
    Item(Quantity q) : value_(std::move(q)) {}
    Item(Node n) : value_(n) {}
    Item(const char*) = delete;  // would silently become a Boolean
    // A resource (or any element) as an item; the type is taken from resourceType when empty.
    static Item resource(const json::Value& v, std::string_view type = {});

    const Value& value() const { return value_; }
    const Node* node() const { return std::get_if<Node>(&value_); }

    // The FHIRPath type name: system types "Boolean", "Integer", "Decimal", "String", "Date",
    // "DateTime", "Time", "Quantity"; nodes their FHIR type ("code", "HumanName", "Patient").
    std::string_view type_name() const;
    bool is_system() const { return !node(); }
    // The value as a system value: FHIR primitives become Boolean/Integer/Decimal/String/Date/
    // DateTime/Time, a FHIR Quantity a Quantity. nullopt for other nodes and unparseable text.
    std::optional<Item> system_value() const;
    // JSON for output: primitives as JSON values, Decimal as a number with its scale, dates and
    // quantities as FHIRPath text, nodes as their JSON (without `_name` extras).
    json::Value to_json() const;
    // FHIRPath toString() text, or nullopt for complex nodes.
    std::optional<std::string> to_text() const;

private:
    Value value_;
};
using Collection = std::vector<Item>;

struct CompileOptions {
    // The FHIR type the expression is evaluated on ("Patient", "Observation.component"). When set,
    // element names, `is`/`as` types and function argument types are checked against the model,
    // and an expression that can never match is a semantic error.
    std::string_view context_type;
    // Variables the caller will supply, with their type when known ("Patient", "System.String"; ""
    // for any), so %patient.name is checked like Patient.name. With declare_variables, a %name that
    // is neither listed nor built in is a semantic error (a typo found at load time, not at 3 a.m.).
    std::vector<std::pair<std::string, std::string>> variables;
    bool declare_variables = false;
    std::size_t max_length = 64 * 1024;  // bytes of expression text
    std::size_t max_depth = 200;         // nesting of the syntax tree
};

struct Environment {
    // %resource and %rootResource; when null, the evaluated input is both (%context always is).
    const json::Value* resource = nullptr;
    const json::Value* root_resource = nullptr;
    // %name variables beside the built-ins (%ucum, %sct, %loinc, %vs-*, %ext-*, %context, ...).
    std::vector<std::pair<std::string, Collection>> variables;
    // now(), today(), timeOfDay(): fixed for one evaluation. Default: the system clock, UTC.
    std::function<std::chrono::system_clock::time_point()> clock;
    int clock_offset_minutes = 0;
    // trace(name[, projection]); default: nothing.
    std::function<void(std::string_view name, const Collection& items)> trace;
    // resolve() of references that are not found in the root resource (a Bundle's entries, contained
    // resources); return nullptr when unknown.
    std::function<const json::Value*(std::string_view reference)> resolve;
    // Bounds one evaluation (repeat(), descendants(), aggregate() on hostile input).
    std::size_t max_items = 1u << 20;
};

struct Result {
    std::optional<Collection> items;  // set on success
    Error error;                      // meaningful when !items
    std::shared_ptr<const void> storage;  // values made during evaluation (type()), kept alive with `items`
};

class Expression {
public:
    Result evaluate(const json::Value& resource, const Environment& env = {}) const;
    Result evaluate(const Item& context, const Environment& env = {}) const;
    const std::string& text() const;
    // The type the expression was checked against ("" when none).
    std::string_view context_type() const;
    // The types the result can have, as found at compile time ("CareTeam", "System.Boolean"); empty
    // when they cannot be known.
    const std::vector<std::string>& result_types() const;

    struct Impl;
    explicit Expression(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

private:
    std::shared_ptr<const Impl> impl_;
};

struct Compiled {
    std::optional<Expression> expression;  // set on success
    Error error;                           // meaningful when !expression
};
Compiled compile(std::string_view text, const CompileOptions& options = {});

}  // namespace helsebro::fhir::fhirpath
