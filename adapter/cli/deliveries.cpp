#include "adapter/cli/deliveries.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <variant>

#include "adapter/config/config.hpp"
#include "adapter/config/url.hpp"
#include "adapter/delivery/http_client.hpp"
#include "fhir/json.hpp"

namespace helsebro::cli {
namespace {

namespace json = fhir::json;

constexpr int exit_ok = 0;
constexpr int exit_refused = 1;      // the daemon answered with an error
constexpr int exit_usage = 2;
constexpr int exit_unreachable = 3;  // no answer from the daemon

const char* const default_config = "config/helsebro.yaml";
const char* const token_variable = "HELSEBRO_TOKEN";

std::vector<OptionSpec> with_connection(std::vector<OptionSpec> own) {
    own.push_back({"--config", "FILE", "Find the daemon and the demo token by this configuration.", false});
    own.push_back({"--url", "URL", "The daemon, e.g. http://127.0.0.1:8080 (default: http.listen of --config).", false});
    own.push_back({"--token-file", "FILE", "The bearer token of a client in admin.clients (see below).", false});
    return own;
}

const OptionSpec json_option{"--json", "", "Print the daemon's JSON answer as it came.", false};

const std::vector<OptionSpec> filter_options{
    {"--recipient", "ID", "Only those to this recipient.", false},
    {"--since", "TIME", "Only those queued at or after TIME (UTC): 2026-11-25, 2026-11-25T08:00.", false},
    {"--until", "TIME", "Only those queued before TIME (UTC).", false},
    {"--status", "N", "Only those the recipient last answered with HTTP status N.", false},
    {"--message", "N", "Only those caused by received message N.", false},
};

std::vector<OptionSpec> concat(std::vector<OptionSpec> a, const std::vector<OptionSpec>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

const std::string connection_details =
    "The daemon is reached at --url, else at http.listen of --config (default: config/helsebro.yaml).\n"
    "The token is read from --token-file, else taken from the environment variable HELSEBRO_TOKEN (the\n"
    "token itself), else read from the demo client's <store.data_dir>/demo-client.token; its client\n"
    "must be listed in admin.clients.\n"
    "Exit 0 on success, 1 when the daemon answers with an error (shown on stderr), 2 on a usage error,\n"
    "3 when the daemon cannot be reached.";

const Command list_command{
    "deadletters list",
    "List dead letters, oldest first: messages a recipient refused for good, and why.",
    with_connection(concat(filter_options,
                           {{"--limit", "N", "At most N of them (1 to 1000; default 100).", false},
                            {"--after", "N", "The next page: N is what the previous page said to continue after.", false},
                            json_option})),
    "Replay them once the cause is fixed (`helsebro deadletters replay`), or discard them with a reason.\n\n" +
        connection_details,
    ""};

const Command show_command{
    "deadletters show",
    "Show one outgoing message's delivery record (dead or not) and what its recipient answered last.",
    with_connection({json_option}),
    connection_details,
    "ID"};

const Command replay_command{
    "deadletters replay",
    "Queue dead (or discarded) messages again, by ID or --all that match the filters. They are sent again at "
    "once, with the same delivery id; each replay is kept in the audit log.",
    with_connection(concat({{"--all", "", "Every dead letter that matches the filters (all of them without one).", false}},
                           concat(filter_options, {json_option}))),
    "Filters go with --all only. A message that is queued or delivered already, or unknown, is left as it\n"
    "is and said so.\n\n" +
        connection_details,
    "[ID...]"};

const Command discard_command{
    "deadletters discard",
    "Give up on messages for good, with a reason kept in the audit log: by ID (dead or still queued), or --all "
    "dead letters that match the filters.",
    with_connection(concat({{"--reason", "TEXT", "Why: kept in the audit log with the client's id.", true},
                            {"--all", "", "Every dead letter that matches the filters (all of them without one).", false}},
                           concat(filter_options, {json_option}))),
    "Filters go with --all only. A delivered message is never changed; one discarded by mistake can be\n"
    "replayed.\n\n" +
        connection_details,
    "[ID...]"};

const std::vector<const Command*> deadletters_subcommands{&list_command, &show_command, &replay_command, &discard_command};

}  // namespace

const Command queue_command{
    "queue",
    "Show the delivery queue per recipient: messages queued, the oldest one's age, dead letters, the circuit "
    "and the last error. Asks the running daemon.",
    with_connection({json_option}),
    "The circuit and the last error are what the daemon has seen since it started.\n\n" + connection_details,
    ""};

const Command deadletters_command{
    "deadletters",
    "List, show, replay or discard dead letters: messages a recipient refused for good.",
    {},
    "",
    "list|show|replay|discard"};

const Command audit_command{
    "audit",
    "Show the admin audit log, newest first: which client replayed or discarded which message, and why.",
    with_connection({{"--limit", "N", "At most N entries (1 to 1000; default 100).", false},
                     {"--before", "N", "Older entries: those before entry N.", false},
                     json_option}),
    connection_details,
    ""};

bool is_delivery_command(const Command& cmd) {
    return &cmd == &queue_command || &cmd == &deadletters_command || &cmd == &audit_command;
}

namespace {

// ---- Output helpers

// Free text from elsewhere (a recipient's answer, an operator's reason) on one line, with every
// run of exactly 11 digits blanked out: it could be a fødselsnummer or D-nummer, and human output
// never shows one.
std::string safe(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        if (text[i] >= '0' && text[i] <= '9') {
            std::size_t end = i;
            while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
            out.append(end - i == 11 ? std::string(11, '*') : std::string(text.substr(i, end - i)));
            i = end;
            continue;
        }
        out += (text[i] == '\n' || text[i] == '\r' || text[i] == '\t') ? ' ' : text[i];
        ++i;
    }
    return out;
}

std::string field(const json::Value& v, std::string_view key) {
    const json::Value* m = v.find(key);
    return m ? m->text() : std::string();
}

std::size_t display_width(std::string_view s) {
    return static_cast<std::size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// Columns two spaces apart; `right` columns right-aligned; the last column is never padded.
void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                 const std::vector<bool>& right) {
    std::vector<std::size_t> width(header.size());
    for (std::size_t c = 0; c < header.size(); ++c) width[c] = display_width(header[c]);
    for (const auto& row : rows)
        for (std::size_t c = 0; c < row.size() && c < width.size(); ++c) width[c] = std::max(width[c], display_width(row[c]));
    auto line = [&](const std::vector<std::string>& cells) {
        std::string out;
        for (std::size_t c = 0; c < cells.size(); ++c) {
            const std::string pad(width[c] - display_width(cells[c]), ' ');
            const bool last = c + 1 == cells.size();
            if (right[c]) out += pad + cells[c];
            else out += cells[c] + (last ? "" : pad);
            if (!last) out += "  ";
        }
        while (!out.empty() && out.back() == ' ') out.pop_back();  // an empty last cell
        std::cout << out << "\n";
    };
    line(header);
    for (const auto& row : rows) line(row);
}

std::string age(std::int64_t seconds) {
    if (seconds < 60) return std::to_string(seconds) + "s";
    if (seconds < 3600) return std::to_string(seconds / 60) + "m";
    auto two = [](std::int64_t n) { return (n < 10 ? "0" : "") + std::to_string(n); };
    if (seconds < 86400) return std::to_string(seconds / 3600) + "h" + two(seconds % 3600 / 60) + "m";
    return std::to_string(seconds / 86400) + "d" + two(seconds % 86400 / 3600) + "h";
}

std::string plural(std::size_t n, const std::string& one, const std::string& many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

bool whole_number(const std::string& s) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return !s.empty() && ec == std::errc() && p == s.data() + s.size() && v >= 0;
}

std::string percent_encode(std::string_view s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') out += c;
        else out += {'%', hex[u >> 4], hex[u & 15]};
    }
    return out;
}

// PATH?name=value&..., each value percent-encoded (a time zone's '+' would otherwise be a space).
std::string with_query(std::string path, const std::vector<std::pair<std::string, std::string>>& params) {
    for (std::size_t i = 0; i < params.size(); ++i)
        path += (i ? "&" : "?") + params[i].first + "=" + percent_encode(params[i].second);
    return path;
}

std::string trim(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    std::size_t start = 0;
    while (start < s.size() && std::isspace(static_cast<unsigned char>(s[start]))) ++start;
    return s.substr(start);
}

// ---- Finding the daemon and the token

struct Target {
    delivery::Endpoint endpoint;
    std::string token;
    std::string address;  // for messages
};

std::optional<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string address_of(const delivery::Endpoint& e) {
    const std::string host = e.host.find(':') != std::string::npos ? "[" + e.host + "]" : e.host;
    const bool default_port = e.port == (e.tls ? 443 : 80);
    return std::string(e.tls ? "https://" : "http://") + host + (default_port ? "" : ":" + std::to_string(e.port)) +
           e.base_path;
}

// The daemon's address and the token, or nullopt once the problem has been reported.
std::optional<Target> target_of(const std::string& who, const Parsed& p) {
    const char* env_token = std::getenv(token_variable);
    const bool have_env_token = env_token && *env_token;
    const auto url = p.get("--url");
    const auto token_file = p.get("--token-file");

    std::shared_ptr<const config::Config> config;
    if (!url || (!token_file && !have_env_token)) {
        const auto path = p.get("--config");
        if (!path && !std::filesystem::exists(default_config)) {
            config = std::make_shared<config::Config>();  // the defaults: 127.0.0.1:8080, data
        } else {
            auto loaded = config::load_file(path.value_or(default_config));
            if (auto* errors = std::get_if<std::vector<config::LoadError>>(&loaded)) {
                for (const auto& e : *errors) std::cerr << e.to_string() << "\n";
                std::cerr << who << ": cannot use the configuration " << path.value_or(default_config)
                          << "; give --url and --token-file instead\n";
                return std::nullopt;
            }
            config = std::get<std::shared_ptr<const config::Config>>(loaded);
        }
    }

    Target t;
    if (url) {
        std::string u = *url;
        while (u.ends_with('/') && !u.ends_with("//")) u.pop_back();
        auto parsed = config::detail::parse_base_url(u);
        if (const auto* problem = std::get_if<config::detail::UrlProblem>(&parsed)) {
            std::cerr << who << ": --url " << *url << " " << problem->message
                      << (problem->hint.empty() ? "" : " (" + problem->hint + ")") << "\n";
            return std::nullopt;
        }
        const auto& base = std::get<config::detail::BaseUrl>(parsed);
        t.endpoint = delivery::Endpoint{base.tls, base.host, base.port, base.path};
    } else {
        std::string host = config->http.listen_host;
        if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";  // listening everywhere: here too
        if (host == "::") host = "::1";
        if (config->http.listen_port == 0) {
            std::cerr << who << ": " << (config->source_path.empty() ? "the configuration" : config->source_path)
                      << " listens on port 0 (any free port); give the daemon's address with --url\n";
            return std::nullopt;
        }
        t.endpoint = delivery::Endpoint{false, host, config->http.listen_port, ""};
    }
    t.address = address_of(t.endpoint);

    if (token_file) {
        auto text = read_file(*token_file);
        if (!text) {
            std::cerr << who << ": cannot read --token-file " << *token_file << "\n";
            return std::nullopt;
        }
        t.token = trim(*text);
        if (t.token.empty()) {
            std::cerr << who << ": --token-file " << *token_file << " is empty\n";
            return std::nullopt;
        }
    } else if (have_env_token) {
        t.token = trim(env_token);
    } else {
        const auto demo = (std::filesystem::path(config->store.data_dir) / "demo-client.token").string();
        auto text = std::filesystem::exists(demo) ? read_file(demo) : std::nullopt;
        if (!text || trim(*text).empty()) {
            std::cerr << who << ": no token: give --token-file FILE or set " << token_variable << " (there is no "
                      << demo << " of the demo client either)\n";
            return std::nullopt;
        }
        t.token = trim(*text);
    }
    return t;
}

// ---- Talking to the daemon

struct Reply {
    int status = 0;
    std::string body;
    bool ok() const { return status >= 200 && status < 300; }
};

class AdminClient {
public:
    AdminClient(std::string who, Target target) : who_(std::move(who)), target_(std::move(target)) {}

