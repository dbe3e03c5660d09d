// Loading mappings/*.yaml: YAML structure, unknown keys, FHIRPath syntax and types, element paths
// against the FHIR definitions, recipients and senders — every problem reported with file:line:column,
// all of them in one round.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "adapter/auth/auth.hpp"
#include "adapter/config/config.hpp"
#include "adapter/mapping/paths.hpp"
#include "adapter/mapping/rules.hpp"

namespace helsebro::mapping {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> file_keys{"settings", "rules", "tests", "test_recipients"};
const std::vector<std::string> recipient_keys{"id", "endpoint", "her_ids", "organization_numbers", "hpr_numbers"};
const std::vector<std::string> rule_keys{"rule", "description", "when", "patient", "let", "keep", "upsert", "send"};
const std::vector<std::string> when_keys{"event", "resource", "patient_changed", "sender", "if"};
const std::vector<std::string> upsert_keys{"resource", "as", "match", "when", "create", "set", "append"};
const std::vector<std::string> send_keys{"to", "recipient", "event", "focus", "include"};
const std::vector<std::string> test_keys{"name", "input", "records", "expect", "sender"};

// Names expressions may use besides the rule's own: see mappings/README.md.
const std::vector<std::string> reserved{"input", "sender", "patient", "patient_identifier", "patient_reference",
                                        "records", "now", "bundle", "item", "resource", "context", "rootResource"};

class Loader {
public:
    Loader(const LoadOptions& options, RuleSet& out) : options_(options), out_(out) {}

    std::vector<LoadError> errors;

    void file(const fs::path& path, const std::string& text) {
        file_ = path.filename().string();
        dir_ = path.parent_path();
        YAML::Node root;
        try {
            root = YAML::Load(text);
        } catch (const YAML::Exception& e) {
            error(e.mark, "this is no valid YAML: " + e.msg);
            return;
        }
        if (root.IsNull()) return;
        if (!root.IsMap()) return error(root.Mark(), "a rule file is a map with settings, rules and tests");
        // yaml-cpp throws on some odd shapes (a key asked of a scalar, a value of the wrong kind);
        // a rule file must never take the daemon down on reload, so that too is a load error.
        try {
            contents(root);
        } catch (const YAML::Exception& e) {
            error(e.mark, "this part of the file has an unexpected shape: " + e.msg);
        }
    }

private:
    void contents(const YAML::Node& root) {
        check_keys(root, file_keys, "");
        if (auto s = root["settings"]) settings(s);
        if (auto r = root["rules"]) {
            if (!r.IsSequence()) return error(r.Mark(), "'rules' is a list of rules", "start each rule with '- rule: name'");
            for (const auto& rule_node : r) rule(rule_node);
        }
        if (auto t = root["tests"]) tests(t);
        if (auto r = root["test_recipients"]) test_recipients(r);
    }

    const LoadOptions& options_;
    RuleSet& out_;
    std::string file_;
    fs::path dir_;
    std::set<std::string> rule_names_;

    void error(const YAML::Mark& at, std::string message, std::string hint = {}) {
        errors.push_back(LoadError{file_, at.line < 0 ? 0 : at.line + 1, at.column < 0 ? 0 : at.column + 1,
                                   std::move(message), std::move(hint)});
    }

    Origin origin(const YAML::Node& n) const { return Origin{file_, n.Mark().line + 1}; }

    void check_keys(const YAML::Node& map, const std::vector<std::string>& allowed, const std::string& where) {
        for (const auto& kv : map) {
            const std::string key = kv.first.as<std::string>("");
            if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
            error(kv.first.Mark(), "unknown key '" + key + "'" + (where.empty() ? "" : " in " + where),
                  config::did_you_mean(key, allowed));
        }
    }

    std::optional<std::string> scalar(const YAML::Node& n, const std::string& what) {
        if (!n.IsScalar()) {
            error(n.Mark(), what + " must be a single value");
            return std::nullopt;
        }
        return n.Scalar();
    }

