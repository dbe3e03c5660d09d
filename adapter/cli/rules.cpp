#include "adapter/cli/rules.hpp"

namespace helsebro::cli {

mapping::Loaded load_mapping_rules(const config::Config& config) {
    mapping::LoadOptions options;
    options.recipients.emplace();
    options.client_ids.emplace();
    for (const auto& r : config.recipients)
        options.recipients->push_back(mapping::Recipient{r.id, r.endpoint, r.her_ids, r.organization_numbers, r.hpr_numbers});
    for (const auto& c : config.auth.clients) options.client_ids->push_back(c.id);
    if (config.auth.demo_client) options.client_ids->push_back("demo");
    return mapping::load(config.mappings.dir, options);
}

}  // namespace helsebro::cli
