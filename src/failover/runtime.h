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

// How much of the runtime a command opens. kState: the state store, clock, random source
// and the controller's name — status, events, requests, pause — with ctx.fleet null and no
// provider, SSH key or repository touched. kFleet adds the provider and SSH (the provider
// commands); kController adds the repositories and snapshot settings (serve, protect).
enum class RuntimeParts { kState, kFleet, kController };

Result<std::unique_ptr<ControllerRuntime>> OpenControllerRuntime(
    const Config& config, RuntimeParts parts = RuntimeParts::kController);

// The state store the configuration names (DATABASE_URL, else SQLite in the state
// directory), migrated, behind its spool.
Result<std::unique_ptr<SpoolingStateStore>> OpenStateFromConfig(const Config& config);

}  // namespace standby
