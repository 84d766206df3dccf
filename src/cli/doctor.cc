#include "failover/doctor.h"

#include "base/log.h"
#include "base/strings.h"
#include "cli/command.h"
#include "cli/provider_access.h"

namespace standby {

// `standby doctor`: whether this deployment can fail over, one ✓/✗ line per check with the
// fix for each failure; exit 1 when any check failed.
int RunDoctor(const std::vector<std::string>& args) {
  const std::string command = "doctor";
  auto inv = Prepare(command, args);
  if (!inv) return UsageError(command, inv.error().message, WantsJson(args));
  std::vector<DoctorCheck> checks = RunDoctor(inv->config);
  if (!inv->json) {
    for (const DoctorCheck& c : checks) {
      const char* mark = c.outcome == DoctorCheck::Outcome::kOk       ? "\u2713"
                         : c.outcome == DoctorCheck::Outcome::kFailed ? "\u2717"
                                                                      : "-";
      std::printf("%s %s: %s\n", mark, c.name.c_str(), Redact(c.detail).c_str());
      if (!c.fix.empty()) std::printf("    fix: %s\n", c.fix.c_str());
    }
  }
  if (!DoctorPassed(checks)) {
    std::vector<std::string> failed;
    for (const DoctorCheck& c : checks) {
      if (c.outcome == DoctorCheck::Outcome::kFailed) failed.push_back(c.name);
    }
    return FailWithDetails(InvalidArgumentError("failed checks: " + JoinStrings(failed, ", ")),
                           inv->json, DoctorJson(checks));
  }
  if (inv->json) PrintJson(DoctorJson(checks));
  return kExitOk;
}

}  // namespace standby
