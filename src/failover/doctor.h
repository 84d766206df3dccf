#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/config.h"

namespace standby {

// One finding of `standby doctor`.
struct DoctorCheck {
  enum class Outcome { kOk, kFailed, kSkipped };
  std::string name;  // "state store", "object store", "clock", ...
  Outcome outcome = Outcome::kOk;
  std::string detail;  // what was found (on failure: the error, one line)
  std::string fix;     // what to do, when failed
};

// Whether a deployment is sound before a failover needs it: the state store opens (pending
// migrations are applied, as by every command); the repository's location exists and takes a
// put/get/delete of a probe object with the configured credentials, and its clock agrees with ours;
// the controller's SSH key is there and private; the provider's API answers an authenticated call;
// the agent binary runs and speaks our protocol; the state directory has room; the system clock is
// synchronised (where timedatectl says); every protected instance's host answers its agent. Checks
// that need a failed one are skipped. Never throws; every failure is a finding.
std::vector<DoctorCheck> RunDoctor(const Config& config);

bool DoctorPassed(const std::vector<DoctorCheck>& checks);
nlohmann::json DoctorJson(const std::vector<DoctorCheck>& checks);

}  // namespace standby
