#include "adapter/cli/args.hpp"

namespace helsebro::cli {

std::optional<std::string> Parsed::get(const std::string& name) const {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
}

std::vector<std::string> Parsed::get_all(const std::string& name) const {
    auto it = lists.find(name);
    return it == lists.end() ? std::vector<std::string>{} : it->second;
}

Parsed parse_args(const Command& cmd, const std::vector<std::string>& args) {
    Parsed p;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string arg = args[i];
        if (arg == "--help" || arg == "-h") {
            p.help = true;
            return p;
        }
        if (!cmd.operands.empty() && arg == "--") {
            p.operands.insert(p.operands.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
            break;
        }
        if (!cmd.operands.empty() && (arg == "-" || !arg.starts_with("-"))) {
            p.operands.push_back(arg);
            continue;
        }
        std::string value;
        bool inline_value = false;
        if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string::npos) {
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
            inline_value = true;
        }
        const OptionSpec* spec = nullptr;
        for (const auto& o : cmd.options)
            if (o.name == arg) spec = &o;
        if (!spec) {
            p.error = "unknown option '" + arg + "' for '" + cmd.name + "'";
            return p;
        }
        if (spec->value_name.empty()) {
            p.values[arg] = "true";
            continue;
        }
        if (!inline_value) {
            if (i + 1 >= args.size()) {
                p.error = "option '" + arg + "' needs a value (" + spec->value_name + ")";
                return p;
            }
            value = args[++i];
        }
        if (spec->repeatable) p.lists[arg].push_back(value);
        else p.values[arg] = value;
    }
    for (const auto& o : cmd.options)
        if (o.required && !p.values.count(o.name) && !p.lists.count(o.name))
            p.error = "option '" + o.name + "' is required";
    return p;
}

std::string command_help(const Command& cmd) {
    std::string out = "Usage: helsebro " + cmd.name;
    for (const auto& o : cmd.options) {
        std::string part = o.name + (o.value_name.empty() ? "" : " " + o.value_name);
        out += (o.required ? " " + part : " [" + part + "]") + (o.repeatable ? "..." : "");
    }
    if (!cmd.operands.empty()) out += " " + cmd.operands;
    out += "\n\n" + cmd.summary + "\n";
    if (!cmd.options.empty()) {
        out += "\nOptions:\n";
        for (const auto& o : cmd.options) {
            std::string left = "  " + o.name + (o.value_name.empty() ? "" : " " + o.value_name);
            if (left.size() < 28) left.resize(28, ' ');
            else left += "  ";
            out += left + o.help + "\n";
        }
        out += "  --help                    Show this help.\n";
    }
    if (!cmd.details.empty()) out += "\n" + cmd.details + "\n";
    return out;
}

}  // namespace helsebro::cli