    // The daemon's answer (of any status), or the exit status once the failure has been reported.
    std::variant<Reply, int> call(std::string_view method, const std::string& path, std::string body = {}) {
        if (!client_) {
            delivery::ClientOptions o;
            o.recipient_id = "admin-cli";
            o.max_connections = 1;
            o.timeout = std::chrono::seconds(60);  // a replay of many thousands is one transaction
            o.read_timeout = std::chrono::seconds(60);
            o.max_response_bytes = 64u << 20;
            o.default_headers = {{"Authorization", "Bearer " + target_.token}};
            try {
                client_ = std::make_unique<delivery::Client>(target_.endpoint, o);
            } catch (const std::exception& e) {
                std::cerr << who_ << ": cannot connect to " << target_.address << ": " << e.what() << "\n";
                return exit_unreachable;
            }
        }
        std::vector<http::Header> headers;
        if (!body.empty()) headers.push_back({"Content-Type", "application/json"});
        std::promise<delivery::Result> promise;
        auto answer = promise.get_future();
        client_->send(method, path, std::move(headers), std::move(body),
                      [&promise](delivery::Result r) { promise.set_value(std::move(r)); });
        delivery::Result r = answer.get();
        if (!r.ok()) {
            std::cerr << who_ << ": cannot reach the daemon at " << target_.address << ": "
                      << (r.detail.empty() ? std::string(delivery::to_string(r.failure)) : r.detail) << "\n";
            return exit_unreachable;
        }
        return Reply{r.status, std::move(r.body)};
    }

