// The loaded form of the rules, private to adapter/mapping: every expression compiled and typed.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "adapter/mapping/mapping.hpp"
#include "adapter/mapping/paths.hpp"
#include "fhir/fhirpath.hpp"
#include "fhir/model/model.hpp"

namespace helsebro::mapping {

namespace fp = fhir::fhirpath;

// Where something came from, for errors at run time ("discharge.yaml:14").
struct Origin {
    std::string file;
    int line = 0;
};

// A value to write: an expression, a literal, an element built from named parts, or a list.
struct Part;
struct Value {
    enum class Kind { expression, literal, object, list };
    Kind kind = Kind::expression;
    std::optional<fp::Expression> expression;
    fhir::json::Value literal;
    // A named struct, not a std::pair: a pair may not hold the type being defined (clang refuses).
    std::vector<Part> parts;                           // object: element path (resolved at load) -> value
    std::optional<fp::Expression> for_each;            // object: one element per item, as %item
    std::optional<fp::Expression> identify_by;         // object appended: an element with the same key is replaced
    std::vector<Value> items;                          // list
};

struct Part {
    ResolvedPath path;
    Value value;
};

// One assignment: a JSON name path under the record, resolved against the model.
struct Assignment {
    ResolvedPath path;  // {"scheduledPeriod", "end"} with the definitions it leads to
    Value value;
    Origin origin;
};

struct Upsert {
    std::string resource;          // record type
    std::string as;                // variable name, or ""
    std::optional<fp::Expression> match;
    std::optional<fp::Expression> when;
    std::vector<Assignment> create, set, append;
    Origin origin;
};

struct Send {
    std::optional<fp::Expression> to;
    std::string recipient;  // a fixed address-book id instead of `to`
    std::string event_system, event_code;  // empty: the input's event
    std::optional<fp::Expression> focus, include;
    Origin origin;
};

struct Test {
    std::string name;
    std::string input, records, expect;  // absolute paths
    std::string sender;
    Origin origin;
};

struct Rule {
    std::string name, description;
    enum class Trigger { event, resource, patient_changed } trigger = Trigger::event;
    std::string event_system, event_code, resource_type;
    std::vector<std::string> senders;
    std::optional<fp::Expression> condition;
    std::optional<fp::Expression> patient;
    std::vector<std::pair<std::string, fp::Expression>> let;
    std::optional<fp::Expression> keep;  // received resources to hold as the patient's data
    std::vector<Upsert> upserts;
    std::vector<Send> sends;
    Origin origin;
};

struct Setting {
    std::string name;
    fp::Collection value;  // evaluated once at load
};

struct RuleSet {
    std::string version;
    std::vector<std::string> files;
    std::vector<Setting> settings;
    std::vector<Rule> rules;
    std::vector<Test> tests;
    std::vector<Recipient> recipients;
    std::vector<Recipient> test_recipients;  // the address book the tests add to the config's
};

}  // namespace helsebro::mapping
