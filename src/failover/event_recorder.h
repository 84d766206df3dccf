#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "env/clock.h"
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
// database); a thread of the recorder appends in order. An event that cannot be written is logged
// and dropped, as are events beyond `max_queued` while the database is away: the log is a view, the
// failover and snapshot rows stay the record. Events older than `keep` are pruned as new ones come.
class EventRecorder : public ControllerObserver {
 public:
  EventRecorder(StateStore* state, Clock* clock,
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
  int64_t appended_ = 0;  // by the writer thread
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<EventRow> queue_;
  bool stopping_ = false;
  size_t dropped_ = 0;
  std::thread writer_;
};

}  // namespace standby
