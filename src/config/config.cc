#include "config/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "base/log.h"
#include "base/strings.h"
#include "env/file_system.h"

namespace standby {
namespace {

Result<std::string> ReadWholeFile(const std::string& path, bool* missing) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *missing = true;
    return NotFoundError("cannot open " + path);
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<std::string> TomlScalar(const toml::node& node) {
  if (auto s = node.value<std::string>()) return *s;
  if (auto b = node.value<bool>(); b && node.is_boolean()) return *b ? "true" : "false";
  if (auto i = node.value<int64_t>(); i && node.is_integer()) return std::to_string(*i);
  if (auto d = node.value<double>(); d && node.is_floating_point()) return std::to_string(*d);
  return std::nullopt;
}

Status FlattenToml(const toml::table& table, const std::string& prefix, const std::string& file,
                   std::map<std::string, std::string>* out) {
  for (const auto& [key, node] : table) {
    std::string name =
        prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
    if (const toml::table* sub = node.as_table()) {
      RETURN_IF_ERROR(FlattenToml(*sub, name, file, out));
      continue;
    }
    const SettingSpec* spec = FindSetting(name);
    int line = static_cast<int>(node.source().begin.line);
    if (spec == nullptr) {
      return InvalidArgumentError(file + ":" + std::to_string(line) + ": unknown setting \"" +
                                  name + "\"");
    }
    if (spec->secret) {
      return InvalidArgumentError(file + ":" + std::to_string(line) + ": \"" + name +
                                  "\" is a secret; set " + std::string(spec->env) +
                                  " in the environment or .env instead of the config file");
    }
    auto value = TomlScalar(node);
    if (!value) {
      return InvalidArgumentError(file + ":" + std::to_string(line) + ": \"" + name +
                                  "\" must be a string, number or boolean");
    }
    (*out)[name] = *value;
  }
  return OkStatus();
}

// A .env's text, or nullopt when there is none. A .env in the working directory is where a
// stranger could plant settings: it must be ours and writable by no one else (as OpenSSH's
// StrictModes). Checked and read through one descriptor (no symlink followed), so the file
// checked is the file read.
Result<std::optional<std::string>> ReadDotEnvFile(const std::string& path) {
  // O_NONBLOCK: a FIFO named .env must not hang every command in its directory.
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    if (errno == ELOOP) return PermissionDeniedError("refusing " + path + ": it is a symlink");
    return ErrnoError(errno, "open " + path);
  }
  struct stat st;
  std::string text;
  Status checked = ::fstat(fd, &st) != 0 ? Status(ErrnoError(errno, "stat " + path))
                   : !S_ISREG(st.st_mode)
                       ? Status(PermissionDeniedError("refusing " + path + ": not a regular file"))
                       : CheckOwnedAndPrivate(path, st.st_uid, st.st_mode);
  if (checked) {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof(buf))) > 0) {
      text.append(buf, static_cast<size_t>(n));
      if (text.size() > (1 << 20)) {
        checked = InvalidArgumentError(path + " is over 1 MiB; it should hold a few secrets");
        break;
      }
    }
  }
  ::close(fd);
  RETURN_IF_ERROR(checked);
  return std::optional<std::string>(std::move(text));
}

// .env supplies secrets only: a key that would redirect where secrets go (VAST_URL) or what
// runs (STANDBY_AGENT) must come from the environment or the config file.
Status CheckDotEnvHoldsSecretsOnly(const std::string& path,
                                   const std::map<std::string, std::string>& dotenv) {
  for (const auto& [key, value] : dotenv) {
    for (const SettingSpec& spec : AllSettings()) {
      if (spec.env == key && !spec.secret) {
        return InvalidArgumentError(path + " sets " + key + ", which is not a secret; .env holds " +
                                    "secrets only (set " + key + " in the environment or use " +
                                    "the config file)");
      }
    }
  }
  return OkStatus();
}

}  // namespace

Result<std::map<std::string, std::string>> ParseDotEnv(std::string_view text) {
  std::map<std::string, std::string> out;
  int line_number = 0;
  for (const std::string& raw : SplitString(text, '\n')) {
    ++line_number;
    std::string_view line = TrimWhitespace(raw);
    if (line.empty() || line.front() == '#') continue;
    if (line.starts_with("export ")) line = TrimWhitespace(line.substr(7));
    size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return InvalidArgumentError(".env line " + std::to_string(line_number) + " is not KEY=VALUE");
    }
    std::string key(TrimWhitespace(line.substr(0, eq)));
    std::string_view value = TrimWhitespace(line.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    } else if (size_t hash = value.find(" #"); hash != std::string_view::npos) {
      value = TrimWhitespace(value.substr(0, hash));
    }
    out[key] = std::string(value);
  }
  return out;
}

