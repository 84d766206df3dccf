#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "failover/controller_context.h"
#include "failover/instance_supervisor.h"
#include "failover/work_pool.h"

namespace standby {

struct ControllerOptions {
  // How often the provider is listed, requests are read, the instance set is refreshed and
  // the heartbeat written (instances probe on their own policy's interval).
  std::chrono::milliseconds interval{2000};
  std::chrono::seconds reap_every{300};
  std::chrono::seconds reap_grace{600};
  std::string api_url;  // announced in the heartbeat
};

// `standby serve`: keeps every protected instance of the state store alive. At start it
// resumes every unfinished failover from its last persisted phase. Then, each interval: one
// provider listing for all instances, operators' requests (failover, snapshot now), new and
// removed instances, a heartbeat; each instance is watched by its InstanceSupervisor; the
// reaper destroys orphans of crashed races every reap_every.
class Controller {
 public:
  Controller(ControllerContext* ctx, ControllerOptions options);
  ~Controller();

  // Registers this controller and loads the instances and unfinished failovers.
  Status Start();
  // One round of everything on the caller's thread, supervisors included (tests, the
  // deterministic simulation).
  void RunOnce(const std::atomic<bool>& stop);
  // Until `stop`: supervisors on their own threads, the rest here. Returns once every
  // supervisor has stopped at a safe point (a failover persisted where it was).
  Status Run(const std::atomic<bool>& stop);

  // The current listing (what supervisors read).
  std::shared_ptr<const ProviderListing> Listing() const;

 private:
  struct Watched {
    std::unique_ptr<InstanceSupervisor> supervisor;
    std::unique_ptr<std::atomic<bool>> stop;
    std::thread thread;
  };

  void RefreshListing();
  void SyncInstances(bool threads, const std::atomic<bool>& stop);
  void HandleRequests();
  void Heartbeat();
  void MaybeReap();
  void StartThread(Watched& w, const std::atomic<bool>& stop);

  ControllerContext* ctx_;
  ControllerOptions options_;
  mutable std::mutex mu_;
  std::shared_ptr<const ProviderListing> listing_;
  std::map<std::string, Watched> watched_;
  // After watched_: destroyed first, so snapshot tasks end before their supervisors.
  WorkPool snapshots_;
  std::map<std::string, FailoverEvent> resumable_;
  int64_t started_at_ms_ = 0;
  int64_t next_reap_ns_ = 0;
  // The first look at the instances: a claim for a failover whose row was never written
  // (the controller died between the two) can only be recognised then.
  bool first_sync_ = true;
};

}  // namespace standby
