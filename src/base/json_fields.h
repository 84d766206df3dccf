#pragma once

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace standby {

// Reads fields of a JSON object that came from someone we do not trust (an agent on a
// rented host, a provider's API): a missing field, a wrong type or a value out of range is
// recorded as an error naming the field, never an exception. Each getter returns the value,
// or `fallback` after recording the first problem; status() reports it.
//
//   JsonFields f(data, "snapshot result");
//   report.files_total = f.Int("files_total", 0, kMaxFiles);
//   RETURN_IF_ERROR(f.status());
// json::parse for text from someone we do not trust: also throws (nlohmann::json::exception
// or std::runtime_error) for nesting deeper than kMaxJsonDepth, which nlohmann would build
// and then copy and destroy recursively — a 1 MiB line of brackets overflows the stack.
inline constexpr int kMaxJsonDepth = 64;
nlohmann::json ParseUntrustedJson(std::string_view text);

// JSON text of a value that may carry text from outside (a host's stderr in a detail, a
// file name, a message): bytes that are not UTF-8 become U+FFFD instead of an exception
// from nlohmann::json::dump. Every output of such data (--json, the API, SSE, protocol
// answers) goes through it.
inline std::string DumpJson(const nlohmann::json& value, int indent = -1) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

class JsonFields {
 public:
  JsonFields(const nlohmann::json& object, std::string what);

  // Required fields.
  std::string String(const std::string& key, size_t max_length = 4096);
  int64_t Int(const std::string& key, int64_t min = 0,
              int64_t max = std::numeric_limits<int64_t>::max());
  double Number(const std::string& key, double min, double max);
  bool Bool(const std::string& key);
  // A nested object (an empty one after an error).
  const nlohmann::json& Object(const std::string& key);
  std::vector<std::string> Strings(const std::string& key, size_t max_items = 64,
                                   size_t max_length = 4096);

  // Optional fields: nullopt when absent or null; a wrong type is still an error.
  std::optional<std::string> OptionalString(const std::string& key, size_t max_length = 4096);
  std::optional<int64_t> OptionalInt(const std::string& key, int64_t min = 0,
                                     int64_t max = std::numeric_limits<int64_t>::max());
  std::optional<bool> OptionalBool(const std::string& key);

  // kCorruption "<what>: field \"k\" ..." for the first problem, else OK.
  Status status() const;

 private:
  const nlohmann::json* Find(const std::string& key, bool required);
  void Problem(const std::string& key, const std::string& what);

  const nlohmann::json& object_;
  std::string what_;
  std::optional<std::string> error_;
};

}  // namespace standby
