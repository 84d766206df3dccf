#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/command_table.h"

namespace standby {

// The global usage: every command with its operands and summary.
std::string UsageText();
// One command's usage and options, each with its help, default and variable.
std::string CommandHelpText(const CommandSpec& command);
// The command table as `help --json` prints it.
nlohmann::json CommandTableJson();
// Whether `word` is the first word of several commands ("snapshot", "db", ...).
bool IsCommandGroup(const std::string& word);
// Why `words` name no command, with the nearest one ("did you mean").
std::string UnknownCommandMessage(const std::vector<std::string>& words);

}  // namespace standby
