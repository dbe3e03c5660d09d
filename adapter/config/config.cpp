// Entry points: read the file, parse the YAML, walk it against the option table, and hand back
// either an immutable Config or every error found.
#include "adapter/config/config.hpp"

#include <algorithm>

#include <filesystem>
#include <optional>

#include <yaml-cpp/yaml.h>

#include "adapter/config/diagnostics.hpp"
#include "adapter/config/files.hpp"
#include "adapter/config/listen.hpp"
#include "adapter/config/options.hpp"
#include "adapter/config/walk.hpp"

namespace helsebro::config {

namespace {

// A config is a few KiB; anything near this is the wrong file.
constexpr std::size_t max_config_bytes = 4 * 1024 * 1024;

// Null when the text holds no document (empty or only comments): that means all defaults.
std::optional<YAML::Node> parse(const std::string& yaml, detail::Diagnostics& diagnostics) {
    try {
        const std::vector<YAML::Node> documents = YAML::LoadAll(yaml);
        if (documents.size() > 1) {
            diagnostics.error(documents[1].Mark(), "the config must be one YAML document",
                              "remove the '---' and everything after it, or merge the documents");
            return std::nullopt;
        }
        return documents.empty() ? YAML::Node() : documents.front();
    } catch (const YAML::ParserException& e) {
        diagnostics.error(e.mark, "YAML syntax error: " + e.msg);
    } catch (const YAML::Exception& e) {  // e.g. nesting too deep for yaml-cpp
        diagnostics.error(e.mark, "cannot parse the YAML: " + e.msg);
    }
    return std::nullopt;
}

}  // namespace

std::string LoadError::to_string() const {
    std::string out = file;
    if (line > 0) out += ":" + std::to_string(line);
    if (line > 0 && column > 0) out += ":" + std::to_string(column);
    if (!out.empty()) out += ": ";
    out += message;
    if (!hint.empty()) out += " (" + hint + ")";
    return out;
}

LoadResult load_file(const std::string& path) {
    const detail::FileText content = detail::read_small_file(path, max_config_bytes);
    if (content.error) {
        return std::vector{
            LoadError{path, 0, 0, "cannot read the config file: " + content.error.message(), ""}};
    }
    if (content.too_large) {
        return std::vector{LoadError{path, 0, 0, "the config file is larger than 4 MiB",
                                     "is this the right file?"}};
    }
    return load_string(content.text, path);
}

// An administrator that is no client can never log in: a typo, reported where it was made.
void check_admins(const YAML::Node& root, const Config& config, detail::Diagnostics& diagnostics) {
    const YAML::Node list = root.IsMap() && root["admin"] && root["admin"].IsMap() ? root["admin"]["clients"] : YAML::Node();
    if (!list || !list.IsSequence()) return;
    std::vector<std::string> ids;
    for (const auto& c : config.auth.clients) ids.push_back(c.id);
    if (config.auth.demo_client) ids.push_back("demo");
    for (const auto& item : list) {
        if (!item.IsScalar() || std::find(ids.begin(), ids.end(), item.Scalar()) != ids.end()) continue;
        diagnostics.error(item.Mark(), "'admin.clients' names '" + item.Scalar() + "', which is no client",
                          did_you_mean(item.Scalar(), ids));
    }
}

LoadResult load_string(const std::string& yaml, const std::string& name) {
    detail::Diagnostics diagnostics(name);
    const auto root = parse(yaml, diagnostics);
    if (!root) return diagnostics.take();

    auto config = std::make_shared<Config>();
    config->source_path = name;
    detail::ReadContext context{diagnostics, std::filesystem::path(name).parent_path()};
    try {
        detail::walk(*root, detail::options(), *config, context);
    } catch (const YAML::Exception& e) {
        // yaml-cpp throws on some misuse of odd nodes; a config error must never crash start-up.
        diagnostics.error(e.mark, "cannot read the config: " + e.msg);
    }
    check_admins(*root, *config, diagnostics);
    // The rules belong with the config that names them (/etc/helsebro/helsebro.yaml and
    // /etc/helsebro/mappings), wherever the daemon is started from.
    if (std::filesystem::path dir(config->mappings.dir); !dir.empty() && dir.is_relative())
        config->mappings.dir = (context.base_dir / dir).lexically_normal().string();
    if (!diagnostics.ok()) return diagnostics.take();
    return std::shared_ptr<const Config>(std::move(config));
}

std::variant<std::shared_ptr<const Config>, std::string> with_overrides(
    const Config& base, const std::optional<std::string>& listen, const std::optional<std::string>& data_dir) {
    auto config = std::make_shared<Config>(base);
    if (listen) {
        auto parsed = detail::parse_listen(*listen);
        if (auto* problem = std::get_if<detail::ListenProblem>(&parsed)) {
            std::string msg = "--listen " + *listen + ": " + problem->message;
            if (!problem->hint.empty()) msg += " (" + problem->hint + ")";
            return msg;
        }
        config->http.listen_host = std::get<detail::HostPort>(parsed).host;
        config->http.listen_port = std::get<detail::HostPort>(parsed).port;
    }
    if (data_dir) {
        if (data_dir->empty()) return std::string("--data-dir must not be empty");
        config->store.data_dir = *data_dir;
    }
    return std::shared_ptr<const Config>(std::move(config));
}

}  // namespace helsebro::config
