#include "base/json_fields.h"

#include <cmath>
#include <stdexcept>

namespace standby {
namespace {

const nlohmann::json& EmptyObject() {
  static const nlohmann::json empty = nlohmann::json::object();
  return empty;
}

}  // namespace

nlohmann::json ParseUntrustedJson(std::string_view text) {
  return nlohmann::json::parse(
      text.begin(), text.end(), [](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
        if (depth > kMaxJsonDepth) {
          throw std::runtime_error("JSON nested deeper than " + std::to_string(kMaxJsonDepth) +
                                   " levels");
        }
        return true;
      });
}

JsonFields::JsonFields(const nlohmann::json& object, std::string what)
    : object_(object), what_(std::move(what)) {
  if (!object_.is_object()) error_ = what_ + ": expected a JSON object";
}

void JsonFields::Problem(const std::string& key, const std::string& what) {
  if (!error_) error_ = what_ + ": field \"" + key + "\" " + what;
}

const nlohmann::json* JsonFields::Find(const std::string& key, bool required) {
  if (!object_.is_object()) return nullptr;
  auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) {
    if (required) Problem(key, "is missing");
    return nullptr;
  }
  return &*it;
}

std::string JsonFields::String(const std::string& key, size_t max_length) {
  auto value = OptionalString(key, max_length);
  if (!value && Find(key, true) == nullptr) return "";
  return value.value_or("");
}

std::optional<std::string> JsonFields::OptionalString(const std::string& key, size_t max_length) {
  const nlohmann::json* v = Find(key, false);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) {
    Problem(key, "is not a string");
    return std::nullopt;
  }
  const std::string& s = v->get_ref<const std::string&>();
  if (s.size() > max_length) {
    Problem(key, "is longer than " + std::to_string(max_length) + " bytes");
    return std::nullopt;
  }
  return s;
}

int64_t JsonFields::Int(const std::string& key, int64_t min, int64_t max) {
  if (Find(key, true) == nullptr) return min;
  return OptionalInt(key, min, max).value_or(min);
}

std::optional<int64_t> JsonFields::OptionalInt(const std::string& key, int64_t min, int64_t max) {
  const nlohmann::json* v = Find(key, false);
  if (v == nullptr) return std::nullopt;
  int64_t value = 0;
  if (v->is_number_integer()) {
    if (v->is_number_unsigned() &&
        v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      Problem(key, "is out of range");
      return std::nullopt;
    }
    value = v->get<int64_t>();
  } else {
    Problem(key, "is not an integer");
    return std::nullopt;
  }
  if (value < min || value > max) {
    Problem(key, "is out of range (" + std::to_string(value) + ")");
    return std::nullopt;
  }
  return value;
}

double JsonFields::Number(const std::string& key, double min, double max) {
  const nlohmann::json* v = Find(key, true);
  if (v == nullptr) return min;
  if (!v->is_number()) {
    Problem(key, "is not a number");
    return min;
  }
  double value = v->get<double>();
  if (!std::isfinite(value) || value < min || value > max) {
    Problem(key, "is out of range");
    return min;
  }
  return value;
}

bool JsonFields::Bool(const std::string& key) {
  if (Find(key, true) == nullptr) return false;
  return OptionalBool(key).value_or(false);
}

std::optional<bool> JsonFields::OptionalBool(const std::string& key) {
  const nlohmann::json* v = Find(key, false);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) {
    Problem(key, "is not true or false");
    return std::nullopt;
  }
  return v->get<bool>();
}

const nlohmann::json& JsonFields::Object(const std::string& key) {
  const nlohmann::json* v = Find(key, true);
  if (v == nullptr) return EmptyObject();
  if (!v->is_object()) {
    Problem(key, "is not an object");
    return EmptyObject();
  }
  return *v;
}

std::vector<std::string> JsonFields::Strings(const std::string& key, size_t max_items,
                                             size_t max_length) {
  std::vector<std::string> out;
  const nlohmann::json* v = Find(key, true);
  if (v == nullptr) return out;
  if (!v->is_array() || v->size() > max_items) {
    Problem(key, "is not a list of at most " + std::to_string(max_items) + " strings");
    return out;
  }
  for (const nlohmann::json& item : *v) {
    if (!item.is_string() || item.get_ref<const std::string&>().size() > max_length) {
      Problem(key, "holds something that is not a short string");
      return {};
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

Status JsonFields::status() const {
  if (error_) return CorruptionError(*error_);
  return OkStatus();
}

}  // namespace standby