    // A FHIRPath error inside a YAML scalar, placed at its line and column in the file.
    void expression_error(const YAML::Node& n, const fp::Error& e) {
        YAML::Mark at = n.Mark();
        const bool quoted = n.Tag() == "!";
        if (e.line > 1) {
            at.line += static_cast<int>(e.line) - 1;
            at.column = static_cast<int>(e.column) - 1;
        } else if (e.line == 1) {
            at.column += static_cast<int>(e.column) - 1 + (quoted ? 1 : 0);
        }
        error(at, "FHIRPath " + std::string(fp::to_string(e.kind)) + " error: " + e.message);
    }

    std::optional<fp::Expression> expression(const YAML::Node& n, const std::string& what, std::string_view context,
                                             const Scope& scope) {
        auto text = scalar(n, what);
        if (!text) return std::nullopt;
        fp::CompileOptions options;
        options.context_type = context;
        options.variables = scope.variables;
        options.declare_variables = true;
        auto compiled = fp::compile(*text, options);
        if (!compiled.expression) {
            expression_error(n, compiled.error);
            return std::nullopt;
        }
        return std::move(compiled.expression);
    }

    void settings(const YAML::Node& s) {
        if (!s.IsMap()) return error(s.Mark(), "'settings' maps names to FHIRPath expressions, e.g. 'home_visit_within: 3 days'");
        for (const auto& kv : s) {
            const std::string name = kv.first.as<std::string>("");
            if (!valid_name(kv.first, name)) continue;
            if (std::any_of(out_.settings.begin(), out_.settings.end(), [&](const Setting& x) { return x.name == name; }))
                error(kv.first.Mark(), "the setting '" + name + "' is defined twice in the rule set");
            Scope empty;
            auto e = expression(kv.second, "a setting", {}, empty);
            if (!e) continue;
            auto r = e->evaluate(fhir::json::Value::object());
            if (!r.items) {
                error(kv.second.Mark(), "the setting cannot be evaluated: " + r.error.message);
                continue;
            }
            for (const auto& item : *r.items) {
                if (item.node()) {
                    error(kv.second.Mark(), "a setting must be a constant such as 5, 'text' or 3 days");
                    break;
                }
            }
            out_.settings.push_back(Setting{name, std::move(*r.items)});
        }
    }

