#include "provision/reaper.h"

#include "base/log.h"
#include "provision/ownership.h"

namespace standby {

std::string ControllerLabelPrefix(const std::string& controller) {
  return "standby:" + controller + ":";
}

Result<ReapResult> ReapOrphans(Provider* provider, const std::string& label_prefix,
                               const std::set<std::string>& owned, std::chrono::seconds grace,
                               Clock* clock) {
  if (!label_prefix.starts_with("standby:")) {
    return InvalidArgumentError("refusing to reap instances not labelled by standby");
  }
  ASSIGN_OR_RETURN(auto instances, provider->List(label_prefix));
  ReapResult result;
  const int64_t now_ms = clock->Now() / 1'000'000;
  for (const Instance& instance : instances) {
    if (owned.contains(instance.id)) continue;
    if (now_ms - instance.created_unix_ms < std::chrono::milliseconds(grace).count()) {
      result.kept_young.push_back(instance.id);
      continue;
    }
    std::string detail;
    if (DestroyAndConfirm(provider, nullptr, instance.id, clock, 5, std::chrono::seconds(1),
                          &detail)) {
      spdlog::warn("destroyed orphan instance {} ({}), labelled {}", instance.id, instance.gpu_name,
                   instance.label);
      result.destroyed.push_back(instance.id);
    } else {
      result.failed.push_back(instance.id + ": " + detail);
    }
  }
  return result;
}

}  // namespace standby
