// `helsebro queue`, `helsebro deadletters list|show|replay|discard` and `helsebro audit`: the
// delivery queue of a running daemon, through its admin API (adapter/admin/deliveries.hpp), with
// the bearer token of a client in admin.clients. Human output is tables and sentences; --json
// prints the daemon's answer as it came. Exit 0 on success, 1 when the daemon answered with an
// error (its OperationOutcome's diagnostics on stderr), 2 on a usage error, 3 when the daemon
// cannot be reached.
#pragma once

#include <string>
#include <vector>

#include "adapter/cli/args.hpp"

namespace helsebro::cli {

// For the main help's list of commands; `deadletters` stands for its four sub-commands.
extern const Command queue_command;
extern const Command deadletters_command;
extern const Command audit_command;

bool is_delivery_command(const Command& cmd);

// Runs `helsebro <cmd.name> args...`: `args` are what follows the command's name (for
// `deadletters`, the sub-command first). Handles --help and usage errors itself.
int run_delivery_command(const Command& cmd, const std::vector<std::string>& args);

}  // namespace helsebro::cli
