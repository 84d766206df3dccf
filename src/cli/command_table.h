#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace standby {

// One option of a command: the parser, `standby help CMD`, `CMD --help`, the completion
// scripts and the man page all read this, and nothing else (docs/manual.md "Commands").
struct OptionSpec {
  std::string name;     // without "--"
  std::string value;    // its value's name ("DIR"); empty for a switch
  std::string help;     // empty: the help of `setting`
  std::string setting;  // the Config setting it overrides (a switch sets it "true"), or ""
  std::vector<std::string> choices;  // its enumerated values, if any
  // What Invocation::Flag gives when the option is absent (for options without a setting;
  // a setting's default lives with the setting).
  std::string default_value = {};
};

// A command: its words, operands, one-line summary and options (its own, then those of the
// shared groups it names, then the common ones every command takes).
struct CommandSpec {
  std::string name;      // "snapshot create"
  std::string operands;  // "SNAPSHOT_ID", "[NAME]", "" for none
  std::string summary;
  std::vector<OptionSpec> options;
  // Shared option groups: "provider" (--provider, --market, --pool, --state-dir),
  // "filters" (offer filters), "ssh" (--ssh, --ssh-key, --ssh-host-id), "state"
  // (--state-dir alone).
  std::vector<std::string> groups;
  size_t max_operands = 0;
  int (*run)(const std::vector<std::string>& args) = nullptr;
  bool hidden = false;  // internal (not in help, completion or the man page)
  // The operand's enumerated values, for completion ("show", "rotate"); "@commands" for
  // the commands' names.
  std::vector<std::string> operand_choices = {};
};

// Every command, in the order help lists them.
const std::vector<CommandSpec>& Commands();
// The command named by `name` ("snapshot create"), or null.
const CommandSpec* FindCommand(std::string_view name);
// Every option `command` accepts: its own, its groups', the common ones.
std::vector<OptionSpec> OptionsOf(const CommandSpec& command);
// An option's help: its own, else its setting's, with the setting's default and variable.
std::string OptionHelp(const OptionSpec& option);

// The candidate closest to `word` (edit distance at most 2, or a prefix), or "".
std::string Closest(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace standby
