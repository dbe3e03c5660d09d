// A small argument parser: the commands take few options, each documented once in its Command.
// "--" ends the options: what follows are operands even when they start with '-'.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace helsebro::cli {

struct OptionSpec {
    std::string name;  // "--config"
    std::string value_name;  // "FILE"; empty for a flag
    std::string help;
    bool required = false;
    bool repeatable = false;  // may be given several times; its values are in Parsed::lists
};

struct Command {
    std::string name;
    std::string summary;
    std::vector<OptionSpec> options;
    std::string details;  // extra paragraphs for `helsebro COMMAND --help`
    std::string operands;  // what follows the options in the usage line, e.g. "FILE..."
};

struct Parsed {
    std::map<std::string, std::string> values;
    std::map<std::string, std::vector<std::string>> lists;  // repeatable options, in the order given
    std::vector<std::string> operands;  // arguments that are no option (only for commands with operands)
    bool help = false;
    std::string error;  // set when the arguments are wrong
    std::optional<std::string> get(const std::string& name) const;
    std::vector<std::string> get_all(const std::string& name) const;  // a repeatable option's values
};

Parsed parse_args(const Command& cmd, const std::vector<std::string>& args);
std::string command_help(const Command& cmd);

}  // namespace helsebro::cli
