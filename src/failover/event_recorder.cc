#include "failover/event_recorder.h"

#include <nlohmann/json.hpp>
#include <optional>

#include "base/json_fields.h"
#include "base/log.h"
#include "failover/vocabulary.h"

namespace standby {

EventRecorder::EventRecorder(StateStore* state, Clock* clock, Executor* executor,
                             std::chrono::hours keep, size_t max_queued)
    : state_(state), clock_(clock), keep_(keep), max_queued_(max_queued) {
  writer_ = executor->Spawn("event recorder", [this] { Loop(); });
}

EventRecorder::~EventRecorder() {
  stopping_ = true;
  queued_.Ring();
  writer_->Join();
}

void EventRecorder::FailoverPhase(const FailoverEvent& row) {
  const bool finished = row.completed_at > 0;
  const bool started = !finished && row.phase == FailoverPhaseName(FailoverPhase::kDetected);
  const int64_t now = NowMillis(clock_);
  nlohmann::json data = {
      {"failover_id", row.failover_id},  {"trigger", row.trigger},
      {"planned", row.planned},          {"phase", row.phase},
      {"started_at_ms", row.started_at}, {"elapsed_ms", std::max<int64_t>(0, now - row.started_at)},
      {"progress", row.progress},        {"attempts", row.attempts}};
  if (finished) {
    data["success"] = row.success;
    data["total_ms"] = row.total_ms;
    data["failure_phase"] = row.failure_phase;
    data["failure_reason"] = row.failure_reason;
  }
  Append(row.instance_id,
         finished  ? "failover.finished"
         : started ? "failover.started"
                   : "failover.phase",
         DumpJson(data));
}

void EventRecorder::FenceChanged(const FailoverEvent& row) {
  Append(row.instance_id, "failover.fence",
         DumpJson({{"failover_id", row.failover_id},
                   {"fence", row.fence},
                   {"detail", row.fence_detail},
                   {"old_instance", row.original_instance_id}}));
}

void EventRecorder::SnapshotFinished(const std::string& instance, const SnapshotRow* taken,
                                     int failures, const std::string& error) {
  nlohmann::json data;
  if (taken) {
    data = {{"result", "ok"},
            {"snapshot_id", taken->snapshot_id},
            {"snapshot_type", taken->snapshot_type},
            {"files_changed", taken->files_changed},
            {"bytes_uploaded", taken->bytes_uploaded},
            {"duration_ms", taken->duration_ms}};
  } else {
    data = {{"result", "failed"}, {"error", error}, {"failures", failures}};
  }
  Append(instance, "snapshot.finished", DumpJson(data));
}

void EventRecorder::HealthChanged(const std::string& instance, const std::string& state,
                                  const std::string& detail) {
  Append(instance, "instance.health", DumpJson({{"state", state}, {"detail", detail}}));
}

void EventRecorder::Append(const std::string& instance, const std::string& type,
                           const std::string& data) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() >= max_queued_) {
      if (dropped_++ % 1000 == 0) {
        spdlog::warn("event log: {} events wait for the state store; dropping {}", queue_.size(),
                     type);
      }
      return;
    }
    queue_.push_back(
        {.at = NowMillis(clock_), .instance_id = instance, .type = type, .data_json = data});
  }
  queued_.Ring();
}

void EventRecorder::Loop() {
  while (true) {
    std::optional<EventRow> next;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!queue_.empty()) {
        next = std::move(queue_.front());
        queue_.pop_front();
      }
    }
    if (!next) {
      if (stopping_.load()) return;  // stopping, and everything was written
      clock_->WaitForBell(std::chrono::seconds(1), queued_);
      continue;
    }
    const EventRow& event = *next;
    auto id = state_->AppendEvent(event);
    if (!id) {
      spdlog::warn("{}: event {} not logged: {}", event.instance_id, event.type,
                   id.error().message);
    } else if (++appended_ % 100 == 1) {
      const int64_t keep_ms = std::chrono::duration_cast<std::chrono::milliseconds>(keep_).count();
      state_->PruneEvents(event.at - keep_ms).IgnoreError();  // the next prune retries
    }
  }
}

}  // namespace standby
