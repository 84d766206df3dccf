#pragma once

#include <string>
#include <string_view>

#include "state/state_store.h"

namespace standby {

// What the controller tells those who watch it: the event log, webhooks, live metrics.
// Called after the fact on the controller's threads, several at once: implementations are
// thread-safe and return at once (queue or count, never send or wait).
class ControllerObserver {
 public:
  virtual ~ControllerObserver() = default;
  // A failover's row each time its phase changes: the first call is its start,
  // `done`/`failed` its end.
  virtual void FailoverPhase(const FailoverEvent& row) { (void)row; }
  // The fence of a failover's old host changed: it became `pending` (the new host serves
  // without it) or `waiting` (the new workload waits for it), or such a fence was confirmed.
  virtual void FenceChanged(const FailoverEvent& row) { (void)row; }
  // A snapshot of `instance` taken by the controller ended: `taken` when it was stored,
  // else null with the error and the failures in a row.
  virtual void SnapshotFinished(const std::string& instance, const SnapshotRow* taken, int failures,
                                const std::string& error) {
    (void)instance, (void)taken, (void)failures, (void)error;
  }
  // The instance's health state changed (ProtectionStateName: healthy, suspect, ...).
  virtual void HealthChanged(const std::string& instance, const std::string& state,
                             const std::string& detail) {
    (void)instance, (void)state, (void)detail;
  }
  // One health probe of the instance ended: "ok", "fail" or "timeout".
  virtual void HealthChecked(const std::string& instance, std::string_view result) {
    (void)instance, (void)result;
  }
};

}  // namespace standby
