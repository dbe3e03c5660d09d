// The evaluator's internals, shared by the operators (eval.cpp) and the function files.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "fhir/fhirpath.hpp"
#include "fhir/fhirpath/ast.hpp"

namespace helsebro::fhir::fhirpath::detail {

// Evaluation errors unwind to Expression::evaluate, which turns them into an Error value; they
// only happen on input the expression does not fit, so they stay off the normal path.
struct EvalError {
    std::string message;
    const AstNode* at = nullptr;
};
[[noreturn]] void fail(const AstNode& at, std::string message);

// The scope of one iteration: $this, $index, $total. Top-level terms start from `this_items`.
struct Frame {
    const Collection* this_items = nullptr;
    std::int64_t index = -1;         // -1 outside an iterating function
    const Collection* total = nullptr;  // only inside aggregate()
};

class Evaluator {
public:
    Evaluator(const Environment& env, const Collection& context, const json::Value* resource,
              const json::Value* root_resource);

    Collection eval(const AstNode& node, const Collection& input, Frame& frame);
    // Arguments of non-iterating functions: evaluated once, on the caller's $this.
    Collection arg(const AstNode& call, std::size_t i, Frame& frame) {
        return eval(*call.args[i], *frame.this_items, frame);
    }
    // An iterating argument for one item.
    Collection arg_for(const AstNode& call, std::size_t i, const Item& item, std::int64_t index, Frame& outer);

    const Environment& env() const { return env_; }
    const json::Value* resource() const { return resource_; }
    const json::Value* root_resource() const { return root_resource_; }
    const Temporal& now();
    // Counts items produced by repeat()/descendants()/aggregate(); fails past env.max_items.
    void count(const AstNode& at, std::size_t n);
    // Keeps a value made during evaluation alive as long as the result (see Result::storage).
    const json::Value& keep(json::Value v);
    std::shared_ptr<const void> storage() const { return storage_; }

private:
    const Environment& env_;
    const Collection& context_;
    const json::Value* resource_;
    const json::Value* root_resource_;
    std::optional<Temporal> now_;
    std::size_t produced_ = 0;
    std::shared_ptr<std::deque<json::Value>> storage_;

    Collection variable(const AstNode& node);
    Collection member(const AstNode& node, const Collection& input);
    Collection binary(const AstNode& node, const Collection& input, Frame& frame);
};

// ---- Items (item.cpp) ----

// Child elements named `name` (FHIRPath name: `value` finds valueQuantity) of a node, appended.
void children_named(const Node& node, std::string_view name, Collection& out);
// All child elements, in document order.
void all_children(const Node& node, Collection& out);
// A node's string value without copying (FHIR primitives whose value is System.String), or a
// System String's.
std::optional<std::string_view> string_of(const Item& item);
// Is `item` of type `spec` or of a type derived from it? (`code` is a `string`; `Age` a `Quantity`.)
bool is_type(const Item& item, const TypeSpec& spec);
// as/ofType: like is_type, but FHIR primitives match exactly. The official suite has
// Patient.gender.is(string) true and Patient.gender.as(string) empty.
bool is_cast_type(const Item& item, const TypeSpec& spec);
// Whether the type names a FHIR or System type at all.
bool type_exists(const TypeSpec& spec);
// Whether a FHIR type derives from (or is) `base`.
bool derives_from(std::string_view type, std::string_view base);
bool is_primitive_node(const Node& node);
// The System type of a FHIR primitive ("System.Integer" for positiveInt), or "" for other types.
std::string_view primitive_value_type(std::string_view fhir_type);

// ---- Comparison (compare.cpp) ----

// FHIRPath '=' on two items: nullopt when undecidable (dates of different precision).
std::optional<bool> items_equal(const Item& a, const Item& b);
bool items_equivalent(const Item& a, const Item& b);
// FHIRPath ordering: nullopt when undecidable; fails when the types cannot be compared.
std::optional<int> items_compare(const AstNode& at, const Item& a, const Item& b);
// Collection '=' and '~'.
std::optional<bool> collections_equal(const Collection& a, const Collection& b);
bool collections_equivalent(const Collection& a, const Collection& b);
bool collection_contains(const Collection& c, const Item& item);
// Distinct items in first-seen order (by '=' semantics).
Collection distinct(const Collection& c);

// ---- Conversions (helpers for the functions) ----

// Singleton evaluation: empty -> nullopt; one boolean -> it; one other item -> true; more -> error.
std::optional<bool> to_boolean(const AstNode& at, const Collection& c);
// The single item (nullopt for empty); fails for more than one.
const Item* single(const AstNode& at, const Collection& c, const char* what);
// The single item as a system value, or nullopt when empty.
std::optional<Item> single_value(const AstNode& at, const Collection& c, const char* what);
std::optional<std::string> single_string(const AstNode& at, const Collection& c, const char* what);
std::optional<std::int64_t> single_integer(const AstNode& at, const Collection& c, const char* what);

}  // namespace helsebro::fhir::fhirpath::detail
