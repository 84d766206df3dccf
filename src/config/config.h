#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace standby {

// One setting: its name (also the TOML key path and, with dashes, the flag), the
// environment variable that sets it, its default, and whether it is a secret. Secrets are
// read from the environment or .env only — never from a config file or a flag, which
// would put them in a file or in argv — and are registered for redaction.
struct SettingSpec {
  std::string_view name;  // "s3.endpoint" → flag --s3-endpoint, TOML [s3] endpoint
  std::string_view env;   // "STANDBY_S3_ENDPOINT"
  std::string_view default_value;
  std::string_view help;
  bool secret = false;
};

// Every setting standby knows (the manual lists the same table).
const std::vector<SettingSpec>& AllSettings();
const SettingSpec* FindSetting(std::string_view name);

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup ProcessEnv();

// Where each layer comes from. Precedence: flags > environment > .env > TOML file > defaults.
struct ConfigInputs {
  std::map<std::string, std::string> flags;  // by setting name
  EnvLookup env = ProcessEnv();
  std::string dotenv_path = ".env";        // missing file: no layer
  std::optional<std::string> config_file;  // --config; else $STANDBY_CONFIG; else none
};

class Config {
 public:
  // Reads and validates every layer; unknown TOML keys, malformed .env lines, secrets in the
  // TOML file and unparsable numbers are errors naming the file and line.
  static Result<Config> Load(const ConfigInputs& inputs);

  // The winning value, or nullopt when no layer sets it and it has no default.
  std::optional<std::string> Get(std::string_view name) const;
  std::string GetOr(std::string_view name, std::string fallback) const;
  Result<uint64_t> GetUint(std::string_view name) const;
  Result<bool> GetBool(std::string_view name) const;
  // "flag", "env", ".env", "config file", "default" or "unset".
  std::string SourceOf(std::string_view name) const;

 private:
  struct Value {
    std::string value;
    std::string source;
  };
  std::map<std::string, Value, std::less<>> values_;
};

// One line of `standby config show`: a setting's effective value and where it came from.
struct ShownSetting {
  std::string name;
  std::string env;
  std::string value;   // "***" for a secret that is set; "" when unset
  std::string source;  // as Config::SourceOf
  bool secret = false;
};
// Every setting standby knows, in AllSettings() order, with secrets masked.
std::vector<ShownSetting> ShowSettings(const Config& config);

// Parses .env text: KEY=VALUE lines, optional "export ", '#' comments, values optionally in
// single or double quotes. Errors name the line.
Result<std::map<std::string, std::string>> ParseDotEnv(std::string_view text);

}  // namespace standby
