#pragma once

#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

namespace standby {

enum class LogLevel { kDebug, kInfo, kWarning, kError, kOff };

// Installs the process-wide logger: one line per message on stderr, "warning: "/"error: "
// prefixes, every registered secret replaced by "***". Thread-safe; call once from main.
void InitLogging(LogLevel level);

// Parses "debug", "info", "warning"/"warn", "error", "off".
bool ParseLogLevel(std::string_view text, LogLevel* level);

// Registers a value (key, password, token) that must never appear in output. Values shorter
// than 4 characters are ignored (they would redact ordinary text). Thread-safe.
void RegisterSecret(std::string_view value);

// Returns `text` with every registered secret replaced by "***". Thread-safe.
std::string Redact(std::string_view text);

}  // namespace standby
