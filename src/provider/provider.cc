#include "provider/provider.h"

#include <cctype>

namespace standby {

std::string_view InstanceStateName(InstanceState state) {
  switch (state) {
    case InstanceState::kLoading:
      return "loading";
    case InstanceState::kRunning:
      return "running";
    case InstanceState::kExited:
      return "exited";
    case InstanceState::kOffline:
      return "offline";
    case InstanceState::kUnknown:
      return "unknown";
  }
  return "unknown";
}

namespace {

std::string GpuNameKey(std::string_view name) {
  std::string key;
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return key;
}

}  // namespace

bool GpuNameMatches(const OfferFilter& filter, std::string_view gpu_name) {
  if (filter.gpu_names.empty()) return true;
  const std::string key = GpuNameKey(gpu_name);
  for (const std::string& wanted : filter.gpu_names) {
    if (GpuNameKey(wanted) == key) return true;
  }
  return false;
}

Status ValidateProviderId(std::string_view id) {
  bool ok = !id.empty() && id.size() <= 128 && id.front() != '.';
  for (char c : id) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-');
  }
  if (!ok) {
    return InvalidArgumentError("\"" + std::string(id).substr(0, 64) +
                                "\" is not a provider id (1–128 of A-Z a-z 0-9 . _ -)");
  }
  return OkStatus();
}

}  // namespace standby