Result<Config> Config::Load(const ConfigInputs& inputs) {
  Config config;
  std::map<std::string, std::string> toml_values;
  std::optional<std::string> file = inputs.config_file;
  if (!file) file = inputs.env("STANDBY_CONFIG");
  if (file && !file->empty()) {
    bool missing = false;
    auto text = ReadWholeFile(*file, &missing);
    if (!text) return InvalidArgumentError("config file " + *file + " cannot be read");
    try {
      toml::table table = toml::parse(*text, *file);
      RETURN_IF_ERROR(FlattenToml(table, "", *file, &toml_values));
    } catch (const toml::parse_error& e) {
      return InvalidArgumentError(*file + ":" + std::to_string(e.source().begin.line) + ": " +
                                  std::string(e.description()));
    }
  }
  std::map<std::string, std::string> dotenv;
  if (!inputs.dotenv_path.empty()) {
    ASSIGN_OR_RETURN(std::optional<std::string> text, ReadDotEnvFile(inputs.dotenv_path));
    if (text) {
      auto parsed = ParseDotEnv(*text);
      if (!parsed) return parsed.error().WithContext(inputs.dotenv_path);
      dotenv = std::move(*parsed);
      RETURN_IF_ERROR(CheckDotEnvHoldsSecretsOnly(inputs.dotenv_path, dotenv));
    }
  }
  for (const SettingSpec& spec : AllSettings()) {
    std::string name(spec.name);
    std::optional<Value> chosen;
    if (auto it = inputs.flags.find(name); it != inputs.flags.end()) {
      if (spec.secret) {
        return InvalidArgumentError("\"" + name + "\" is a secret and cannot be a flag; set " +
                                    std::string(spec.env) + " in the environment or .env");
      }
      chosen = Value{it->second, "flag"};
    } else if (auto env = inputs.env(std::string(spec.env))) {
      chosen = Value{*env, "env"};
    } else if (auto it = dotenv.find(std::string(spec.env)); it != dotenv.end()) {
      chosen = Value{it->second, ".env"};
    } else if (auto it = toml_values.find(name); it != toml_values.end()) {
      chosen = Value{it->second, "config file"};
    } else if (!spec.default_value.empty()) {
      chosen = Value{std::string(spec.default_value), "default"};
    }
    if (!chosen) continue;
    if (spec.secret) RegisterSecret(chosen->value);
    config.values_[name] = std::move(*chosen);
  }
  return config;
}

std::optional<std::string> Config::Get(std::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second.value;
}

std::string Config::GetOr(std::string_view name, std::string fallback) const {
  auto value = Get(name);
  return value ? *value : std::move(fallback);
}

Result<uint64_t> Config::GetUint(std::string_view name) const {
  auto value = Get(name);
  if (!value) return NotFoundError("setting " + std::string(name) + " is not set");
  auto parsed = ParseUint(*value);
  if (!parsed) {
    return InvalidArgumentError("setting " + std::string(name) + " (from " + SourceOf(name) +
                                ") must be a non-negative integer, got \"" + *value + "\"");
  }
  return *parsed;
}

Result<bool> Config::GetBool(std::string_view name) const {
  auto value = Get(name);
  if (!value) return NotFoundError("setting " + std::string(name) + " is not set");
  if (*value == "true" || *value == "1" || *value == "yes") return true;
  if (*value == "false" || *value == "0" || *value == "no") return false;
  return InvalidArgumentError("setting " + std::string(name) + " must be true or false, got \"" +
                              *value + "\"");
}

std::string Config::SourceOf(std::string_view name) const {
  auto it = values_.find(name);
  return it == values_.end() ? "unset" : it->second.source;
}

std::vector<ShownSetting> ShowSettings(const Config& config) {
  std::vector<ShownSetting> shown;
  for (const SettingSpec& spec : AllSettings()) {
    ShownSetting s{std::string(spec.name), std::string(spec.env), "", config.SourceOf(spec.name),
                   spec.secret};
    if (auto value = config.Get(spec.name)) s.value = spec.secret ? "***" : *value;
    shown.push_back(std::move(s));
  }
  return shown;
}

}  // namespace standby
