#pragma once

#include <chrono>
#include <map>
#include <string>

#include "failover/controller_context.h"

namespace standby {

// What failovers and destroys left unfinished, retried until done (the controller's cleanup
// task): fences left pending by a failover that proceeded without them (fencing.unconfirmed
// = proceed) — the old host is fenced the moment it answers again; race leftovers whose
// listing failed; destroys the provider did not confirm (ownership.h); failovers nobody can
// resume (AbandonOrphanFailovers). Used from one task.
class PendingCleanups {
 public:
  PendingCleanups(ControllerContext* ctx, std::chrono::seconds slow_every)
      : ctx_(ctx), slow_every_(slow_every) {}

  // One pass: pending fences on every call; destroys, leftovers and orphans once per
  // `slow_every`.
  void RunOnce();

 private:
  void RetryFence(FailoverEvent row);
  void RetryLeftovers(FailoverEvent row);

  ControllerContext* ctx_;
  const std::chrono::seconds slow_every_;
  int64_t next_slow_ns_ = -1;
  std::map<std::string, std::string> last_failure_;  // failover → what its last try said
};

}  // namespace standby
