// The mapping rules (mappings/*.yaml, documented in mappings/README.md): loading them, checked in
// full, into an immutable RuleSet, and applying one to an input — a message Bundle or a resource
// written over REST — giving the shared-record changes and outgoing messages it causes. Applying is
// a pure function of the input, the patient's current records and the clock: it writes nothing, so
// the processing stage, `helsebro map --dry-run` and `helsebro test-mappings` all run the same code.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fhir/json.hpp"

namespace helsebro::mapping {

// An address-book entry: who receives messages, known by the identifiers references carry.
struct Recipient {
    std::string id;
    std::string endpoint;                          // its FHIR base URL (MessageHeader.destination)
    std::vector<std::string> her_ids;              // urn:oid:2.16.578.1.12.4.1.2
    std::vector<std::string> organization_numbers; // urn:oid:2.16.578.1.12.4.1.4.101
    std::vector<std::string> hpr_numbers;          // urn:oid:2.16.578.1.12.4.1.4.4: GPs it receives for
};

struct LoadError {
    std::string file;
    int line = 0;  // 1-based; 0 when not tied to a place
    int column = 0;
    std::string message;
    std::string hint;
    std::string to_string() const;  // "file:line:column: message (hint)"
};

struct RuleSet;  // immutable once loaded; share it with std::shared_ptr<const RuleSet>

struct LoadOptions {
    // The config's address book and clients. Without a config (test-mappings DIR) they are not
    // known, and `recipient:` and `sender:` are not checked.
    std::optional<std::vector<Recipient>> recipients;
    std::optional<std::vector<std::string>> client_ids;
};

struct Loaded {
    std::shared_ptr<const RuleSet> rules;  // set when errors is empty
    std::vector<LoadError> errors;         // every problem found, in file order
};

// Loads every *.yaml of `dir` in name order (an empty `dir`: no rules). Nothing is partially
// loaded: any error, no rule set.
Loaded load(const std::string& dir, const LoadOptions& options);

const std::string& version(const RuleSet& rules);       // 12 hex digits of SHA-256 over names and contents
std::vector<std::string> files(const RuleSet& rules);   // the files it was loaded from

struct PatientKey {
    std::string system;  // fødselsnummer or D-nummer system
    std::string value;
    friend bool operator<(const PatientKey& a, const PatientKey& b) {
        return std::tie(a.system, a.value) < std::tie(b.system, b.value);
    }
};

// What Helsebro holds for a patient: every current resource linked to the national identifier.
using RecordSource = std::function<std::vector<fhir::json::Value>(const PatientKey&)>;

struct Input {
    enum class Kind { message, resource };
    Kind kind = Kind::message;
    const fhir::json::Value* resource = nullptr;  // the message Bundle or the written resource
    const fhir::json::Value* bundle = nullptr;    // for a resource: the transaction or batch it came in, if any
    std::string sender;                           // client id
    std::string message_id;                       // the stored message: names provenance and outgoing messages
    std::chrono::system_clock::time_point now;
};

struct Change {
    std::string rule;
    bool created = false;
    PatientKey patient;
    fhir::json::Value resource;    // the record after the change (id set; meta left to the store)
    fhir::json::Value provenance;  // a Provenance resource with the change's origin
};

struct Outgoing {
    std::string rule;
    std::string recipient;       // address-book id
    PatientKey patient;          // whose message it is (empty when the rule names no patient): order is kept per patient
    fhir::json::Value bundle;    // a message Bundle, its id and MessageHeader.id stable across replays
};

struct Outcome {
    bool ok = true;
    std::string error;            // when !ok: which rule failed and why (no personal data)
    std::string rule_set_version;
    std::vector<std::string> rules_applied;
    std::vector<Change> changes;
    std::vector<Outgoing> messages;
    fhir::json::Value to_json() const;  // what `helsebro map --dry-run` prints
};

// What is stored of the changes' provenance: one Provenance per rule and activity (CREATE or
// UPDATE), its targets every record that rule so changed, in order (the changes' own Provenance
// differ in their target only). `changes` indexes Outcome::changes; the targets are unversioned
// here: the store knows the versions.
struct ProvenanceGroup {
    fhir::json::Value provenance;  // the first change's Provenance, its id kept
    std::vector<std::size_t> changes;
};
std::vector<ProvenanceGroup> provenance_groups(const Outcome& outcome);

// A resource or Bundle from a file, FHIR JSON or XML (told from the first character); nullopt with
// `error` set ("file:line: why") when it cannot be read.
std::optional<fhir::json::Value> read_resource_file(const std::string& path, std::string& error);

// The inputs a request file gives, as the processing stage makes them from a stored request: a
// message Bundle is one input; a transaction or batch one per entry (with %bundle); any other
// resource one. `base` gives sender, message id and time; the inputs point into `request`.
std::vector<Input> inputs_of(const fhir::json::Value& request, const Input& base);

Outcome apply(const RuleSet& rules, const Input& input, const RecordSource& records);
// The inputs of one stored request (each resource of a transaction) in order: each sees what the
// ones before it changed, and `patient_changed` rules run once at the end.
Outcome apply(const RuleSet& rules, const std::vector<Input>& inputs, const RecordSource& records);

// The rules' own tests (`tests:` in the files): each failure described; empty when all pass.
// With update, expected files are rewritten from what the rules do now.
struct TestReport {
    int run = 0;
    std::vector<std::string> failures;
};
TestReport run_tests(const RuleSet& rules, bool update);

}  // namespace helsebro::mapping