    // Reports an error answer: its OperationOutcome's diagnostics. Returns exit_refused.
    int refused(const Reply& r) const {
        std::vector<std::string> lines;
        auto parsed = json::parse(r.body);
        if (parsed.value)
            if (const json::Value* issues = parsed.value->find("issue"); issues && issues->is_array())
                for (const auto& issue : issues->items()) {
                    std::string text = field(issue, "diagnostics");
                    if (text.empty())
                        if (const json::Value* details = issue.find("details")) text = field(*details, "text");
                    if (text.empty()) text = field(issue, "code");
                    if (!text.empty()) lines.push_back(safe(text));
                }
        std::cerr << who_ << ": the daemon answered " << r.status;
        if (lines.size() == 1) std::cerr << ": " << lines.front();
        std::cerr << "\n";
        if (lines.size() > 1)
            for (const auto& l : lines) std::cerr << "  " << l << "\n";
        if (r.status == 401)
            std::cerr << "The token was not accepted: `helsebro " << who_.substr(who_.find(' ') + 1)
                      << " --help` says where it is taken from.\n";
        return exit_refused;
    }

    // A 2xx answer's JSON object, or the exit status once the problem has been reported.
    std::variant<json::Value, int> object(const Reply& r) const {
        if (!r.ok()) return refused(r);
        auto parsed = json::parse(r.body);
        if (!parsed.value || !parsed.value->is_object()) {
            std::cerr << who_ << ": the daemon's answer is no JSON object; is " << target_.address
                      << " a Helsebro daemon?\n";
            return exit_refused;
        }
        return std::move(*parsed.value);
    }