    bool valid_name(const YAML::Node& at, const std::string& name) {
        const bool ok = !name.empty() && (std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_') &&
                        std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
        if (!ok) error(at.Mark(), "'" + name + "' is no valid name", "use letters, digits and _, e.g. home_visit_within");
        if (ok && std::find(reserved.begin(), reserved.end(), name) != reserved.end()) {
            error(at.Mark(), "'" + name + "' is a name Helsebro defines itself", "pick another name");
            return false;
        }
        return ok;
    }

    std::optional<std::pair<std::string, std::string>> event(const YAML::Node& n) {
        auto text = scalar(n, "an event");
        if (!text) return std::nullopt;
        const auto bar = text->find('|');
        if (bar == std::string::npos || bar == 0 || bar + 1 == text->size()) {
            error(n.Mark(), "an event is written system|code",
                  "e.g. urn:oid:2.16.578.1.12.4.1.1.8279|UTSKRIVNINGSRAPPORT");
            return std::nullopt;
        }
        return std::make_pair(text->substr(0, bar), text->substr(bar + 1));
    }

    Scope base_scope(const Rule& rule) const {
        Scope scope;
        const std::string input_type = rule.trigger == Rule::Trigger::resource ? rule.resource_type : "Bundle";
        scope.context = input_type;
        scope.add("input", input_type);
        scope.add("sender", "System.String");
        scope.add("now", "System.DateTime");
        scope.add("records", "");
        if (rule.trigger == Rule::Trigger::resource) scope.add("bundle", "Bundle");
        for (const auto& s : out_.settings)
            scope.add(s.name, s.value.size() == 1 ? "System." + std::string(s.value.front().type_name()) : "");
        return scope;
    }

    void when(const YAML::Node& w, Rule& rule) {
        if (!w || !w.IsMap()) return error(w ? w.Mark() : YAML::Mark(), "rule '" + rule.name + "' needs 'when' with event, resource or patient_changed");
        check_keys(w, when_keys, "'when'");
        const int triggers = (w["event"] ? 1 : 0) + (w["resource"] ? 1 : 0) + (w["patient_changed"] ? 1 : 0);
        if (triggers != 1) error(w.Mark(), "'when' needs exactly one of event, resource and patient_changed");
        if (auto e = w["event"]) {
            rule.trigger = Rule::Trigger::event;
            if (auto ev = event(e)) std::tie(rule.event_system, rule.event_code) = *ev;
        } else if (auto r = w["resource"]) {
            rule.trigger = Rule::Trigger::resource;
            if (auto t = scalar(r, "'resource'")) {
                rule.resource_type = *t;
                if (!is_resource_type(*t)) error(r.Mark(), "'" + *t + "' is no FHIR R4 resource type", resource_hint(*t));
            }
        } else if (w["patient_changed"]) {
            rule.trigger = Rule::Trigger::patient_changed;
        }
        if (auto s = w["sender"]) senders(s, rule);
    }

    void senders(const YAML::Node& s, Rule& rule) {
        auto add = [&](const YAML::Node& n) {
            auto id = scalar(n, "a sender");
            if (!id) return;
            const auto& known = options_.client_ids;
            if (known && std::find(known->begin(), known->end(), *id) == known->end())
                error(n.Mark(), "no client '" + *id + "' in the config's auth.clients", config::did_you_mean(*id, *known));
            rule.senders.push_back(*id);
        };
        if (s.IsSequence()) {
            for (const auto& n : s) add(n);
        } else {
            add(s);
        }
    }

    void rule(const YAML::Node& n) {
        if (!n.IsMap() || !n["rule"]) return error(n.Mark(), "a rule starts with 'rule: name'");
        Rule rule;
        rule.origin = origin(n);
        rule.name = n["rule"].as<std::string>("");
        if (!rule_names_.insert(rule.name).second) error(n["rule"].Mark(), "the rule '" + rule.name + "' is defined twice");
        check_keys(n, rule_keys, "rule '" + rule.name + "'");
        if (auto d = n["description"]) rule.description = d.as<std::string>("");
        when(n["when"], rule);
        Scope scope = base_scope(rule);
        if (auto w = n["when"]; w && w.IsMap() && w["if"]) rule.condition = expression(w["if"], "'if'", scope.context, scope);
        if (auto p = n["patient"]) {
            rule.patient = expression(p, "'patient'", scope.context, scope);
            const auto& types = rule.patient ? rule.patient->result_types() : std::vector<std::string>{};
            scope.add("patient", types.size() == 1 ? types.front() : "");
        } else if (rule.trigger == Rule::Trigger::patient_changed) {
            scope.add("patient", "Patient");
        }
        if (scope.has("patient")) {
            scope.add("patient_identifier", "Identifier");
            scope.add("patient_reference", "Reference");
        }
        if (auto l = n["let"]) let(l, rule, scope);
        if (auto k = n["keep"]) rule.keep = expression(k, "'keep'", scope.context, scope);
        if (auto u = n["upsert"]) upserts(u, rule, scope);
        if (auto s = n["send"]) sends(s, rule, scope);
        if ((!rule.upserts.empty() || rule.keep) && !rule.patient && rule.trigger != Rule::Trigger::patient_changed)
            error(n.Mark(), "rule '" + rule.name + "' changes records, so it needs 'patient:' to say whose",
                  "e.g. patient: Bundle.entry.resource.ofType(Patient).first()");
        out_.rules.push_back(std::move(rule));
    }

    void let(const YAML::Node& l, Rule& rule, Scope& scope) {
        if (!l.IsMap()) return error(l.Mark(), "'let' maps names to FHIRPath expressions");
        for (const auto& kv : l) {
            const std::string name = kv.first.as<std::string>("");
            if (!valid_name(kv.first, name)) continue;
            if (scope.has(name)) error(kv.first.Mark(), "'" + name + "' is already defined");
            auto e = expression(kv.second, "a 'let' value", scope.context, scope);
            const auto types = e ? e->result_types() : std::vector<std::string>{};
            scope.add(name, types.size() == 1 ? types.front() : "");
            if (e) rule.let.emplace_back(name, std::move(*e));
        }
    }

    void upserts(const YAML::Node& list, Rule& rule, Scope& scope) {
        if (!list.IsSequence()) return error(list.Mark(), "'upsert' is a list", "start each with '- resource: CarePlan'");
        for (const auto& n : list) {
            if (!n.IsMap() || !n["resource"]) {
                error(n.Mark(), "an upsert starts with 'resource: Type'");
                continue;
            }
            check_keys(n, upsert_keys, "an upsert");
            Upsert u;
            u.origin = origin(n);
            u.resource = n["resource"].as<std::string>("");
            if (!is_resource_type(u.resource)) {
                error(n["resource"].Mark(), "'" + u.resource + "' is no FHIR R4 resource type", resource_hint(u.resource));
                continue;
            }
            if (auto m = n["match"]) u.match = expression(m, "'match'", u.resource, scope);
            else error(n.Mark(), "an upsert needs 'match' to find the patient's existing record",
                       "e.g. match: category.coding.where(code = 'oppfolging').exists()");
            if (auto w = n["when"]) u.when = expression(w, "'when'", scope.context, scope);
            assignments(n["create"], u.resource, u.create, scope, false);
            assignments(n["set"], u.resource, u.set, scope, false);
            assignments(n["append"], u.resource, u.append, scope, true);
            if (auto a = n["as"]) {
                u.as = a.as<std::string>("");
                if (valid_name(a, u.as)) {
                    if (scope.has(u.as)) error(a.Mark(), "'" + u.as + "' is already defined");
                    scope.add(u.as, u.resource);
                }
            }
            rule.upserts.push_back(std::move(u));
        }
    }

    void assignments(const YAML::Node& map, const std::string& type, std::vector<Assignment>& out, const Scope& scope,
                     bool append) {
        if (!map) return;
        if (!map.IsMap()) return error(map.Mark(), "element paths map to values, e.g. 'status: \"'active'\"'");
        for (const auto& kv : map) {
            Assignment a;
            a.origin = origin(kv.first);
            const std::string key = kv.first.as<std::string>("");
            auto resolved = resolve_path(type, key);
            if (!resolved.error.empty()) {
                error(kv.first.Mark(), resolved.error, resolved.hint);
                continue;
            }
            if (append && !resolved.repeats) {
                error(kv.first.Mark(), "'" + key + "' does not repeat, so it cannot be appended to", "use 'set' instead");
                continue;
            }
            const std::string parent = resolved.parent;
            a.path = std::move(resolved);
            if (auto v = value(kv.second, parent, scope)) {
                a.value = std::move(*v);
                out.push_back(std::move(a));
            }
        }
    }

    // A value for an element whose children are defined at `parent` (a type or element path).
    std::optional<Value> value(const YAML::Node& n, const std::string& parent, const Scope& scope) {
        Value v;
        if (n.IsSequence()) {
            v.kind = Value::Kind::list;
            for (const auto& item : n)
                if (auto x = value(item, parent, scope)) v.items.push_back(std::move(*x));
            return v;
        }
        if (n.IsMap()) {
            v.kind = Value::Kind::object;
            // for_each: one element per item the expression gives, its parts seeing it as %item.
            Scope inner = scope;
            if (auto each = n["for_each"]) {
                if (scope.has("item")) error(each.Mark(), "for_each inside for_each: the inner %item would hide the outer one");
                v.for_each = expression(each, "'for_each'", scope.context, scope);
                const auto types = v.for_each ? v.for_each->result_types() : std::vector<std::string>{};
                inner.add("item", types.size() == 1 ? types.front() : "");
            }
            // identify_by: what makes an appended element the same one again (an activity's
            // reference, a participant's member), so a changed one replaces it instead of piling up.
            if (auto id = n["identify_by"]) {
                Scope on_element = inner;
                v.identify_by = expression(id, "'identify_by'", parent, on_element);
            }
            for (const auto& kv : n) {
                const std::string key = kv.first.as<std::string>("");
                if (key == "for_each" || key == "identify_by") continue;
                auto resolved = resolve_path(parent, key);
                if (!resolved.error.empty()) {
                    error(kv.first.Mark(), resolved.error, resolved.hint);
                    continue;
                }
                if (auto x = value(kv.second, resolved.parent, inner)) v.parts.push_back(Part{std::move(resolved), std::move(*x)});
            }
            return v;
        }
        if (!n.IsScalar()) {
            error(n.Mark(), "a value is an expression, a map of parts or a list");
            return std::nullopt;
        }
        // Unquoted numbers and booleans are literals; everything else is FHIRPath.
        const std::string& text = n.Scalar();
        if (n.Tag() != "!" && (text == "true" || text == "false")) {
            v.kind = Value::Kind::literal;
            v.literal = fhir::json::Value::boolean(text == "true");
            return v;
        }
        if (n.Tag() != "!" && fhir::json::is_number_text(text)) {
            v.kind = Value::Kind::literal;
            v.literal = fhir::json::Value::number(text);
            return v;
        }
        auto e = expression(n, "a value", scope.context, scope);
        if (!e) return std::nullopt;
        v.expression = std::move(*e);
        return v;
    }

    void sends(const YAML::Node& list, Rule& rule, const Scope& scope) {
        if (!list.IsSequence()) return error(list.Mark(), "'send' is a list", "start each with '- to: ...'");
        for (const auto& n : list) {
            if (!n.IsMap()) {
                error(n.Mark(), "a send entry is a map with 'to' or 'recipient'");
                continue;
            }
            check_keys(n, send_keys, "a send entry");
            Send s;
            s.origin = origin(n);
            if (static_cast<bool>(n["to"]) == static_cast<bool>(n["recipient"]))
                error(n.Mark(), "a send entry needs exactly one of 'to' and 'recipient'");
            if (auto t = n["to"]) s.to = expression(t, "'to'", scope.context, scope);
            if (auto r = n["recipient"]) {
                s.recipient = r.as<std::string>("");
                std::vector<std::string> ids;
                if (options_.recipients)
                    for (const auto& x : *options_.recipients) ids.push_back(x.id);
                if (options_.recipients && std::find(ids.begin(), ids.end(), s.recipient) == ids.end())
                    error(r.Mark(), "no recipient '" + s.recipient + "' in the config's recipients", config::did_you_mean(s.recipient, ids));
            }
            if (auto e = n["event"]) {
                if (auto ev = event(e)) std::tie(s.event_system, s.event_code) = *ev;
            } else if (rule.trigger != Rule::Trigger::event) {
                error(n.Mark(), "a message needs an event: this rule is not triggered by one, so give 'event: system|code'");
            }
            if (auto f = n["focus"]) s.focus = expression(f, "'focus'", scope.context, scope);
            if (auto i = n["include"]) s.include = expression(i, "'include'", scope.context, scope);
            rule.sends.push_back(std::move(s));
        }
    }

    void tests(const YAML::Node& list) {
        if (!list.IsSequence()) return error(list.Mark(), "'tests' is a list", "start each with '- input: tests/...json'");
        for (const auto& n : list) {
            if (!n.IsMap() || !n["input"] || !n["expect"]) {
                error(n.Mark(), "a test needs 'input' and 'expect'");
                continue;
            }
            check_keys(n, test_keys, "a test");
            Test t;
            t.origin = origin(n);
            t.name = n["name"] ? n["name"].as<std::string>("") : n["input"].as<std::string>("");
            t.input = file_path(n["input"], true);
            t.expect = file_path(n["expect"], false);
            if (auto r = n["records"]) t.records = file_path(r, true);
            if (auto s = n["sender"]) t.sender = s.as<std::string>("");
            out_.tests.push_back(std::move(t));
        }
    }

    // An address book for the tests alone, shaped like the config's recipients.
    void test_recipients(const YAML::Node& list) {
        if (!list.IsSequence()) return error(list.Mark(), "'test_recipients' is a list like the config's recipients");
        for (const auto& n : list) {
            if (!n.IsMap() || !n["id"]) {
                error(n.Mark(), "a test recipient needs an 'id'");
                continue;
            }
            check_keys(n, recipient_keys, "a test recipient");
            Recipient r;
            r.id = n["id"].as<std::string>("");
            r.endpoint = n["endpoint"] ? n["endpoint"].as<std::string>("") : "";
            auto strings = [&](const char* key, std::vector<std::string>& out) {
                const YAML::Node v = n[key];
                if (!v) return;
                if (!v.IsSequence()) return error(v.Mark(), std::string("'") + key + "' is a list");
                for (const auto& x : v) out.push_back(x.as<std::string>(""));
            };
            strings("her_ids", r.her_ids);
            strings("organization_numbers", r.organization_numbers);
            strings("hpr_numbers", r.hpr_numbers);
            out_.test_recipients.push_back(std::move(r));
        }
    }

    std::string file_path(const YAML::Node& n, bool must_exist) {
        const fs::path p = dir_ / n.as<std::string>("");
        if (must_exist && !fs::exists(p)) error(n.Mark(), "no such file: " + n.as<std::string>(""));
        return p.string();
    }
};

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

std::string LoadError::to_string() const {
    std::string out = file;
    if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
    out += ": " + message;
    if (!hint.empty()) out += " (" + hint + ")";
    return out;
}

Loaded load(const std::string& dir, const LoadOptions& options) {
    Loaded loaded;
    auto rules = std::make_shared<RuleSet>();
    rules->recipients = options.recipients.value_or(std::vector<Recipient>{});
    std::vector<fs::path> paths;
    std::error_code ec;
    if (dir.empty()) {  // no rules configured: an empty rule set, which maps nothing
        rules->version = auth::to_hex(auth::sha256("")).substr(0, 12);
        loaded.rules = std::move(rules);
        return loaded;
    }
    for (const auto& entry : fs::directory_iterator(dir, ec))
        if (entry.is_regular_file() && entry.path().extension() == ".yaml") paths.push_back(entry.path());
    if (ec) {
        loaded.errors.push_back(LoadError{dir, 0, 0, "cannot read the mappings directory: " + ec.message(), {}});
        return loaded;
    }
    std::sort(paths.begin(), paths.end());
    Loader loader(options, *rules);
    std::string digest_input;
    for (const auto& p : paths) {
        const std::string text = read_file(p);
        digest_input += p.filename().string() + '\0' + text + '\0';
        rules->files.push_back(p.string());
        loader.file(p, text);
    }
    if (!loader.errors.empty()) {
        loaded.errors = std::move(loader.errors);
        return loaded;
    }
    rules->version = auth::to_hex(auth::sha256(digest_input)).substr(0, 12);
    loaded.rules = std::move(rules);
    return loaded;
}

const std::string& version(const RuleSet& rules) { return rules.version; }
std::vector<std::string> files(const RuleSet& rules) { return rules.files; }

}  // namespace helsebro::mapping
