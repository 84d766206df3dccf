#include "failover/vocabulary.h"

#include "base/enum_names.h"

namespace standby {
namespace {

constexpr EnumName<ProtectionState> kProtectionStates[] = {
    {ProtectionState::kPlacing, "placing"}, {ProtectionState::kHealthy, "healthy"},
    {ProtectionState::kSuspect, "suspect"}, {ProtectionState::kFailingOver, "failing_over"},
    {ProtectionState::kFailed, "failed"},   {ProtectionState::kPaused, "paused"},
};

constexpr EnumName<FailoverPhase> kPhases[] = {
    {FailoverPhase::kDetected, "detected"},
    {FailoverPhase::kFinalSnapshot, "final_snapshot"},
    {FailoverPhase::kReplacing, "replacing"},
    {FailoverPhase::kRestoring, "restoring"},
    {FailoverPhase::kValidating, "validating"},
    {FailoverPhase::kFencing, "fencing"},
    {FailoverPhase::kStarting, "starting"},
    {FailoverPhase::kChecking, "checking"},
    {FailoverPhase::kDone, "done"},
    {FailoverPhase::kFailed, "failed"},
};

constexpr EnumName<Trigger> kTriggers[] = {
    {Trigger::kHostDead, "host_dead"}, {Trigger::kWorkloadUnhealthy, "workload_unhealthy"},
    {Trigger::kManual, "manual"},      {Trigger::kPlanned, "planned"},
    {Trigger::kDrill, "drill"},        {Trigger::kInitial, "initial"},
};

}  // namespace

std::string_view ProtectionStateName(ProtectionState s) {
  return NameIn<ProtectionState>(kProtectionStates, s);
}
std::string_view FailoverPhaseName(FailoverPhase p) { return NameIn<FailoverPhase>(kPhases, p); }
std::optional<FailoverPhase> ParseFailoverPhase(std::string_view name) {
  return ParseIn<FailoverPhase>(kPhases, name);
}
bool Finished(FailoverPhase p) { return p == FailoverPhase::kDone || p == FailoverPhase::kFailed; }
std::string_view TriggerName(Trigger t) { return NameIn<Trigger>(kTriggers, t); }
std::optional<Trigger> ParseTrigger(std::string_view name) {
  return ParseIn<Trigger>(kTriggers, name);
}

}  // namespace standby
