#include "adapter/cli/cli.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>
#include <iterator>

#include "adapter/auth/auth.hpp"
#include "adapter/cli/args.hpp"
#include "adapter/cli/convert.hpp"
#include "adapter/cli/deliveries.hpp"
#include "adapter/cli/fhirpath.hpp"
#include "adapter/cli/mappings.hpp"
#include "adapter/cli/rules.hpp"
#include "adapter/cli/serve.hpp"
#include "adapter/cli/validate.hpp"
#include "adapter/config/config.hpp"

namespace helsebro::cli {

namespace {

const Command serve_cmd{
    "serve",
    "Run the daemon: the FHIR API at /fhir, stored durably in the data directory.",
    {{"--config", "FILE", "The YAML configuration (see config/helsebro.yaml).", true},
     {"--listen", "HOST:PORT", "Listen here instead of http.listen (port 0: any free port).", false},
     {"--data-dir", "DIR", "Keep data here instead of store.data_dir.", false}},
    "SIGTERM or SIGINT stops it gracefully: no new connections, requests in flight finish, the store\n"
    "closes cleanly. Under systemd (Type=notify) it reports READY=1 once it listens.", ""};

const Command check_cmd{"check-config",
                        "Load a configuration the way `serve` does and report every problem, without "
                        "starting anything. Exit 0 when it is valid, 1 otherwise.",
                        {{"--config", "FILE", "The YAML configuration to check.", true}},
                        {}, ""};

const Command reference_cmd{"config-reference", "Print every configuration option with its type, default and meaning.",
                            {}, {}, ""};

const Command hash_cmd{"hash-token",
                       "Read a client's bearer token from standard input and print its SHA-256, the form in "
                       "which auth.clients[].token_sha256 keeps it.",
                       {},
                       "Example: head -c 32 /dev/urandom | base64 | tr -d '\\n=' | tee token.txt | helsebro hash-token", ""};

const Command validate_cmd{"validate",
                           "Validate FHIR R4 JSON files and print an OperationOutcome for each (a collection "
                           "Bundle of them for several files). Exit 0 when all are valid, 1 when one is not, 2 "
                           "when a file cannot be read.",
                           {},
                           "Checks what intake checks: elements, types, cardinality, formats, required bindings,\n"
                           "references and Bundle rules. FHIRPath invariants are not evaluated yet.",
                           "FILE..."};

const Command convert_cmd{"convert",
                          "Convert a FHIR R4 resource between JSON and XML and print it. The input's format is "
                          "told from its first character; - reads standard input.",
                          {{"--to", "xml|json", "The format to write.", true}},
                          "Exit 0 on success, 1 when the input is no FHIR (the reason on stderr), 2 when it cannot\n"
                          "be read.",
                          "FILE|-"};

const Command fhirpath_cmd{
    "fhirpath",
    "Evaluate a FHIRPath expression on a FHIR R4 resource and print the result as JSON. The result is an "
    "array of {\"type\", \"value\"}; the expression is checked against the resource's type.",
    {{"--input", "FILE", "The resource, JSON or XML (told from its first character); - reads standard input.", true},
     {"--var", "NAME=EXPRESSION", "Set %NAME to what EXPRESSION gives on the input (it sees the --var before it).",
      false, true}},
    "A --var value is an expression, so a string needs FHIRPath quotes:\n"
    "  helsebro fhirpath --input bundle.json --var patient='Bundle.entry.resource.ofType(Patient)' \\\n"
    "      --var system=\"'urn:oid:2.16.578.1.12.4.1.4.1'\" '%patient.identifier.where(system = %system).value'\n"
    "trace() writes to standard error. An expression that starts with '-' goes after --.\n"
    "Exit 0 on success, 1 when the input cannot be read or is no FHIR, 2 when an expression is wrong\n"
    "(its position is shown), 3 when evaluating it fails.",
    "EXPRESSION"};

const Command test_mappings_cmd{
    "test-mappings",
    "Load the mapping rules and run the tests they carry (mappings/README.md). Exit 0 when all pass, 1 when "
    "one fails, 2 when the rules do not load.",
    {{"--config", "FILE", "Take recipients, clients and mappings.dir from this configuration.", false},
     {"--update", "", "Write each test's expected outcome from what the rules do now (review the diff!).", false}},
    "Without DIR, the rules of --config's mappings.dir, else ./mappings.",
    "[DIR]"};

const Command map_cmd{
    "map",
    "Apply the configured mapping rules to a resource or message and print, as JSON, the records they would "
    "write and the messages they would send. Nothing is stored or sent.",
    {{"--config", "FILE", "The configuration (rules from its mappings.dir, recipients, clients).", true},
     {"--dry-run", "INPUT", "The input: a message Bundle or a resource, JSON or XML.", true},
     {"--sender", "ID", "Apply the rules as if this client had sent it (default: dry-run).", false},
     {"--records", "FILE", "A collection Bundle of what Helsebro holds for the patient before.", false}},
    "Exit 0 when the rules applied, 1 when they failed on this input, 2 when something could not be loaded.", ""};

const Command version_cmd{"version", "Print the version.", {}, {}, ""};

const std::vector<const Command*> commands{&serve_cmd,     &check_cmd,          &validate_cmd,  &convert_cmd,
                                           &fhirpath_cmd,  &test_mappings_cmd,  &map_cmd,       &queue_command,
                                           &deadletters_command, &audit_command, &reference_cmd, &hash_cmd,
                                           &version_cmd};

std::string main_help() {
    std::string out =
        "Helsebro " HELSEBRO_VERSION " - FHIR R4 integration for shared care plans and handovers.\n\n"
        "Usage: helsebro COMMAND [OPTIONS]\n\nCommands:\n";
    for (const auto* c : commands) {
        std::string left = "  " + c->name;
        left.resize(20, ' ');
        auto end = c->summary.find(". ");
        out += left + (end == std::string::npos ? c->summary : c->summary.substr(0, end + 1)) + "\n";
    }
    out += "\n`helsebro COMMAND --help` explains a command and its options.\n";
    return out;
}

void setup_logging(const std::string& level) {
    auto logger = spdlog::stderr_color_mt("helsebro");
    spdlog::set_default_logger(logger);
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ [%n] %v");
    spdlog::set_level(spdlog::level::from_str(level));
    for (const char* name : {"http", "store", "ingress", "auth", "processing", "admin"}) spdlog::register_logger(logger->clone(name));
}

std::shared_ptr<const config::Config> load_or_report(const std::string& path) {
    auto result = config::load_file(path);
    if (auto* errors = std::get_if<std::vector<config::LoadError>>(&result)) {
        for (const auto& e : *errors) std::cerr << e.to_string() << "\n";
        std::cerr << errors->size() << " problem" << (errors->size() == 1 ? "" : "s") << " in " << path << "\n";
        return nullptr;
    }
    return std::get<std::shared_ptr<const config::Config>>(result);
}

int run_serve(const Parsed& p) {
    auto config = load_or_report(*p.get("--config"));
    if (!config) return 1;
    auto overridden = config::with_overrides(*config, p.get("--listen"), p.get("--data-dir"));
    if (auto* error = std::get_if<std::string>(&overridden)) {
        std::cerr << "helsebro serve: " << *error << "\n";
        return 2;
    }
    config = std::get<std::shared_ptr<const config::Config>>(overridden);
    setup_logging(config->log.level);
    return serve(config);
}

int run_check(const Parsed& p) {
    auto config = load_or_report(*p.get("--config"));
    if (!config) return 1;
    // The rules are part of what `serve` loads: a config whose rules do not load is not valid.
    auto rules = load_mapping_rules(*config);
    if (!rules.rules) {
        for (const auto& e : rules.errors) std::cerr << e.to_string() << "\n";
        std::cerr << rules.errors.size() << " problem" << (rules.errors.size() == 1 ? "" : "s") << " in the mapping rules of "
                  << config->mappings.dir << "\n";
        return 1;
    }
    std::cout << *p.get("--config") << " is valid; mapping rule set " << mapping::version(*rules.rules) << " from "
              << config->mappings.dir << ".\n";
    return 0;
}

int run_hash() {
    std::string token(std::istreambuf_iterator<char>(std::cin), {});
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
    if (token.empty()) {
        std::cerr << "helsebro hash-token: no token on standard input\n";
        return 2;
    }
    std::cout << auth::to_hex(auth::sha256(token)) << "\n";
    return 0;
}

}  // namespace

int run(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        std::cout << main_help();
        return args.empty() ? 2 : 0;
    }
    if (args[0] == "--version") args[0] = "version";
    const Command* cmd = nullptr;
    for (const auto* c : commands)
        if (c->name == args[0]) cmd = c;
    if (!cmd) {
        std::cerr << "helsebro: unknown command '" << args[0] << "'\n\n" << main_help();
        return 2;
    }
    if (is_delivery_command(*cmd)) return run_delivery_command(*cmd, {args.begin() + 1, args.end()});
    if (cmd == &validate_cmd) {
        std::vector<std::string> files(args.begin() + 1, args.end());
        if (files.empty() || files.front() == "--help" || files.front() == "-h") {
            std::cout << command_help(*cmd);
            return files.empty() ? 2 : 0;
        }
        return validate_files(files);
    }
    auto parsed = parse_args(*cmd, {args.begin() + 1, args.end()});
    if (parsed.help) {
        std::cout << command_help(*cmd);
        return 0;
    }
    if (!parsed.error.empty()) {
        std::cerr << "helsebro " << cmd->name << ": " << parsed.error << "\n\n" << command_help(*cmd);
        return 2;
    }
    if (cmd == &serve_cmd) return run_serve(parsed);
    if (cmd == &check_cmd) return run_check(parsed);
    if (cmd == &reference_cmd) {
        std::cout << config::reference_markdown();
        return 0;
    }
    if (cmd == &hash_cmd) return run_hash();
    if (cmd == &convert_cmd) {
        auto to = *parsed.get("--to");
        if ((to != "xml" && to != "json") || parsed.operands.size() != 1) {
            std::cerr << "helsebro convert: give --to xml or --to json and one FILE (or -)\n\n" << command_help(*cmd);
            return 2;
        }
        return convert(to, parsed.operands.front());
    }
    if (cmd == &fhirpath_cmd) {
        if (parsed.operands.size() != 1) {
            std::cerr << "helsebro fhirpath: give one EXPRESSION (quote it for the shell)\n\n" << command_help(*cmd);
            return 2;
        }
        return evaluate_fhirpath(*parsed.get("--input"), parsed.get_all("--var"), parsed.operands.front());
    }
    if (cmd == &test_mappings_cmd) {
        if (parsed.operands.size() > 1) {
            std::cerr << "helsebro test-mappings: give at most one DIR\n\n" << command_help(*cmd);
            return 2;
        }
        return test_mappings(parsed.get("--config"),
                             parsed.operands.empty() ? std::nullopt : std::optional<std::string>(parsed.operands.front()),
                             parsed.values.count("--update") > 0);
    }
    if (cmd == &map_cmd) return dry_run(*parsed.get("--config"), *parsed.get("--dry-run"), parsed.get("--sender"), parsed.get("--records"));
    std::cout << "helsebro " HELSEBRO_VERSION "\n";
    return 0;
}

}  // namespace helsebro::cli
