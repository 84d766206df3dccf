#include "provision/reaper.h"

#include "base/log.h"
#include "provision/ownership.h"

namespace standby {

std::string ControllerLabelPrefix(const std::string& controller) {
  return "standby:" + controller + ":";
}

Result<ReapResult> ReapOrphans(Provider* provider, StateStore* state,
                               const std::string& label_prefix, const std::set<std::string>& owned,
                               std::chrono::seconds grace, Clock* clock, const LabelRule& rule) {
  if (!label_prefix.starts_with("standby:")) {
    return InvalidArgumentError("refusing to reap instances not labelled by standby");
  }
  ASSIGN_OR_RETURN(auto instances, provider->List(label_prefix));
  ReapResult result;
  const int64_t now_ms = clock->Now() / 1'000'000;
  for (const Instance& instance : instances) {
    if (owned.contains(instance.id)) continue;
    std::optional<std::chrono::seconds> wait = grace;
    if (rule) wait = rule(instance.label);
    if (!wait || now_ms - instance.created_unix_ms < std::chrono::milliseconds(*wait).count()) {
      result.kept_young.push_back(instance.id);
      continue;
    }
    Status gone = DestroyAndConfirm(provider, state, instance.id, clock);
    if (gone) {
      spdlog::warn("destroyed orphan instance {} ({}), labelled {}", instance.id, instance.gpu_name,
                   instance.label);
      result.destroyed.push_back(instance.id);
    } else {
      result.failed.push_back(instance.id + ": " + gone.error().message);
    }
  }
  return result;
}

}  // namespace standby
