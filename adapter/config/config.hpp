// Helsebro's configuration: every option is declared once (key, type, default, description) in
// config.cpp; loading refuses unknown keys and bad values with file:line:column and a hint.
// A loaded Config is immutable and shared; a reload builds a new one.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace helsebro::config {

// What intake does with a resource that breaks a rule of FHIR R4: refuse it (400 with an
// OperationOutcome), or store it anyway and log the count (for a sender being brought up to spec).
enum class Validation { reject, warn };

struct Client {
    std::string id;                                // recorded as the sender of everything it sends
    std::array<unsigned char, 32> token_sha256{};  // SHA-256 of the bearer token; never the token
    Validation validation = Validation::reject;
};

// An address-book entry: a system Helsebro sends messages to. Mapping rules find it by an
// identifier a reference carries, each of which names one recipient only, or by its id.
struct Recipient {
    std::string id;                                 // `recipient: id` in rules; in delivery logs
    std::string endpoint;                           // FHIR base URL; https unless on this machine
    std::vector<std::string> her_ids;               // HER-ids (Adresseregisteret), digits
    std::vector<std::string> organization_numbers;  // 9 digits with a valid check digit
    std::vector<std::string> hpr_numbers;           // GPs whose messages it receives, digits

    // How a message is handed over: POST [base]/$process-message (a FHIR message Bundle), POST
    // [base] (a transaction Bundle), or each resource created/updated on its own.
    enum class Style { process_message, transaction, create };
    Style style = Style::process_message;

    // The bearer token, read from `token_file` at load; empty: no Authorization header. A secret:
    // never logged, never shown, never in an error message.
    std::string token;
    std::string token_file;  // where it came from, resolved against the config file's directory

    unsigned timeout_seconds = 30;  // one whole exchange, connecting included
    unsigned max_in_flight = 4;     // requests under way at once (the client's connections)

    struct Tls {
        std::string ca_file;                  // PEM bundle to trust; empty: the system store
        std::string client_certificate_file;  // mutual TLS: both or neither
        std::string client_key_file;
        bool verify = true;  // false only for an endpoint on this machine
    } tls;

    struct Retry {
        unsigned initial_delay_seconds = 1;  // before the first retry; doubling, full jitter
        unsigned max_delay_seconds = 300;    // cap on one delay; >= initial_delay_seconds
        unsigned max_age_hours = 0;          // give up (dead letter) after this; 0: never
    } retry;
};

struct Config {
    std::string source_path;  // the file it was loaded from

    struct Http {
        std::string listen_host = "127.0.0.1";
        std::uint16_t listen_port = 8080;
        unsigned threads = 0;  // 0: one per CPU core
        std::uint64_t max_body_bytes = 10 * 1024 * 1024;
        std::uint32_t max_header_bytes = 16 * 1024;
        unsigned max_connections = 10000;
        unsigned read_timeout_seconds = 30;
        unsigned write_timeout_seconds = 30;
        unsigned idle_timeout_seconds = 60;
        unsigned shutdown_grace_seconds = 20;
        std::string public_base_url;  // empty: http://{listen}/fhir
    } http;

    struct Store {
        std::string data_dir = "data";
        unsigned group_commit_max_batch = 512;
        unsigned busy_timeout_ms = 5000;
        unsigned read_connections = 4;
        unsigned max_queued_writes = 10000;
        std::uint64_t max_queued_bytes = 256u << 20;
    } store;

    struct Fhir {
        unsigned max_json_depth = 64;
    } fhir;

    struct Mappings {
        std::string dir;  // relative to the config file; empty: no rules (nothing is mapped)
    } mappings;

    struct Auth {
        bool demo_client = false;  // create and accept a local demo client's token in data_dir
        std::vector<Client> clients;
    } auth;

    struct Admin {
        std::vector<std::string> clients;  // client ids that may use /admin (reload the rules, ...)
    } admin;

    std::vector<Recipient> recipients;  // the address book; ids unique

    struct Log {
        std::string level = "info";  // trace, debug, info, warn, error
    } log;
};

struct LoadError {
    std::string file;
    int line = 0;    // 1-based; 0 when not tied to a place in the file
    int column = 0;  // 1-based
    std::string message;
    std::string hint;               // e.g. "did you mean 'max_body_bytes'?"; may be empty
    std::string to_string() const;  // "file:line:column: message (hint)"
};

using LoadResult = std::variant<std::shared_ptr<const Config>, std::vector<LoadError>>;

LoadResult load_file(const std::string& path);
LoadResult load_string(const std::string& yaml, const std::string& name);

// The command line's --listen and --data-dir, checked as the file's values are. Either a new
// Config or a sentence saying what is wrong.
std::variant<std::shared_ptr<const Config>, std::string> with_overrides(
    const Config& base, const std::optional<std::string>& listen, const std::optional<std::string>& data_dir);

// "did you mean 'x'?" for the closest of `candidates`, or "" when none is a plausible typo; for
// other files administrators edit (the mapping rules) to hint the same way the config does.
std::string did_you_mean(std::string_view given, const std::vector<std::string>& candidates);

// Every option with type, default and description, as Markdown (for `helsebro config-reference`).
std::string reference_markdown();

}  // namespace helsebro::config
