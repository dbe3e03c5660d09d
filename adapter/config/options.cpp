// THE option table. Every option Helsebro reads is declared here exactly once: key, type and
// range, and a one-line description. Defaults come from the default member initialisers in
// config.hpp. Loading (walk.cpp) and `helsebro config-reference` (reference.cpp) both read this
// table, so adding an option here is all it takes to make it loadable and documented.
#include "adapter/config/options.hpp"

#include <optional>

#include "adapter/config/clients.hpp"
#include "adapter/config/entries.hpp"
#include "adapter/config/listen.hpp"
#include "adapter/config/recipients.hpp"
#include "adapter/config/values.hpp"

namespace helsebro::config::detail {

namespace {

constexpr std::uint64_t KiB = 1024;
constexpr std::uint64_t MiB = 1024 * KiB;
constexpr std::uint64_t GiB = 1024 * MiB;
// Long enough for a slow peer or a slow disk, short enough that a stuck one is noticed.
constexpr std::uint64_t max_timeout_seconds = 3600;
constexpr std::uint64_t max_busy_timeout_ms = 10 * 60 * 1000;

std::optional<std::string> check_public_base_url(const std::string& url) {
    if (url.empty()) return std::nullopt;  // derived from http.listen
    if (!url.starts_with("http://") && !url.starts_with("https://")) {
        return "must start with http:// or https://";
    }
    // Resource URLs are built as base + "/" + type, so a trailing slash would double up.
    if (url.ends_with('/')) return "must not end with '/'";
    return std::nullopt;
}

std::optional<std::string> check_not_empty(const std::string& text) {
    if (text.empty()) return "must not be empty";
    return std::nullopt;
}

// admin.clients: the ids of clients that may call the admin API. Whether each names a configured
// client is checked once the whole file is read (serve and check-config).
Option admin_clients_option() {
    Option o;
    o.key = "admin.clients";
    o.type = "list of client ids";
    o.description = "Clients (auth.clients ids, or demo) that may use the admin API at /admin: reload the "
                    "mapping rules, see the processing state.";
    o.read = [](const YAML::Node& value, Config& config, ReadContext& context) {
        if (!value.IsSequence()) {
            context.diagnostics.error(value.Mark(), "'admin.clients' must be a list of client ids", "e.g. [ops-console]");
            return;
        }
        for (const auto& item : value) {
            if (!item.IsScalar() || !valid_id(item.Scalar())) {
                context.diagnostics.error(item.Mark(), "'admin.clients' holds client ids: 1 to 64 of A-Z a-z 0-9 . _ -");
                continue;
            }
            config.admin.clients.push_back(item.Scalar());
        }
    };
    o.show = [](const Config& config) {
        std::string out = "[";
        for (const auto& c : config.admin.clients) out += (out.size() > 1 ? ", " : "") + c;
        return out + "]";
    };
    return o;
}

std::vector<Option> declare() {
    using C = Config;
    using H = Config::Http;
    using S = Config::Store;
    return {
        listen_option("http.listen",
                      "Address and port to accept FHIR requests on; [::1]:8080 for IPv6, port 0 "
                      "for any free port."),
        unsigned_option("http.threads", &C::http, &H::threads, 0, 256,
                        "Threads serving HTTP; 0 means one per CPU core."),
        // The ceiling stays well below SQLite's largest value (1e9 bytes), which stores bodies whole.
        unsigned_option("http.max_body_bytes", &C::http, &H::max_body_bytes, 1 * KiB, 256 * MiB,
                        "Largest request body accepted; larger requests get 413."),
        unsigned_option("http.max_connections", &C::http, &H::max_connections, 1, 1000000,
                        "Most connections open at once; more are closed at once, so a flood "
                        "cannot exhaust file descriptors or memory."),
        unsigned_option("http.max_header_bytes", &C::http, &H::max_header_bytes, 1 * KiB, 1 * MiB,
                        "Largest request line plus headers accepted; larger requests get 431."),
        unsigned_option("http.read_timeout_seconds", &C::http, &H::read_timeout_seconds, 1,
                        max_timeout_seconds, "Time allowed to receive one whole request."),
        unsigned_option("http.write_timeout_seconds", &C::http, &H::write_timeout_seconds, 1,
                        max_timeout_seconds, "Time allowed to send one whole response."),
        unsigned_option("http.idle_timeout_seconds", &C::http, &H::idle_timeout_seconds, 1,
                        max_timeout_seconds, "How long an idle keep-alive connection stays open."),
        unsigned_option("http.shutdown_grace_seconds", &C::http, &H::shutdown_grace_seconds, 1,
                        max_timeout_seconds,
                        "On SIGTERM, how long in-flight requests may finish before being cut."),
        string_option("http.public_base_url", "string (URL)", &C::http, &H::public_base_url,
                      check_public_base_url,
                      "FHIR base URL as clients see it (behind a proxy); empty means "
                      "http://{listen}/fhir. No trailing '/'."),
        string_option("store.data_dir", "string (path)", &C::store, &S::data_dir, check_not_empty,
                      "Directory for the database and queue; relative paths are relative to the "
                      "working directory."),
        unsigned_option("store.group_commit_max_batch", &C::store, &S::group_commit_max_batch, 1,
                        100000, "Most writes committed together in one transaction."),
        unsigned_option("store.busy_timeout_ms", &C::store, &S::busy_timeout_ms, 1,
                        max_busy_timeout_ms, "How long to wait for a locked database."),
        unsigned_option("store.max_queued_writes", &C::store, &S::max_queued_writes, 1, 1000000,
                        "Most writes waiting for a commit; beyond this requests get 503 with "
                        "Retry-After instead of growing memory."),
        unsigned_option("store.max_queued_bytes", &C::store, &S::max_queued_bytes, 1 * MiB, 64 * GiB,
                        "Most request data waiting for a commit; beyond this requests get 503 with "
                        "Retry-After."),
        unsigned_option("store.read_connections", &C::store, &S::read_connections, 1, 64,
                        "Database connections kept for reads (writes use one of their own)."),
        unsigned_option("fhir.max_json_depth", &C::fhir, &Config::Fhir::max_json_depth, 8, 1000,
                        "Deepest JSON nesting accepted in a resource; guards against stack "
                        "exhaustion."),
        string_option("mappings.dir", "string (path)", &C::mappings, &Config::Mappings::dir,
                      check_not_empty,
                      "Directory of the mapping rules (*.yaml); a relative path is relative to this "
                      "config file's directory. Unset: no rules, so accepted data is stored but not mapped."),
        bool_option("auth.demo_client", &C::auth, &Config::Auth::demo_client,
                    "Create a local demo client with its token in data_dir; for trying Helsebro "
                    "out, never production."),
        clients_option("auth.clients",
                       "Clients allowed to send, each an id with the SHA-256 of its bearer token "
                       "(inline or in a file), and validation: reject (default) or warn."),
        admin_clients_option(),
        recipients_option("recipients",
                          "The address book: systems messages are sent to, each an id, a FHIR base "
                          "URL (https; http only to this machine) and the HER-ids, organisation "
                          "numbers and HPR numbers (GPs) by which rules find it; each identifier "
                          "under one recipient only."),
        enum_option("log.level", &C::log, &Config::Log::level,
                    {"trace", "debug", "info", "warn", "error"},
                    "Least severe log messages written."),
    };
}

}  // namespace

const std::vector<Option>& options() {
    static const std::vector<Option> table = declare();
    return table;
}

}  // namespace helsebro::config::detail
