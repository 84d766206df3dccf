#include "cli/command.h"

#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>

#include "base/json_fields.h"
#include "base/log.h"
#include "cli/command_table.h"
#include "cli/interrupt.h"
#include "snapshot/repository.h"
#include "store/store_config.h"

namespace standby {

std::optional<std::string> Invocation::Flag(const std::string& flag) const {
  if (auto it = flags.find(flag); it != flags.end()) return it->second;
  if (auto it = defaults.find(flag); it != defaults.end()) return it->second;
  return std::nullopt;
}

Result<Invocation> Prepare(const std::string& command, const std::vector<std::string>& args) {
  const CommandSpec* table = FindCommand(command);
  if (!table) return InternalError("no command \"" + command + "\" in the command table");
  const std::vector<OptionSpec> specs = OptionsOf(*table);
  const size_t max_positional = table->max_operands;
  Invocation inv;
  inv.command = command;
  ConfigInputs inputs;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!arg.starts_with("--") || arg == "--") {
      inv.positional.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    auto spec = std::find_if(specs.begin(), specs.end(),
                             [&](const OptionSpec& s) { return s.name == name; });
    if (spec == specs.end()) {
      std::vector<std::string> names;
      for (const OptionSpec& s : specs) names.push_back(s.name);
      const std::string guess = Closest(name, names);
      return InvalidArgumentError("unknown option --" + name + " for `standby " + command + "`" +
                                  (guess.empty() ? "" : "; did you mean --" + guess + "?"));
    }
    const bool takes_value = !spec->value.empty();
    if (takes_value && !value) {
      if (i + 1 >= args.size()) return InvalidArgumentError("option --" + name + " needs a value");
      value = args[++i];
    } else if (!takes_value && value) {
      return InvalidArgumentError("option --" + name + " takes no value");
    }
    inv.flags[name] = value.value_or("");
    // A flag without a value sets its boolean setting.
    if (!spec->setting.empty()) inputs.flags[spec->setting] = value.value_or("true");
  }
  inv.json = inv.Has("json");
  for (const OptionSpec& s : specs) {
    if (!s.default_value.empty() && !inv.Has(s.name)) inv.defaults[s.name] = s.default_value;
  }
  if (inv.positional.size() > max_positional) {
    return InvalidArgumentError("unexpected argument \"" + inv.positional[max_positional] + "\"");
  }
  if (auto file = inv.Flag("config")) inputs.config_file = *file;
  auto config = Config::Load(inputs);
  if (!config) return config.error();
  inv.config = std::move(*config);
  LogLevel level = LogLevel::kInfo;
  std::string level_text = inv.config.GetOr("log_level", "info");
  if (!ParseLogLevel(level_text, &level)) {
    return InvalidArgumentError("log level must be debug, info, warning, error or off, got \"" +
                                level_text + "\"");
  }
  InitLogging(level);
  return inv;
}

void PrintJson(const nlohmann::json& j) {
  std::string text = Redact(DumpJson(j)) + "\n";
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

void Print(const std::string& line) {
  std::string text = Redact(line) + "\n";
  std::fwrite(text.data(), 1, text.size(), stdout);
}

void Progress(const std::string& line, bool json) {
  if (!json && line.rfind("\u2713", 0) == 0) {
    Print(line);
  } else {
    Say(line);
  }
}

nlohmann::json ErrorJson(std::string_view code, const std::string& message, bool retryable,
                         const nlohmann::json& details) {
  nlohmann::json error = {
      {"code", std::string(code)}, {"message", Redact(message)}, {"retryable", retryable}};
  if (!details.is_null()) error["details"] = details;
  return {{"error", error}};
}

void Say(const std::string& line) {
  std::string text = Redact(line) + "\n";
  std::fwrite(text.data(), 1, text.size(), stderr);
}

int Fail(const Error& error, bool json) { return FailWithDetails(error, json, nullptr); }

int FailWithDetails(const Error& error, bool json, const nlohmann::json& details) {
  std::string message = Redact(error.message);
  const bool interrupted = error.code == ErrorCode::kCancelled;
  // An interruption is no error of the command's: its line says what state it left.
  std::fprintf(stderr, "%s%s\n", interrupted ? "" : "error: ", message.c_str());
  if (json) PrintJson(ErrorJson(ErrorCodeName(error.code), message, error.retryable, details));
  return interrupted ? InterruptedExitStatus() : kExitFailed;
}

bool WantsJson(const std::vector<std::string>& args) {
  return std::find(args.begin(), args.end(), "--json") != args.end();
}

int UsageError(const std::string& command, const std::string& message, bool json) {
  std::fprintf(stderr, "error: %s (see `standby help %s`)\n", Redact(message).c_str(),
               command.c_str());
  if (json) PrintJson(ErrorJson("usage", message, false));
  return kExitUsage;
}

Result<std::unique_ptr<ObjectStore>> OpenRepoStore(const Invocation& inv) {
  return OpenConfiguredStore(inv.config, Clock::Real());
}

Result<std::string> AbsolutePath(const std::string& path) {
  if (path.empty()) return InvalidArgumentError("empty path");
  std::string out = path;
  if (path.front() != '/') {
    char cwd[PATH_MAX];
    if (::getcwd(cwd, sizeof(cwd)) == nullptr) return ErrnoError(errno, "getcwd");
    out = std::string(cwd) + "/" + path;
  }
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

Result<size_t> ThreadsSetting(const Invocation& inv) {
  ASSIGN_OR_RETURN(uint64_t threads, inv.config.GetUint("threads"));
  if (threads > 256) return InvalidArgumentError("--threads must be at most 256");
  return static_cast<size_t>(threads);
}

}  // namespace standby
