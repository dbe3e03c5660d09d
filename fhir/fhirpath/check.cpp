// Static typing over the syntax tree. A type set is either unknown (anything: no context type,
// a resolve(), an abstract Resource) or the possible types of the items, each a model type with the
// place its children are defined, or a System type. Checks fire only on known sets, so an
// expression is refused only when it is certain to be wrong.
#include "fhir/fhirpath/check.hpp"

#include <algorithm>
#include <cctype>

#include "fhir/fhirpath/eval.hpp"
#include "fhir/fhirpath/functions.hpp"
#include "fhir/model/model.hpp"

namespace helsebro::fhir::fhirpath::detail {
namespace {

namespace model = fhir::model;

struct Type {
    std::string_view name;        // "HumanName", "BackboneElement", "System.String"
    std::string_view model_path;  // where children are defined; empty for System types
    friend bool operator==(const Type&, const Type&) = default;
};

struct Types {
    bool known = false;
    std::vector<Type> list;
    bool unordered = false;  // children()/descendants(): the order means nothing
    static Types unknown() { return {}; }
    static Types of(std::initializer_list<Type> t) { return Types{true, t}; }
    static Types system(std::string_view name) { return of({Type{name, {}}}); }
    void add(const Type& t) {
        if (std::find(list.begin(), list.end(), t) == list.end()) list.push_back(t);
    }
};

struct SemanticError {
    Error error;
};
[[noreturn]] void refuse(const AstNode& at, std::string message) {
    throw SemanticError{Error{Error::Kind::semantic, at.line, at.column, std::move(message)}};
}

// The System type a value of this type compares and computes as ("System.String" for code).
std::string_view value_type(const Type& t) {
    if (t.name.starts_with("System.")) return t.name;
    if (auto v = primitive_value_type(t.name); !v.empty()) return v;
    if (derives_from(t.name, "Quantity")) return "System.Quantity";
    return {};
}

bool all_of_value_type(const Types& types, std::initializer_list<std::string_view> allowed) {
    return std::all_of(types.list.begin(), types.list.end(), [&](const Type& t) {
        const auto v = value_type(t);
        return std::find(allowed.begin(), allowed.end(), v) != allowed.end();
    });
}

bool none_of_value_type(const Types& types, std::initializer_list<std::string_view> allowed) {
    return std::none_of(types.list.begin(), types.list.end(), [&](const Type& t) {
        const auto v = value_type(t);
        return std::find(allowed.begin(), allowed.end(), v) != allowed.end();
    });
}

Types literal_type(const Item& item) {
    static constexpr std::string_view names[] = {"System.Boolean", "System.Integer", "System.Decimal", "System.String",
                                                 "System.Date", "System.DateTime", "System.Time", "System.Quantity"};
    for (auto name : names)
        if (name.substr(7) == item.type_name()) return Types::system(name);
    return Types::unknown();
}

// The type of one element of the model; abstract resources are unknown (their content is not).
std::optional<Type> element_type(const model::Element& e, std::string_view type) {
    if (type == "Resource" || type == "DomainResource") return std::nullopt;
    if (type == "BackboneElement" || type == "Element") return Type{type, e.path};
    const auto* def = model::type(type);
    if (!def) return Type{type, {}};
    return Type{def->name, def->name};
}

// A type name as the caller gives it ("Patient", "Observation.component", "System.String").
Types named_type(std::string_view name) {
    if (name.empty()) return Types::unknown();
    if (name.starts_with("System.")) return Types::system(name);
    if (const auto* def = model::type(name)) {
        if (def->name == "Resource" || def->name == "DomainResource") return Types::unknown();
        return Types::of({Type{def->name, def->name}});
    }
    if (const auto* e = model::element(name)) return Types::of({Type{"BackboneElement", e->path}});
    return Types::unknown();
}

bool is_builtin_variable(std::string_view name) {
    return name == "context" || name == "resource" || name == "rootResource" || name == "ucum" || name == "sct" ||
           name == "loinc" || name.starts_with("vs-") || name.starts_with("ext-");
}

class Checker {
public:
    explicit Checker(const CompileOptions& options) : options_(options), context_(named_type(options.context_type)) {}

    Types walk(const AstNode& n, const Types& input, const Types& this_type) {
        switch (n.op) {
            case Op::literal: return literal_type(*n.literal);
            case Op::bad_literal: case Op::empty: return Types::of({});
            case Op::this_: return this_type;
            case Op::index: return Types::system("System.Integer");
            case Op::total: return Types::unknown();
            case Op::variable: return variable(n);
            case Op::member: return member(n, input);
            case Op::function: return function(n, input, this_type);
            case Op::invoke: return walk(*n.args[1], walk(*n.args[0], input, this_type), this_type);
            case Op::indexer: {
                walk(*n.args[1], this_type, this_type);
                Types collection = walk(*n.args[0], input, this_type);
                if (collection.unordered) refuse(n, "Indexing the result of children() or descendants() depends on an order they do not have.");
                return collection;
            }
            default: return binary(n, input, this_type);
        }
    }

