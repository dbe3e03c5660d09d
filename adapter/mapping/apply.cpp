// Applying a rule set to one input: which rules run, whose records they change, the upserts and the
// messages. Everything is computed in memory; the caller decides what to store and send.
#include <deque>
#include <functional>
#include <map>

#include "adapter/mapping/assign.hpp"
#include "adapter/mapping/outgoing.hpp"
#include "fhir/order.hpp"
#include "fhir/validate.hpp"

namespace helsebro::mapping {
namespace {

namespace json = fhir::json;

constexpr std::string_view fnr_system = "urn:oid:2.16.578.1.12.4.1.4.1";
constexpr std::string_view dnr_system = "urn:oid:2.16.578.1.12.4.1.4.2";

// A patient's records during one application: what the store held plus what rules changed since.
// Records live in a deque so items pointing into them stay valid as more are added.
struct PatientState {
    std::deque<json::Value> records;
    bool changed = false;
};

class Application {
public:
    Application(const RuleSet& rules, const std::vector<Input>& inputs, const RecordSource& source)
        : rules_(rules), inputs_(inputs), input_(inputs.front()), source_(source) {
        outcome_.rule_set_version = rules.version;
    }

    Outcome run() {
        try {
            for (const Input& input : inputs_) {
                input_ = std::cref(input);
                for (const Rule& rule : rules_.rules)
                    if (rule.trigger != Rule::Trigger::patient_changed && triggers(rule)) run_rule(rule, *input.resource, nullptr);
            }
            input_ = std::cref(inputs_.front());
            after_changes();
        } catch (const ApplyError& e) {
            outcome_.ok = false;
            outcome_.error = where_ + e.message;
            outcome_.changes.clear();
            outcome_.messages.clear();
        }
        return std::move(outcome_);
    }

private:
    const RuleSet& rules_;
    const std::vector<Input>& inputs_;
    std::reference_wrapper<const Input> input_;  // the one being processed
    const RecordSource& source_;
    Outcome outcome_;
    std::map<PatientKey, PatientState> patients_;
    std::string where_;

    std::optional<std::pair<std::string, std::string>> input_event() const {
        const json::Value* entries = input_.get().resource->find("entry");
        if (!entries || !entries->is_array() || entries->items().empty()) return std::nullopt;
        const json::Value* header = entries->items()[0].find("resource");
        const json::Value* coding = header ? header->find("eventCoding") : nullptr;
        if (!coding) return std::nullopt;
        return std::make_pair(std::string(coding->string_at("system").value_or("")),
                              std::string(coding->string_at("code").value_or("")));
    }

    bool triggers(const Rule& rule) const {
        if (!rule.senders.empty() &&
            std::find(rule.senders.begin(), rule.senders.end(), input_.get().sender) == rule.senders.end())
            return false;
        if (rule.trigger == Rule::Trigger::event) {
            if (input_.get().kind != Input::Kind::message) return false;
            auto ev = input_event();
            return ev && ev->first == rule.event_system && ev->second == rule.event_code;
        }
        return input_.get().kind == Input::Kind::resource &&
               input_.get().resource->string_at("resourceType") == rule.resource_type;
    }

    PatientState& state(const PatientKey& key) {
        auto it = patients_.find(key);
        if (it != patients_.end()) return it->second;
        PatientState& s = patients_[key];
        for (auto& r : source_(key)) s.records.push_back(std::move(r));
        return s;
    }

    // The national identifier of whatever `patient:` gave: a Patient, a Reference or an Identifier.
    static std::optional<PatientKey> key_of(const fp::Item& item) {
        const fp::Node* n = item.node();
        if (!n || !n->value) return std::nullopt;
        std::vector<const json::Value*> identifiers;
        if (n->type == "Identifier") identifiers.push_back(n->value);
        if (const json::Value* id = n->value->find("identifier")) {
            if (id->is_array()) for (const auto& x : id->items()) identifiers.push_back(&x);
            else identifiers.push_back(id);
        }
        for (auto system : {fnr_system, dnr_system})
            for (const json::Value* id : identifiers)
                if (id->string_at("system") == system && id->string_at("value"))
                    return PatientKey{std::string(system), std::string(*id->string_at("value"))};
        return std::nullopt;
    }

    fp::Environment environment(const json::Value& input, const fp::Collection& records) const {
        fp::Environment env;
        env.resource = &input;
        env.root_resource = &input;
        const auto now = input_.get().now;
        env.clock = [now] { return now; };
        env.variables.emplace_back("input", fp::Collection{fp::Item::resource(input)});
        env.variables.emplace_back("sender", fp::Collection{fp::Item(input_.get().sender)});
        env.variables.emplace_back("now", fp::Collection{fp::Item(fp::Temporal::from_time_point(now))});
        env.variables.emplace_back("records", records);
        if (input_.get().kind == Input::Kind::resource)
            env.variables.emplace_back("bundle", input_.get().bundle ? fp::Collection{fp::Item::resource(*input_.get().bundle)} : fp::Collection{});
        for (const auto& s : rules_.settings) env.variables.emplace_back(s.name, s.value);
        return env;
    }

