#include "failover/runtime.h"

#include <unistd.h>

#include "env/host_info.h"
#include "provision/provider_settings.h"
#include "state/open_state_store.h"
#include "store/store_config.h"

namespace standby {

Result<std::shared_ptr<ObjectStore>> StoreCache::Open(const std::string& repo) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = stores_.find(repo); it != stores_.end()) return it->second;
  ASSIGN_OR_RETURN(auto opened, OpenObjectStore(repo, settings_));
  std::shared_ptr<ObjectStore> store = std::move(opened);
  stores_[repo] = store;
  return store;
}

Result<std::unique_ptr<SpoolingStateStore>> OpenStateFromConfig(const Config& config) {
  return OpenSpooledStateStore(config.GetOr("database_url", ""), StateDirFromConfig(config));
}

Result<std::unique_ptr<ControllerRuntime>> OpenControllerRuntime(const Config& config,
                                                                 RuntimeParts parts) {
  auto rt = std::make_unique<ControllerRuntime>();
  Clock* clock = Clock::Real();
  ControllerContext& ctx = rt->ctx;
  ctx.clock = clock;
  ctx.random = Random::Real();
  ASSIGN_OR_RETURN(ProviderSettings provider, ProviderSettingsFromConfig(config));
  ctx.controller = provider.controller;
  ctx.process_id = config.GetOr("controller_id", "");
  if (ctx.process_id.empty()) {
    // Unique per process: a restarted controller is another process, whose claims start
    // only where the old ones expired.
    ctx.process_id =
        LocalHostname() + ":" + std::to_string(::getpid()) + ":" + std::to_string(NowMillis(clock));
  }
  // The provider's settings are checked before the database is opened: a missing API key
  // is the error to show, not what the database says.
  std::optional<Fleet::Parts> fleet_parts;
  if (parts != RuntimeParts::kState) {
    ASSIGN_OR_RETURN(fleet_parts, Fleet::PartsFromConfig(config, clock));
  }
  ASSIGN_OR_RETURN(rt->state, OpenStateFromConfig(config));
  ctx.state = rt->state.get();
  if (parts == RuntimeParts::kState) return rt;
  ASSIGN_OR_RETURN(rt->fleet, Fleet::Open(*fleet_parts, rt->state.get(), clock, Random::Real()));
  ctx.fleet = rt->fleet.get();
  if (parts == RuntimeParts::kFleet) return rt;
  ASSIGN_OR_RETURN(StoreSettings store_settings, StoreSettingsFromConfig(config, clock));
  rt->stores = std::make_unique<StoreCache>(store_settings);
  ASSIGN_OR_RETURN(uint64_t snapshots, config.GetUint("failover.max_concurrent_snapshots"));
  StoreCache* cache = rt->stores.get();
  ctx.open_store = [cache](const std::string& repo) { return cache->Open(repo); };
  ctx.host_store_settings = store_settings;
  // The isolation check: one attempt, a short timeout, its own connections.
  StoreSettings quick = store_settings;
  quick.max_attempts = 1;
  quick.request_timeout = std::chrono::seconds(3);
  rt->probe_stores = std::make_unique<StoreCache>(quick);
  StoreCache* probe_cache = rt->probe_stores.get();
  ctx.open_probe_store = [probe_cache](const std::string& repo) { return probe_cache->Open(repo); };
  ctx.max_concurrent_snapshots = static_cast<int>(std::max<uint64_t>(1, snapshots));
  ctx.snapshot_job.compression = config.GetOr("snapshot.compression", "lz4");
  ASSIGN_OR_RETURN(ctx.snapshot_job.pack_size_mb, config.GetUint("snapshot.pack_size_mb"));
  ASSIGN_OR_RETURN(ctx.snapshot_job.lock_wait_seconds,
                   config.GetUint("snapshot.lock_wait_seconds"));
  ASSIGN_OR_RETURN(uint64_t threads, config.GetUint("threads"));
  ctx.snapshot_job.threads = static_cast<size_t>(threads);
  return rt;
}

}  // namespace standby
