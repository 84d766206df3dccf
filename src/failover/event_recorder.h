#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include "env/clock.h"
#include "env/doorbell.h"
#include "env/executor.h"
#include "failover/controller_observer.h"
#include "state/state_store.h"

namespace standby {

// Writes what the controller reports into the state store's event log (EventRow), which
// `GET /api/v1/events` streams and replays (docs/manual.md, "Events"). Event types and
// their data:
//   failover.started / failover.phase / failover.finished
//       {failover_id, trigger, planned, phase, elapsed_ms, progress, attempts,
//        and when finished: success, total_ms, failure_phase, failure_reason}
//   failover.fence     {failover_id, fence: pending|waiting|confirmed, detail, old_instance}
//   instance.health    {state, detail}
//   snapshot.finished  {result: "ok"|"failed", and snapshot_id, snapshot_type,
//                       bytes_uploaded, duration_ms | error, failures}
// Text that came from a host (a detail, an error) may be any bytes: invalid UTF-8 is
// replaced, never thrown over. The controller only queues (its failover must not wait on the
// database); a task of the recorder, on `executor`, appends in order (it waits on `clock`, so
// the simulation's scheduler can run it). An event that cannot be written is logged
// and dropped, as are events beyond `max_queued` while the database is away: the log is a view, the
// failover and snapshot rows stay the record. Events older than `keep` are pruned as new ones come.
class EventRecorder : public ControllerObserver {
 public:
  EventRecorder(StateStore* state, Clock* clock, Executor* executor = Executor::Threads(),
                std::chrono::hours keep = std::chrono::hours(24 * 7), size_t max_queued = 10000);
  // Writes what is queued (each append bounded by the store's own timeouts), then stops.
  ~EventRecorder() override;

  void FailoverPhase(const FailoverEvent& row) override;
  void FenceChanged(const FailoverEvent& row) override;
  void SnapshotFinished(const std::string& instance, const SnapshotRow* taken, int failures,
                        const std::string& error) override;
  void HealthChanged(const std::string& instance, const std::string& state,
                     const std::string& detail) override;

 private:
  void Append(const std::string& instance, const std::string& type, const std::string& data);
  void Loop();

  StateStore* state_;
  Clock* clock_;
  const std::chrono::hours keep_;
  const size_t max_queued_;
  int64_t appended_ = 0;  // by the writer task
  std::mutex mu_;         // queue_ and dropped_; never held while waiting
  std::deque<EventRow> queue_;
  size_t dropped_ = 0;
  std::atomic<bool> stopping_{false};
  Doorbell queued_;
  std::unique_ptr<Executor::Task> writer_;  // last: started once the rest exists
};

}  // namespace standby