    // GET `path`: the JSON object; or, with `as_json`, the answer printed as it came (0 in the
    // variant then means done).
    std::variant<json::Value, int> get(const std::string& path, bool as_json) {
        auto reply = call("GET", path);
        if (auto* code = std::get_if<int>(&reply)) return *code;
        const auto& r = std::get<Reply>(reply);
        if (r.ok() && as_json) {
            std::cout << r.body << "\n";
            return exit_ok;
        }
        return object(r);
    }

private:
    std::string who_;
    Target target_;
    std::unique_ptr<delivery::Client> client_;
};

// ---- The commands

int queue(AdminClient& admin, bool as_json) {
    auto answer = admin.get("/admin/queue", as_json);
    if (auto* code = std::get_if<int>(&answer)) return *code;
    const json::Value& body = std::get<json::Value>(answer);
    std::vector<std::vector<std::string>> rows;
    bool unknown = false;
    if (const json::Value* list = body.find("recipients"); list && list->is_array())
        for (const auto& r : list->items()) {
            std::string name = field(r, "recipient");
            if (const json::Value* known = r.find("in_address_book"); known && !known->as_bool()) {
                name += " *";
                unknown = true;
            }
            const std::string oldest = field(r, "oldest_age_seconds");
            std::string circuit = field(r, "circuit");
            if (circuit.empty()) circuit = "-";
            if (!field(r, "paused_until").empty()) circuit += ", paused";
            std::string error = safe(field(r, "last_error"));
            if (error.empty() && !field(r, "last_status").empty()) error = "answered " + field(r, "last_status");
            rows.push_back({name, field(r, "queued"), whole_number(oldest) ? age(std::stoll(oldest)) : "-", field(r, "dead"),
                            circuit, error.empty() ? "-" : error});
        }
    if (rows.empty()) {
        std::cout << "No recipients are configured, and nothing is queued.\n";
        return exit_ok;
    }
    print_table({"RECIPIENT", "QUEUED", "OLDEST", "DEAD", "CIRCUIT", "LAST ERROR"}, rows,
                {false, true, true, true, false, false});
    if (unknown) std::cout << "* no longer in the configuration's recipients: nothing is sent to it.\n";
    return exit_ok;
}

// The filter options given, as (API name, value); usage_problem has checked them.
std::vector<std::pair<std::string, std::string>> filters_of(const Parsed& p, bool paging) {
    std::vector<std::pair<std::string, std::string>> out;
    std::vector<std::string> names{"recipient", "since", "until", "status", "message"};
    if (paging) names.insert(names.end(), {"limit", "after"});
    for (const auto& name : names)
        if (auto value = p.get("--" + name)) out.emplace_back(name, *value);
    return out;
}

int list(AdminClient& admin, const Parsed& p) {
    const auto filters = filters_of(p, true);
    const bool filtered = std::any_of(filter_options.begin(), filter_options.end(),
                                      [&](const OptionSpec& o) { return p.get(o.name).has_value(); });
    auto answer = admin.get(with_query("/admin/deadletters", filters), p.get("--json").has_value());
    if (auto* code = std::get_if<int>(&answer)) return *code;
    const json::Value& body = std::get<json::Value>(answer);
    std::vector<std::vector<std::string>> rows;
    if (const json::Value* dead = body.find("deadletters"); dead && dead->is_array())
        for (const auto& d : dead->items())
            rows.push_back({field(d, "id"), field(d, "recipient"), field(d, "message"), field(d, "created_at"),
                            field(d, "attempts"), field(d, "last_status").empty() ? "-" : field(d, "last_status"),
                            safe(field(d, "last_error"))});
    if (rows.empty()) {
        std::cout << (p.get("--after") ? "No more dead letters" : "No dead letters") << (filtered ? " match.\n" : ".\n");
        return exit_ok;
    }
    print_table({"ID", "RECIPIENT", "MESSAGE", "QUEUED AT", "ATTEMPTS", "STATUS", "LAST ERROR"}, rows,
                {false, false, true, false, true, true, false});
    std::cout << plural(rows.size(), "dead letter", "dead letters") << ".";
    if (auto next = field(body, "next_after"); !next.empty()) std::cout << " There may be more: add --after " << next << ".";
    std::cout << "\n";
    return exit_ok;
}

// The recipient's answer as lines: an OperationOutcome's issues, else the answer itself.
void print_answer(const json::Value& response) {
    if (response.is_object() && response.string_at("resourceType") == "OperationOutcome") {
        if (const json::Value* issues = response.find("issue"); issues && issues->is_array())
            for (const auto& issue : issues->items()) {
                std::string text = field(issue, "diagnostics");
                if (text.empty())
                    if (const json::Value* details = issue.find("details")) text = field(*details, "text");
                std::string where;
                if (const json::Value* e = issue.find("expression"); e && e->is_array() && !e->items().empty())
                    where = " at " + e->items().front().text();
                std::cout << "  " << field(issue, "severity") << " " << field(issue, "code") << safe(where)
                          << (text.empty() ? "" : ": " + safe(text)) << "\n";
            }
        return;
    }
    std::cout << "  " << safe(response.is_string() ? response.text() : json::write(response)) << "\n";
}

int show(AdminClient& admin, const Parsed& p) {
    auto answer = admin.get("/admin/deadletters/" + percent_encode(p.operands.front()), p.get("--json").has_value());
    if (auto* code = std::get_if<int>(&answer)) return *code;
    const json::Value& d = std::get<json::Value>(answer);
    auto line = [](const std::string& label, const std::string& value) {
        if (value.empty()) return;
        std::string left = label;
        left.resize(14, ' ');
        std::cout << left << value << "\n";
    };
    line("Message", field(d, "id"));
    line("Recipient", field(d, "recipient"));
    line("State", field(d, "state"));
    line("Caused by", field(d, "message").empty() ? "" : "received message " + field(d, "message"));
    line("Queued at", field(d, "created_at"));
    std::string attempts = field(d, "attempts");
    if (!field(d, "last_attempt_at").empty()) attempts += ", the last at " + field(d, "last_attempt_at");
    line("Attempts", attempts);
    line("Last status", field(d, "last_status"));
    line("Last error", safe(field(d, "last_error")));
    line("Finished at", field(d, "finished_at"));
    // A dead letter's reason is its last error again; a discarded one's is the operator's.
    if (field(d, "reason") != field(d, "last_error")) line("Reason", safe(field(d, "reason")));
    if (const json::Value* response = d.find("response")) {
        std::cout << "The recipient's last answer"
                  << (field(d, "last_status").empty() ? "" : " (" + field(d, "last_status") + ")") << ":\n";
        print_answer(*response);
    } else {
        std::cout << "The recipient's last answer: none kept.\n";
    }
    return exit_ok;
}

// Replay or discard: by IDs, or --all with filters.
int change(AdminClient& admin, const Parsed& p, bool replay) {
    const bool all = p.get("--all").has_value();
    const auto filters = filters_of(p, false);
    const std::string reason = replay ? std::string() : trim(*p.get("--reason"));

    json::Value request = json::Value::object();
    if (all) {
        json::Value filter = json::Value::object();
        for (const auto& [name, value] : filters)
            filter.set(name, name == "status" || name == "message" ? json::Value::number(std::to_string(std::stoll(value)))
                                                                   : json::Value::string(value));
        request.set("filter", std::move(filter));
    } else {
        json::Value ids = json::Value::array();
        for (const auto& id : p.operands) ids.push_back(json::Value::string(id));
        request.set("ids", std::move(ids));
    }
    if (!replay) request.set("reason", json::Value::string(reason));

    auto reply = admin.call("POST", replay ? "/admin/deadletters/replay" : "/admin/deadletters/discard", json::write(request));
    if (auto* code = std::get_if<int>(&reply)) return *code;
    const auto& r = std::get<Reply>(reply);
    if (r.ok() && p.get("--json")) {
        std::cout << r.body << "\n";
        return exit_ok;
    }
    auto answer = admin.object(r);
    if (auto* code = std::get_if<int>(&answer)) return *code;
    const json::Value& body = std::get<json::Value>(answer);
    auto ids_at = [&](const char* key) {
        std::vector<std::string> out;
        if (const json::Value* list = body.find(key); list && list->is_array())
            for (const auto& v : list->items()) out.push_back(v.text());
        return out;
    };
    const auto changed = ids_at(replay ? "replayed" : "discarded");
    const auto unchanged = ids_at("unchanged");
    if (changed.empty() && unchanged.empty()) {
        std::cout << "No dead letters " << (filters.empty() ? "are there" : "match") << ": nothing "
                  << (replay ? "replayed" : "discarded") << ".\n";
        return exit_ok;
    }
    constexpr std::size_t listed = 20;  // ids shown one by one; more only with --json
    if (!changed.empty()) {
        std::cout << (replay ? "Replayed " : "Discarded ") << plural(changed.size(), "message", "messages")
                  << (replay ? ": queued again, to be sent at once.\n" : ".\n");
        if (changed.size() <= listed)
            for (const auto& id : changed) std::cout << "  " << id << "\n";
    }
    if (!unchanged.empty()) {
        std::cout << "Left " << plural(unchanged.size(), "message", "messages") << " as "
                  << (unchanged.size() == 1 ? "it was" : "they were") << ":\n";
        for (std::size_t i = 0; i < unchanged.size() && i < listed; ++i) {
            // Why: what the message is now (a failure to ask changes nothing about the outcome).
            std::string why = "?";
            auto now = admin.call("GET", "/admin/deadletters/" + percent_encode(unchanged[i]));
            if (const auto* answer_now = std::get_if<Reply>(&now)) {
                if (answer_now->status == 404) why = "no outgoing message has this id";
                else if (auto parsed = json::parse(answer_now->body); answer_now->ok() && parsed.value)
                    why = "it is " + field(*parsed.value, "state");
            }
            std::cout << "  " << unchanged[i] << ": " << why << "\n";
        }
        if (unchanged.size() > listed) std::cout << "  ... and " << unchanged.size() - listed << " more (--json lists them)\n";
    }
    return exit_ok;
}

int audit(AdminClient& admin, const Parsed& p) {
    std::vector<std::pair<std::string, std::string>> query;
    for (const char* name : {"limit", "before"})
        if (auto value = p.get(std::string("--") + name)) query.emplace_back(name, *value);
    auto answer = admin.get(with_query("/admin/audit", query), p.get("--json").has_value());
    if (auto* code = std::get_if<int>(&answer)) return *code;
    const json::Value& body = std::get<json::Value>(answer);
    std::vector<std::vector<std::string>> rows;
    if (const json::Value* entries = body.find("audit"); entries && entries->is_array())
        for (const auto& e : entries->items())
            rows.push_back({field(e, "id"), field(e, "at"), field(e, "client"), field(e, "action"), field(e, "target"),
                            safe(field(e, "detail"))});
    if (rows.empty()) {
        std::cout << (p.get("--before") ? "No older entries.\n" : "The audit log is empty.\n");
        return exit_ok;
    }
    print_table({"ID", "AT", "CLIENT", "ACTION", "TARGET", "DETAIL"}, rows, {true, false, false, false, false, false});
    const std::size_t limit = p.get("--limit") ? std::clamp<std::size_t>(std::stoull(*p.get("--limit")), 1, 1000) : 100;
    if (rows.size() == limit) std::cout << "Older entries: add --before " << rows.back().front() << ".\n";
    return exit_ok;
}

// What is wrong with the arguments beyond what parse_args checks; "" when nothing. Checked before
// the daemon is looked for, so a usage error is exit 2 whatever the configuration says.
std::string usage_problem(const Command& cmd, const Parsed& p) {
    for (const char* name : {"--status", "--message", "--limit", "--after", "--before"})
        if (auto value = p.get(name); value && !whole_number(*value))
            return std::string(name) + " takes a whole number, not '" + *value + "'";
    for (const char* name : {"--recipient", "--since", "--until"})
        if (auto value = p.get(name); value && value->empty()) return std::string(name) + " must not be empty";
    if (&cmd == &show_command && (p.operands.size() != 1 || p.operands.front().empty())) return "give one message ID";
    if (&cmd == &replay_command || &cmd == &discard_command) {
        const bool all = p.get("--all").has_value();
        if (all && !p.operands.empty()) return "give message IDs or --all, not both";
        if (!all && p.operands.empty()) return "give the ID of each message, or --all (with filters)";
        if (!all)
            for (const auto& o : filter_options)
                if (p.get(o.name)) return o.name + " is a filter for --all";
        for (const auto& id : p.operands)
            if (id.empty()) return "a message ID must not be empty";
    }
    if (&cmd == &discard_command && trim(*p.get("--reason")).empty())
        return "--reason must say why (it is kept in the audit log)";
    return {};
}

std::string deadletters_help() {
    std::string out = "Usage: helsebro deadletters list|show|replay|discard [OPTIONS]\n\n" + deadletters_command.summary +
                      "\n\nSub-commands:\n";
    for (const auto* c : deadletters_subcommands) {
        std::string left = "  " + c->name.substr(c->name.find(' ') + 1);
        left.resize(12, ' ');
        auto end = c->summary.find(". ");
        out += left + (end == std::string::npos ? c->summary : c->summary.substr(0, end + 1)) + "\n";
    }
    out += "\n`helsebro deadletters SUB-COMMAND --help` explains one and its options.\n";
    return out;
}

}  // namespace

