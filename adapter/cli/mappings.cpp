#include "adapter/cli/mappings.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "adapter/cli/rules.hpp"
#include "adapter/config/config.hpp"
#include "adapter/mapping/mapping.hpp"
#include "fhir/json.hpp"
#include "fhir/xml.hpp"

namespace helsebro::cli {
namespace {

namespace json = fhir::json;

std::shared_ptr<const config::Config> load_config(const std::string& path) {
    auto result = config::load_file(path);
    if (auto* errors = std::get_if<std::vector<config::LoadError>>(&result)) {
        for (const auto& e : *errors) std::cerr << e.to_string() << "\n";
        return nullptr;
    }
    return std::get<std::shared_ptr<const config::Config>>(result);
}

std::shared_ptr<const mapping::RuleSet> report(const std::string& dir, mapping::Loaded loaded) {
    for (const auto& e : loaded.errors) std::cerr << e.to_string() << "\n";
    if (!loaded.rules)
        std::cerr << loaded.errors.size() << " problem" << (loaded.errors.size() == 1 ? "" : "s") << " in the rules of " << dir << "\n";
    return loaded.rules;
}

std::optional<json::Value> read_resource(const std::string& path) {
    std::string error;
    auto value = mapping::read_resource_file(path, error);
    if (!value) std::cerr << "helsebro map: " << error << "\n";
    return value;
}

}  // namespace

int test_mappings(const std::optional<std::string>& config_file, const std::optional<std::string>& dir, bool update) {
    std::shared_ptr<const config::Config> config;
    if (config_file && !(config = load_config(*config_file))) return 2;
    std::string rules_dir;
    mapping::Loaded loaded;
    if (config) {
        config::Config copy = *config;
        if (dir) copy.mappings.dir = *dir;
        rules_dir = copy.mappings.dir;
        loaded = load_mapping_rules(copy);
    } else {
        // No config: no address book or clients to check `recipient:` and `sender:` against.
        rules_dir = dir.value_or("mappings");
        loaded = mapping::load(rules_dir, {});
    }
    auto rules = report(rules_dir, std::move(loaded));
    if (!rules) return 2;
    const auto report = mapping::run_tests(*rules, update);
    for (const auto& f : report.failures) std::cerr << "FAIL " << f << "\n";
    if (update) {
        std::cout << "Wrote the expected outcome of " << report.run << " test" << (report.run == 1 ? "" : "s") << ".\n";
        return report.failures.empty() ? 0 : 1;
    }
    std::cout << (report.run - static_cast<int>(report.failures.size())) << " of " << report.run << " mapping tests passed (rule set "
              << mapping::version(*rules) << ").\n";
    return report.failures.empty() ? 0 : 1;
}

int dry_run(const std::string& config_file, const std::string& input_file, const std::optional<std::string>& sender,
            const std::optional<std::string>& records_file) {
    auto config = load_config(config_file);
    if (!config) return 2;
    auto rules = report(config->mappings.dir, load_mapping_rules(*config));
    if (!rules) return 2;
    auto input = read_resource(input_file);
    if (!input) return 2;
    std::vector<json::Value> held;
    if (records_file) {
        auto records = read_resource(*records_file);
        if (!records) return 2;
        if (const json::Value* entries = records->find("entry"); entries && entries->is_array())
            for (const auto& e : entries->items())
                if (const json::Value* r = e.find("resource")) held.push_back(*r);
    }
    mapping::Input base;
    base.sender = sender.value_or("dry-run");
    base.message_id = "dry-run:" + std::filesystem::path(input_file).filename().string();
    base.now = std::chrono::system_clock::now();
    const auto outcome = mapping::apply(*rules, mapping::inputs_of(*input, base), [&](const mapping::PatientKey&) { return held; });
    std::cout << json::write(outcome.to_json()) << "\n";
    return outcome.ok ? 0 : 1;
}

}  // namespace helsebro::cli
