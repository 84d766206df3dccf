#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "failover/controller_context.h"
#include "failover/instance_supervisor.h"
#include "failover/work_pool.h"

namespace standby {

struct ControllerOptions {
  // How often the provider is listed, requests are read, the instance set is refreshed, the
  // heartbeat written and pending fences retried (instances probe on their own policy's
  // interval).
  std::chrono::milliseconds interval{2000};
  std::chrono::seconds reap_every{300};
  std::chrono::seconds reap_grace{600};
  // Pending destroys, race leftovers and orphaned failovers are retried this often.
  std::chrono::seconds cleanup_every{30};
  std::string api_url;  // announced in the heartbeat
};

// `standby serve`: keeps every protected instance of the state store alive. Each interval:
// one provider listing for all instances (its own task), operators' requests, new and
// removed instances, a heartbeat; each instance is watched by its InstanceSupervisor on a
// task of its own (which also resumes the instance's unfinished failover once it can claim
// it); a cleanup task fences old hosts whose fence is pending, destroys what is destroy-
// pending and sweeps race leftovers; the reaper destroys orphans every reap_every.
// Every task runs on ctx->executor.
class Controller {
 public:
  Controller(ControllerContext* ctx, ControllerOptions options);
  ~Controller();

  // Registers this controller and settles failovers nobody can resume.
  Status Start();
  // Until `stop`; returns once every supervisor has stopped at a safe point (a failover
  // persisted where it was).
  Status Run(const std::atomic<bool>& stop);

  // The current listing (what supervisors read).
  std::shared_ptr<const ProviderListing> Listing() const;

 private:
  struct Watched {
    std::unique_ptr<InstanceSupervisor> supervisor;
    std::unique_ptr<std::atomic<bool>> stop;
    std::unique_ptr<Executor::Task> task;
  };

  void RefreshListing();
  void SyncInstances(const std::atomic<bool>& stop);
  void HandleRequests();
  void Heartbeat();
  void MaybeReap();
  // Supervisors of unprotected instances that have wound down (all of them with `wait`):
  // joined, and the failovers they left unfinished abandoned.
  void ReapStopped(bool wait);
  void StartTask(const std::string& name, Watched& w, const std::atomic<bool>& stop);

  ControllerContext* ctx_;
  ControllerOptions options_;
  mutable std::mutex mu_;
  std::shared_ptr<const ProviderListing> listing_;
  std::map<std::string, Watched> watched_;
  std::vector<std::pair<std::string, Watched>> stopping_;
  // After watched_: destroyed first, so snapshot tasks end before their supervisors.
  WorkPool snapshots_;
  int64_t started_at_ms_ = 0;
  int64_t next_reap_ns_ = 0;
  std::string last_sync_error_;
  std::map<std::string, int64_t> unreadable_specs_;  // name → row version already reported
};

}  // namespace standby