    const Types& context() const { return context_; }

private:
    const CompileOptions& options_;
    Types context_;

    Types variable(const AstNode& n) {
        // The caller's variables shadow the built-ins, as at evaluation.
        for (const auto& [name, type] : options_.variables)
            if (name == n.name) return named_type(type);
        if (n.name == "context") return context_;
        if (n.name == "ucum" || n.name == "sct" || n.name == "loinc" || n.name.starts_with("vs-") || n.name.starts_with("ext-"))
            return Types::system("System.String");
        if (options_.declare_variables && !is_builtin_variable(n.name)) {
            std::string known;
            for (const auto& v : options_.variables) known += (known.empty() ? "%" : ", %") + v.first;
            refuse(n, "%" + n.name + " is not defined" + (known.empty() ? "." : "; defined here: " + known + "."));
        }
        return Types::unknown();
    }

    Types member(const AstNode& n, const Types& input) {
        if (!input.known) return Types::unknown();
        Types out{true, {}, input.unordered};
        const bool type_like = n.starts_path && std::isupper(static_cast<unsigned char>(n.name[0]));
        bool unknown = false;
        for (const Type& t : input.list) {
            if (type_like && derives_from(t.name, n.name)) {
                out.add(t);
                continue;
            }
            if (t.model_path.empty()) continue;
            for (const model::Element& e : model::children(t.model_path)) {
                if (e.name != n.name && (!e.is_choice() || e.choice_base() != n.name)) continue;
                if (e.types.empty()) {  // content reference: the referenced group's children
                    out.add(Type{"BackboneElement", e.content_reference.substr(1)});
                    continue;
                }
                for (auto type : e.types) {
                    if (auto et = element_type(e, type)) out.add(*et);
                    else unknown = true;
                }
            }
        }
        if (unknown) return Types::unknown();
        if (out.list.empty() && !input.list.empty()) {
            if (type_like)
                refuse(n, "'" + n.name + "' is neither an element nor the type of the input (" + describe(input) + ").");
            refuse(n, "'" + n.name + "' is no element of " + describe(input) + describe_choice_hint(n.name) + ".");
        }
        return out;
    }

    static std::string describe(const Types& t) {
        std::string out;
        for (const Type& x : t.list) {
            if (!out.empty()) out += " or ";
            out += x.name == "BackboneElement" ? std::string(x.model_path) : std::string(x.name);
        }
        return out;
    }

    // valueQuantity is a JSON name; FHIRPath names the choice `value` and picks the type with ofType.
    static std::string describe_choice_hint(const std::string& name) {
        for (std::size_t i = 1; i < name.size(); ++i) {
            if (std::isupper(static_cast<unsigned char>(name[i])))
                return "; for a choice element write " + name.substr(0, i) + ".ofType(" + name.substr(i) + ")";
        }
        return {};
    }

    static bool boolean_like(const Types& t) {
        return !t.known || t.list.empty() || all_of_value_type(t, {"System.Boolean"});
    }

    Types function(const AstNode& n, const Types& input, const Types& this_type) {
        const FunctionDef& f = *n.function;
        if (input.known && !input.list.empty()) check_input(n, f.input, input);
        if (f.needs_order && input.unordered)
            refuse(n, n.name + "() depends on the order of its input, and children() and descendants() have none.");
        Types item_type = input;  // $this inside iterating arguments
        std::vector<Types> args;
        for (std::size_t i = 0; i < n.args.size(); ++i) {
            if (f.takes_type) {
                args.push_back(Types::unknown());
                continue;
            }
            const bool per_item = (f.per_item_args >> i) & 1;
            args.push_back(per_item ? walk(*n.args[i], item_type, item_type) : walk(*n.args[i], this_type, this_type));
        }
        Types out = result(n, input, args);
        out.unordered = n.name == "children" || n.name == "descendants" ||
                        (input.unordered && (n.name == "where" || n.name == "select" || n.name == "ofType" ||
                                             n.name == "distinct" || n.name == "exclude" || n.name == "intersect"));
        return out;
    }

    void check_input(const AstNode& n, InputKind kind, const Types& input) {
        switch (kind) {
            case InputKind::string:
                if (none_of_value_type(input, {"System.String"}))
                    refuse(n, n.name + "() applies to strings, not to " + describe(input) + ".");
                break;
            case InputKind::number:
                if (none_of_value_type(input, {"System.Integer", "System.Decimal", "System.Quantity"}))
                    refuse(n, n.name + "() applies to numbers, not to " + describe(input) + ".");
                break;
            default: break;
        }
    }

