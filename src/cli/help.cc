// `standby help`, `CMD --help`, `version`, `completion` and the man page: all written from
// the command table (command_table.h).
#include "cli/help.h"

#include <cstdio>

#include "base/strings.h"
#include "base/version.h"
#include "cli/command.h"
#include "cli/command_table.h"

namespace standby {
namespace {

std::vector<const CommandSpec*> Visible() {
  std::vector<const CommandSpec*> out;
  for (const CommandSpec& c : Commands()) {
    if (!c.hidden) out.push_back(&c);
  }
  return out;
}

std::string OptionWords(const OptionSpec& o) {
  return "--" + o.name + (o.value.empty() ? "" : " " + o.value);
}

// `text` wrapped at `width` columns, every line after the first indented by `indent`.
std::string Wrap(const std::string& text, size_t indent, size_t width) {
  std::string out, line;
  for (const std::string& word : SplitString(text, ' ')) {
    if (!line.empty() && indent + line.size() + 1 + word.size() > width) {
      out += line + "\n" + std::string(indent, ' ');
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  return out + line;
}

// One line of a help listing: `head` indented in a 30-column field (alone on its line when
// longer), then `text` wrapped beside it.
std::string Row(const std::string& head, const std::string& text) {
  constexpr size_t kField = 30;
  std::string out = "  " + head;
  if (out.size() < kField) {
    out.resize(kField, ' ');
  } else {
    out += "\n" + std::string(kField, ' ');
  }
  return out + Wrap(text, kField, 96) + "\n";
}

std::string Usage(const CommandSpec& c) {
  return c.name + (c.operands.empty() ? "" : " " + c.operands);
}

}  // namespace

std::string UsageText() {
  std::string out = "usage: standby COMMAND [options]\n\n";
  for (const CommandSpec* c : Visible()) {
    out += Row(Usage(*c), c->summary);
  }
  out +=
      "\n`standby help COMMAND` or `standby COMMAND --help` lists a command's options.\n"
      "Every command takes --config FILE, --log-level LEVEL and --json. docs/manual.md\n"
      "describes every command and setting; `man standby` once installed.\n";
  return out;
}

std::string CommandHelpText(const CommandSpec& command) {
  std::string out = "usage: standby " + Usage(command) + " [options]\n\n" +
                    Wrap(command.summary, 0, 92) + "\n\noptions:\n";
  for (const OptionSpec& o : OptionsOf(command)) {
    std::string help = OptionHelp(o);
    if (!o.choices.empty()) help += " (one of " + JoinStrings(o.choices, ", ") + ")";
    out += Row(OptionWords(o), help);
  }
  return out;
}

nlohmann::json CommandTableJson() {
  nlohmann::json commands = nlohmann::json::array();
  for (const CommandSpec* c : Visible()) {
    nlohmann::json options = nlohmann::json::array();
    for (const OptionSpec& o : OptionsOf(*c)) {
      options.push_back(
          {{"name", "--" + o.name},
           {"value", o.value.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.value)},
           {"help", OptionHelp(o)},
           {"setting", o.setting.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.setting)},
           {"choices", o.choices}});
    }
    commands.push_back({{"command", c->name},
                        {"operands", c->operands},
                        {"summary", c->summary},
                        {"options", options}});
  }
  return {{"commands", commands}};
}

int RunHelp(const std::vector<std::string>& args) {
  std::vector<std::string> rest;
  bool asked_help = false;
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h") {
      asked_help = true;
    } else {
      rest.push_back(a);
    }
  }
  auto inv = Prepare("help", rest);
  if (!inv) return UsageError("help", inv.error().message, WantsJson(args));
  const bool json = inv->json;
  const std::vector<std::string>& words = inv->positional;
  if (words.empty() && asked_help && !json) {
    // `help --help`: the help command's own options.
    std::fputs(CommandHelpText(*FindCommand("help")).c_str(), stdout);
    return kExitOk;
  }
  if (words.empty()) {
    if (json) {
      PrintJson(CommandTableJson());
    } else {
      std::fputs(UsageText().c_str(), stdout);
    }
    return kExitOk;
  }
  const std::string name = JoinStrings(words, " ");
  const CommandSpec* command = FindCommand(name);
  if (!command && words.size() == 1 && IsCommandGroup(words[0])) {
    std::string out = "usage: standby " + words[0] + " SUBCOMMAND [options]\n\n";
    nlohmann::json subcommands = nlohmann::json::array();
    for (const CommandSpec* c : Visible()) {
      if (c->name.rfind(words[0] + " ", 0) == 0) {
        out += Row(Usage(*c), c->summary);
        subcommands.push_back({{"command", c->name}, {"summary", c->summary}});
      }
    }
    if (json) {
      PrintJson({{"command", words[0]}, {"subcommands", subcommands}});
    } else {
      std::fputs(out.c_str(), stdout);
    }
    return kExitOk;
  }
  if (!command || command->hidden) {
    const std::string message = UnknownCommandMessage(words);
    std::fprintf(stderr, "error: %s\n", message.c_str());
    if (json) PrintJson(ErrorJson("usage", message, false));
    return kExitUsage;
  }
  if (json) {
    const nlohmann::json table = CommandTableJson();
    for (const auto& c : table["commands"]) {
      if (c["command"] == name) PrintJson(c);
    }
  } else {
    std::fputs(CommandHelpText(*command).c_str(), stdout);
  }
  return kExitOk;
}

int RunVersion(const std::vector<std::string>& args) {
  auto inv = Prepare("version", args);
  if (!inv) return UsageError("version", inv.error().message, WantsJson(args));
  if (inv->json) {
    PrintJson({{"version", kStandbyVersion}});
  } else {
    std::printf("standby %s\n", kStandbyVersion);
  }
  return kExitOk;
}

bool IsCommandGroup(const std::string& word) {
  for (const CommandSpec* c : Visible()) {
    if (c->name.rfind(word + " ", 0) == 0) return true;
  }
  return false;
}

std::string UnknownCommandMessage(const std::vector<std::string>& words) {
  // A command group ("snapshot", "db", ...) with a wrong or missing subcommand.
  std::vector<std::string> subcommands, names;
  for (const CommandSpec* c : Visible()) {
    names.push_back(c->name.substr(0, c->name.find(' ')));
    if (!words.empty() && c->name.rfind(words[0] + " ", 0) == 0) {
      subcommands.push_back(c->name.substr(words[0].size() + 1));
    }
  }
  if (!subcommands.empty()) {
    if (words.size() < 2) {
      return "`standby " + words[0] + "` needs a subcommand: one of " +
             JoinStrings(subcommands, ", ");
    }
    std::string message = "unknown " + words[0] + " subcommand '" + words[1] + "'; one of " +
                          JoinStrings(subcommands, ", ");
    const std::string guess = Closest(words[1], subcommands);
    return guess.empty() ? message : message + " — did you mean " + guess + "?";
  }
  const std::string word = words.empty() ? "" : words[0];
  std::string message = "unknown command \"" + word + "\"";
  const std::string guess = Closest(word, names);
  return guess.empty() ? message + " (run `standby help`)"
                       : message + "; did you mean `standby " + guess + "`?";
}

}  // namespace standby