    static fp::Collection evaluate(const fp::Expression& e, const json::Value& on, const fp::Environment& env,
                                   const char* what) {
        auto r = e.evaluate(on, env);
        if (!r.items) throw ApplyError{std::string(what) + " '" + e.text() + "' failed: " + r.error.message};
        return std::move(*r.items);
    }

    void run_rule(const Rule& rule, const json::Value& input, const PatientKey* fixed_patient) {
        where_ = "rule '" + rule.name + "' (" + rule.origin.file + ":" + std::to_string(rule.origin.line) + "): ";
        std::deque<json::Value> scratch;  // values made for this rule, pointed at by variables
        fp::Collection records;
        fp::Environment env = environment(input, records);
        if (rule.condition) {
            auto c = evaluate(*rule.condition, input, env, "'if'");
            if (c.size() != 1 || !std::holds_alternative<bool>(c[0].system_value().value_or(fp::Item(false)).value()) ||
                !std::get<bool>(c[0].system_value()->value()))
                return;
        }
        std::optional<PatientKey> key;
        if (fixed_patient) key = *fixed_patient;
        if (rule.patient) {
            auto p = evaluate(*rule.patient, input, env, "'patient'");
            if (p.empty()) throw ApplyError{"'patient' found no patient in the input"};
            key = key_of(p.front());
            if (!key) throw ApplyError{"the patient has no fødselsnummer or D-nummer to link records by"};
            env.variables.emplace_back("patient", fp::Collection{p.front()});
        }
        PatientState* patient = key ? &state(*key) : nullptr;
        if (patient) bind_patient(*key, *patient, env, scratch, fixed_patient != nullptr);
        for (const auto& [name, expr] : rule.let) env.variables.emplace_back(name, evaluate(expr, input, env, "'let'"));
        if (rule.keep) keep(rule, *key, *patient, input, env);
        for (std::size_t i = 0; i < rule.upserts.size(); ++i)
            upsert(rule, i, *key, *patient, input, env);
        for (std::size_t i = 0; i < rule.sends.size(); ++i) send(rule, i, input, env, key ? *key : PatientKey{});
        outcome_.rules_applied.push_back(rule.name);
        where_.clear();
    }

    void bind_patient(const PatientKey& key, PatientState& patient, fp::Environment& env, std::deque<json::Value>& scratch,
                      bool bind_patient_record) {
        json::Value& identifier = scratch.emplace_back(json::Value::object());
        identifier.set("system", json::Value::string(key.system));
        identifier.set("value", json::Value::string(key.value));
        json::Value& reference = scratch.emplace_back(json::Value::object());
        reference.set("type", json::Value::string("Patient"));
        reference.set("identifier", identifier);
        env.variables.emplace_back("patient_identifier", fp::Collection{fp::Item(fp::Node{&identifier, nullptr, "Identifier", "Identifier"})});
        env.variables.emplace_back("patient_reference", fp::Collection{fp::Item(fp::Node{&reference, nullptr, "Reference", "Reference"})});
        fp::Collection all;
        const json::Value* patient_record = nullptr;
        for (const auto& r : patient.records) {
            all.push_back(fp::Item::resource(r));
            if (r.string_at("resourceType") == "Patient") patient_record = &r;
        }
        for (auto& [name, value] : env.variables)
            if (name == "records") value = std::move(all);
        if (bind_patient_record)
            env.variables.emplace_back("patient", patient_record ? fp::Collection{fp::Item::resource(*patient_record)} : fp::Collection{});
    }

    json::Value* find_match(const Upsert& u, PatientState& patient, const fp::Environment& env) {
        json::Value* found = nullptr;
        for (auto& record : patient.records) {
            if (record.string_at("resourceType") != u.resource) continue;
            fp::Environment on_record = env;
            on_record.resource = &record;
            on_record.root_resource = &record;
            auto m = evaluate(*u.match, record, on_record, "'match'");
            if (m.size() != 1 || !std::holds_alternative<bool>(m[0].system_value().value_or(fp::Item(false)).value()) ||
                !std::get<bool>(m[0].system_value()->value()))
                continue;
            if (found) throw ApplyError{"'match' finds more than one " + u.resource + " of the patient; it must tell them apart"};
            found = &record;
        }
        return found;
    }