    Types result(const AstNode& n, const Types& input, const std::vector<Types>& args) {
        const std::string& name = n.name;
        static constexpr std::string_view same[] = {"where", "first", "last", "tail", "skip", "take", "single",
                                                    "distinct", "trace", "sort", "intersect", "exclude"};
        if (std::find(std::begin(same), std::end(same), name) != std::end(same)) return input;
        static constexpr std::string_view booleans[] = {
            "empty", "exists", "all", "allTrue", "anyTrue", "allFalse", "anyFalse", "subsetOf", "supersetOf",
            "isDistinct", "is", "not", "startsWith", "endsWith", "contains", "matches", "matchesFull",
            "hasValue", "conformsTo", "comparable", "convertsToBoolean", "convertsToInteger", "convertsToDecimal",
            "convertsToString", "convertsToDate", "convertsToDateTime", "convertsToTime", "convertsToQuantity"};
        if (std::find(std::begin(booleans), std::end(booleans), name) != std::end(booleans))
            return Types::system("System.Boolean");
        if (name == "count" || name == "length" || name == "indexOf") return Types::system("System.Integer");
        if (name == "select") return args[0];
        if (name == "iif") {
            if (!boolean_like(args[0])) refuse(n, "The criterion of iif() must be a Boolean, not " + describe(args[0]) + ".");
            return union_of(args[1], args.size() > 2 ? args[2] : Types::of({}));
        }
        if (name == "union" || name == "combine") return union_of(input, args[0]);
        if (name == "ofType" || name == "as") return as_type(n, input, name == "as");
        if (name == "extension") return extension_type();
        return Types::unknown();
    }

    static Types union_of(const Types& a, const Types& b) {
        if (!a.known || !b.known) return Types::unknown();
        Types out = a;
        for (const Type& t : b.list) out.add(t);
        return out;
    }

    static Types extension_type() {
        const auto* def = model::type("Extension");
        return Types::of({Type{def->name, def->name}});
    }

    // as(T) on an input that can never be a T is a mistake (Observation.value as Period).
    Types as_type(const AstNode& n, const Types& input, bool refuse_impossible) {
        const auto* def = n.type.ns == "System" ? nullptr : model::type(n.type.name);
        if (!def) return Types::unknown();
        const Type target{def->name, def->name};
        // Primitives are left alone: as() matches them exactly, so as(id) on a code is merely empty.
        if (input.known && !input.list.empty() && refuse_impossible && def->kind != model::Kind::primitive) {
            const bool possible = std::any_of(input.list.begin(), input.list.end(), [&](const Type& t) {
                return derives_from(t.name, def->name) || derives_from(def->name, t.name);
            });
            if (!possible) refuse(n, "The input (" + describe(input) + ") can never be a " + n.type.text() + ".");
        }
        return Types::of({target});
    }

    Types binary(const AstNode& n, const Types& input, const Types& this_type) {
        Types left = walk(*n.args[0], input, this_type);
        if (n.op == Op::is) return Types::system("System.Boolean");
        if (n.op == Op::as) return as_type(n, left, true);
        if (n.op == Op::negate || n.op == Op::plus_sign) return left;
        Types right = walk(*n.args[1], input, this_type);
        switch (n.op) {
            case Op::union_: return union_of(left, right);
            case Op::add: case Op::subtract: case Op::multiply: case Op::divide: case Op::div: case Op::mod:
                return arithmetic(n, left, right);
            case Op::concatenate: return Types::system("System.String");
            default: return Types::system("System.Boolean");
        }
    }

    Types arithmetic(const AstNode& n, const Types& left, const Types& right) {
        if (!left.known || !right.known || left.list.empty() || right.list.empty()) return Types::unknown();
        const bool temporal = all_of_value_type(left, {"System.Date", "System.DateTime", "System.Time"});
        const bool number = all_of_value_type(right, {"System.Integer", "System.Decimal"});
        if (temporal && number)
            refuse(n, "A date or time can only be added to or subtracted from a quantity with a unit, such as 7 days.");
        if (temporal) return left;
        return Types::unknown();
    }
};

}  // namespace

std::optional<Error> check(const AstNode& root, const CompileOptions& options, std::vector<std::string>& result_types) {
    Checker checker(options);
    try {
        const Types result = checker.walk(root, checker.context(), checker.context());
        if (result.known)
            for (const Type& t : result.list)
                result_types.push_back(t.name == "BackboneElement" ? std::string(t.model_path) : std::string(t.name));
    } catch (const SemanticError& e) {
        return e.error;
    }
    return std::nullopt;
}

}  // namespace helsebro::fhir::fhirpath::detail
