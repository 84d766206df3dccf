#pragma once

#include <chrono>
#include <map>
#include <string>

#include "failover/controller_context.h"

namespace standby {

// What failovers and destroys left unfinished, retried until done (the controller's cleanup
// task): fences left pending by a failover that proceeded without them (fencing.unconfirmed
// = proceed) — the old host is fenced the moment it answers again, while its failover still
// runs or after; race leftovers whose listing failed; destroys the provider did not confirm
// (ownership.h); failovers nobody can resume (AbandonOrphanFailovers). Used from one task.
// The two kinds run on separate tasks, so a slow provider never delays a fence.
class PendingCleanups {
 public:
  // `started_at_ms`: when this process started; machines rented on suspicion before it were
  // rented by a process that is gone.
  PendingCleanups(ControllerContext* ctx, int64_t started_at_ms)
      : ctx_(ctx), started_at_ms_(started_at_ms) {}

  // Every pending fence, tried once (each try bounded by the instance's probe timeout).
  void RetryFences();
  // Pending destroys, race leftovers whose sweep failed, failovers nobody can resume; on the
  // first pass, machines a dead process rented on suspicion (not the reaper's age rule).
  void RetryTheRest();

 private:
  void RetryFence(FailoverEvent row);
  void RetryLeftovers(FailoverEvent row);
  void GiveBackOrphanedSpeculation();

  ControllerContext* ctx_;
  const int64_t started_at_ms_;
  bool speculation_swept_ = false;
  std::map<std::string, std::string> last_failure_;  // failover → what its last try said
};

}  // namespace standby