    void upsert(const Rule& rule, std::size_t index, const PatientKey& key, PatientState& patient, const json::Value& input,
                fp::Environment& env) {
        const Upsert& u = rule.upserts[index];
        json::Value* existing = find_match(u, patient, env);
        if (u.when) {
            auto w = evaluate(*u.when, input, env, "'when'");
            if (w.size() != 1 || !std::get_if<bool>(&w[0].value()) || !std::get<bool>(w[0].value())) {
                // Skipped, but `as` still names the record the upsert would have touched, if any.
                if (!u.as.empty())
                    env.variables.emplace_back(u.as, existing ? fp::Collection{fp::Item::resource(*existing)} : fp::Collection{});
                return;
            }
        }
        json::Value record = existing ? *existing : json::Value::object();
        if (!existing) {
            record.set("resourceType", json::Value::string(u.resource));
            record.set("id", json::Value::string(derived_id(input_.get().message_id, rule.name, index, key.value)));
            for (const auto& a : u.create) assign(record, a, Mode::set, input, env);
        }
        for (const auto& a : u.set) assign(record, a, Mode::set, input, env);
        for (const auto& a : u.append) assign(record, a, Mode::append, input, env);
        fhir::order_by_definition(record);
        const bool changed = !existing || !same(record, *existing);
        json::Value* current = existing;
        if (changed) {
            check_valid(record);
            current = existing ? existing : &patient.records.emplace_back();
            *current = record;
            patient.changed = true;
            Change change{rule.name, existing == nullptr, key, std::move(record), {}};
            change.provenance = provenance(change, rules_.version, input_);
            outcome_.changes.push_back(std::move(change));
        }
        if (!u.as.empty()) env.variables.emplace_back(u.as, fp::Collection{fp::Item::resource(*current)});
    }

    // A received resource held as the patient's data: known by the sender's id for it (or its first
    // identifier), so a resend updates the same record; references to parties with a Norwegian
    // identifier are rewritten to it, since the sender's ids mean nothing here.
    void keep(const Rule& rule, const PatientKey& key, PatientState& patient, const json::Value& input, const fp::Environment& env) {
        // Every kept resource's record id first: references between kept resources (a Condition's
        // encounter) become references between their records.
        std::vector<std::pair<const json::Value*, std::string>> kept;
        for (const auto& item : evaluate(*rule.keep, input, env, "'keep'")) {
            const fp::Node* n = item.node();
            if (!n || !n->value || !n->value->find("resourceType")) throw ApplyError{"'keep' must give resources"};
            const std::string type(n->type);
            std::string source = std::string(n->value->string_at("id").value_or(""));
            if (source.empty())
                if (const json::Value* ids = n->value->find("identifier"); ids && ids->is_array() && !ids->items().empty())
                    source = std::string(ids->items()[0].string_at("system").value_or("")) + "|" +
                             std::string(ids->items()[0].string_at("value").value_or(""));
            if (source.empty()) source = json::write(*n->value);
            // The patient is part of the name: two patients' resources with the same text (or id)
            // from one sender must never become one record.
            kept.emplace_back(n->value, derived_id("keep", input_.get().sender, 0, key.system + "|" + key.value + "/" + type + "/" + source));
        }
        for (const auto& [resource, id] : kept) {
            const std::string type(resource->string_at("resourceType").value_or(""));
            json::Value record = *resource;
            record.set("id", json::Value::string(id));
            record.erase("meta");
            rewrite_references(record, input, kept);
            fhir::order_by_definition(record);
            json::Value* existing = nullptr;
            for (auto& r : patient.records)
                if (r.string_at("resourceType") == type && r.string_at("id") == record.string_at("id")) existing = &r;
            if (existing && same(*existing, record)) continue;
            check_valid(record);
            json::Value* current = existing ? existing : &patient.records.emplace_back();
            *current = record;
            patient.changed = true;
            Change change{rule.name, existing == nullptr, key, std::move(record), {}};
            change.provenance = provenance(change, rules_.version, input_.get());
            outcome_.changes.push_back(std::move(change));
        }
    }

    // A reference into the received Bundle means nothing once the Bundle is gone. It becomes a
    // reference by the target's identifier (the way the shared records name patients, GPs and
    // organisations), else one to the target's own record when it is kept too, else the target's
    // type and the display alone: never a dangling urn:uuid.
    static void rewrite_references(json::Value& v, const json::Value& input,
                                   const std::vector<std::pair<const json::Value*, std::string>>& kept) {
        if (v.is_array()) {
            for (auto& x : v.items()) rewrite_references(x, input, kept);
            return;
        }
        if (!v.is_object()) return;
        if (auto ref = v.string_at("reference")) {
            if (const json::Value* target = in_bundle(*ref, input)) {
                const auto display = v.string_at("display");
                json::Value out = json::Value::object();
                try {
                    out = reference_to(*target);
                } catch (const ApplyError&) {
                }
                if (!out.find("identifier")) {
                    out = json::Value::object();
                    const std::string type(target->string_at("resourceType").value_or(""));
                    auto record = std::find_if(kept.begin(), kept.end(), [&](const auto& k) { return k.first == target; });
                    if (record != kept.end()) out.set("reference", json::Value::string(type + "/" + record->second));
                    else if (!type.empty()) out.set("type", json::Value::string(type));
                }
                if (display) out.set("display", json::Value::string(std::string(*display)));
                v = std::move(out);
                return;
            }
        }
        for (auto& [k, member] : v.members()) rewrite_references(member, input, kept);
    }

