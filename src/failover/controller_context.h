#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "env/clock.h"
#include "env/executor.h"
#include "env/random.h"
#include "failover/controller_observer.h"
#include "failover/vocabulary.h"
#include "provision/fleet.h"
#include "remote/host_agent.h"
#include "state/state_store.h"
#include "store/object_store.h"
#include "store/open_store.h"

namespace standby {

// What the controller runs on: every effect goes through one of these seams, so tests and
// the simulation drive the same logic with fakes and a fake clock. Pointers are not owned.
struct ControllerContext {
  Clock* clock = nullptr;
  // Where every thread the controller starts runs (real threads; the simulation's scheduler).
  Executor* executor = Executor::Threads();
  Random* random = nullptr;
  StateStore* state = nullptr;
  Fleet* fleet = nullptr;  // the provider account, SSH transports and the provisioner
  // The controller's own access to an instance's repository: locating snapshots, pruning,
  // checking that the store answers. Thread-safe; stores may be cached by repo.
  std::function<Result<std::shared_ptr<ObjectStore>>(const std::string& repo)> open_store;
  // The same repositories opened for one quick request without retries: the isolation check
  // (is it the controller that is cut off?). Default: open_store.
  std::function<Result<std::shared_ptr<ObjectStore>>(const std::string& repo)> open_probe_store;
  // How hosts reach the store (what their agent jobs carry), and how they write snapshots.
  StoreSettings host_store_settings;
  SnapshotJobOptions snapshot_job;
  // This controller's name: the labels of what it rents (standby:<controller>:...) and so the
  // reaper's prefix. Stable across restarts.
  std::string controller;
  // This process among all that use the state store (heartbeats, claims of in-flight
  // failovers, requests taken): unique per process — `serve --id`, else host:pid:start.
  // "" = `controller`.
  std::string process_id;
  // A failover is claimed by the process that runs it until `claim_ttl` after its last
  // renewal (every `claim_renew`); only an expired claim is adopted by another process.
  std::chrono::milliseconds claim_ttl{20000};
  std::chrono::milliseconds claim_renew{5000};
  int max_concurrent_snapshots = 2;
  // One line per decision; default: the log at info level.
  std::function<void(const std::string&)> log;
  // Crash injection for tests and the simulation: called right after a failover persisted
  // `phase`; returning true makes the controller stop there, as if it had been killed.
  std::function<bool(const std::string& failover_id, FailoverPhase phase)> crash_after_persist;
  // Told what happened, in this order (controller_observer.h).
  std::vector<ControllerObserver*> observers;

  void Log(const std::string& line) const;
  // Runs one pass of a loop the controller keeps running (a supervisor's tick, the lister,
  // the cleanups). An exception escaping the pass (a bug, or outside input nothing validated)
  // is logged with `what` and reported false; the loop goes on, the process never ends.
  bool Guarded(const std::string& what, const std::function<void()>& pass) const;
  const std::string& ProcessId() const { return process_id.empty() ? controller : process_id; }
  template <class F>
  void Notify(const F& tell) const {
    for (ControllerObserver* o : observers) tell(*o);
  }
  // Whether the controller reaches an instance's store right now: any answer to a HEAD
  // through open_probe_store, "not found" included.
  bool StoreReachable(const std::string& repo) const;
};

}  // namespace standby