int run_delivery_command(const Command& cmd, const std::vector<std::string>& args) {
    const Command* sub = &cmd;
    std::vector<std::string> rest = args;
    if (&cmd == &deadletters_command) {
        if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
            std::cout << deadletters_help();
            return args.empty() ? exit_usage : exit_ok;
        }
        sub = nullptr;
        for (const auto* c : deadletters_subcommands)
            if (c->name == "deadletters " + args[0]) sub = c;
        if (!sub) {
            std::cerr << "helsebro deadletters: unknown sub-command '" << args[0] << "'\n\n" << deadletters_help();
            return exit_usage;
        }
        rest.erase(rest.begin());
    }
    const std::string who = "helsebro " + sub->name;
    auto parsed = parse_args(*sub, rest);
    if (parsed.help) {
        std::cout << command_help(*sub);
        return exit_ok;
    }
    if (!parsed.error.empty()) {
        std::cerr << who << ": " << parsed.error << "\n\n" << command_help(*sub);
        return exit_usage;
    }
    if (auto problem = usage_problem(*sub, parsed); !problem.empty()) {
        std::cerr << who << ": " << problem << "\n\n" << command_help(*sub);
        return exit_usage;
    }
    auto target = target_of(who, parsed);
    if (!target) return exit_usage;
    AdminClient admin(who, std::move(*target));
    if (sub == &queue_command) return queue(admin, parsed.get("--json").has_value());
    if (sub == &audit_command) return audit(admin, parsed);
    if (sub == &list_command) return list(admin, parsed);
    if (sub == &show_command) return show(admin, parsed);
    return change(admin, parsed, sub == &replay_command);
}

}  // namespace helsebro::cli