    // Rules must not write what intake would refuse.
    static void check_valid(const json::Value& record) {
        for (const auto& issue : fhir::validate(record)) {
            if (issue.severity != fhir::Severity::error && issue.severity != fhir::Severity::fatal) continue;
            throw ApplyError{"the " + std::string(record.string_at("resourceType").value_or("")) +
                             " it makes is invalid" + (issue.expression.empty() ? std::string() : " at " + issue.expression.front()) + ": " + issue.diagnostics};
        }
    }

    void send(const Rule& rule, std::size_t index, const json::Value& input, const fp::Environment& env, const PatientKey& patient) {
        const Send& s = rule.sends[index];
        std::vector<const Recipient*> to;
        if (!s.recipient.empty()) {
            for (const auto& r : rules_.recipients)
                if (r.id == s.recipient) to.push_back(&r);
        } else {
            for (const auto& item : evaluate(*s.to, input, env, "'to'")) {
                const Recipient* r = find_recipient(item, rules_.recipients, input);
                if (!r) throw ApplyError{"'to' names a party that is not in the address book (config recipients)"};
                if (std::find(to.begin(), to.end(), r) == to.end()) to.push_back(r);
            }
            if (to.empty()) throw ApplyError{"'to' found no recipient"};
        }
        auto event = input_event();
        const std::string system = s.event_system.empty() && event ? event->first : s.event_system;
        const std::string code = s.event_code.empty() && event ? event->second : s.event_code;
        fp::Collection focus = s.focus ? evaluate(*s.focus, input, env, "'focus'") : fp::Collection{};
        fp::Collection include = s.include ? evaluate(*s.include, input, env, "'include'") : fp::Collection{};
        for (const Recipient* r : to) {
            MessageSpec spec{input_.get().message_id, rule.name, index, *r, system, code, input_.get().now};
            outcome_.messages.push_back(Outgoing{rule.name, r->id, patient, message_bundle(spec, focus, include, input)});
        }
    }

    void after_changes() {
        std::vector<PatientKey> changed;
        for (const auto& [key, s] : patients_)
            if (s.changed) changed.push_back(key);
        for (const auto& key : changed) {
            json::Value collection = json::Value::object();
            collection.set("resourceType", json::Value::string("Bundle"));
            collection.set("type", json::Value::string("collection"));
            json::Value entries = json::Value::array();
            for (const auto& r : patients_[key].records) {
                json::Value e = json::Value::object();
                e.set("resource", r);
                entries.push_back(std::move(e));
            }
            collection.set("entry", std::move(entries));
            for (const Rule& rule : rules_.rules) {
                if (rule.trigger != Rule::Trigger::patient_changed) continue;
                if (!rule.senders.empty() &&
                    std::find(rule.senders.begin(), rule.senders.end(), input_.get().sender) == rule.senders.end())
                    continue;
                run_rule(rule, collection, &key);
            }
        }
    }
};

}  // namespace

std::vector<Input> inputs_of(const json::Value& request, const Input& base) {
    std::vector<Input> out;
    const auto type = request.string_at("type");
    const bool bundle = request.string_at("resourceType") == "Bundle";
    if (bundle && type == "message") {
        Input in = base;
        in.kind = Input::Kind::message;
        in.resource = &request;
        out.push_back(in);
        return out;
    }
    if (bundle && (type == "transaction" || type == "batch")) {
        if (const json::Value* entries = request.find("entry"); entries && entries->is_array())
            for (const auto& e : entries->items())
                if (const json::Value* r = e.find("resource")) {
                    Input in = base;
                    in.kind = Input::Kind::resource;
                    in.resource = r;
                    in.bundle = &request;
                    out.push_back(in);
                }
        return out;
    }
    Input in = base;
    in.kind = Input::Kind::resource;
    in.resource = &request;
    out.push_back(in);
    return out;
}

Outcome apply(const RuleSet& rules, const Input& input, const RecordSource& records) {
    return apply(rules, std::vector<Input>{input}, records);
}

Outcome apply(const RuleSet& rules, const std::vector<Input>& inputs, const RecordSource& records) {
    if (inputs.empty()) {
        Outcome nothing;
        nothing.rule_set_version = rules.version;
        return nothing;
    }
    return Application(rules, inputs, records).run();
}

}  // namespace helsebro::mapping
