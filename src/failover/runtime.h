#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "config/config.h"
#include "failover/controller_context.h"
#include "provision/fleet.h"
#include "state/spooling_state_store.h"

namespace standby {

// Opened stores by repository URL, shared by every user of a controller.
class StoreCache {
 public:
  StoreCache(StoreSettings settings) : settings_(std::move(settings)) {}
  Result<std::shared_ptr<ObjectStore>> Open(const std::string& repo);

 private:
  StoreSettings settings_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<ObjectStore>> stores_;
};

// Everything a controller (or a command that talks to its state) runs on, opened from the
// configuration: the state store behind its spool, the fleet (provider, SSH, race), the
// controller's access to repositories, and the context that ties them together.
struct ControllerRuntime {
  std::unique_ptr<SpoolingStateStore> state;
  std::unique_ptr<Fleet> fleet;
  std::unique_ptr<StoreCache> stores;
  std::unique_ptr<StoreCache> probe_stores;  // quick, single-attempt: the isolation check
  ControllerContext ctx;
};

Result<std::unique_ptr<ControllerRuntime>> OpenControllerRuntime(const Config& config);

}  // namespace standby
