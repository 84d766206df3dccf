#include "failover/drill.h"

#include <cstdio>

#include "base/strings.h"
#include "failover/operations.h"

namespace standby {
namespace {

constexpr double kSeedMttrS = 107.9;

// The phases of the table, in order: failover_events column and label.
const std::vector<std::pair<std::string, std::string>>& TablePhases() {
  static const std::vector<std::pair<std::string, std::string>> phases = {
      {"detection_ms", "detection"},
      {"snapshot_ms", "final snapshot (planned)"},
      {"gpu_provisioning_time_ms", "race (rent a GPU host)"},
      {"restore_ms", "restore from the store"},
      {"validation_ms", "validation (every byte)"},
      {"workload_start_ms", "workload start"},
      {"health_check_ms", "health check"},
      {"total_ms", "MTTR"}};
  return phases;
}

int64_t PhaseMs(const FailoverEvent& e, const std::string& column) {
  for (const PhaseColumn& c : FailoverPhaseColumns()) {
    if (column == c.column) return e.*c.ms;
  }
  return e.total_ms;
}

std::string Cell(double ms) {
  char text[32];
  std::snprintf(text, sizeof(text), "%9.1f s", ms / 1000.0);
  return text;
}

// "4.0 s"
std::string Tenths(int64_t ms) { return HumanSeconds(static_cast<double>(ms) / 1000.0); }

std::string Padded(const std::string& text, size_t width) {
  return text.size() >= width ? text : text + std::string(width - text.size(), ' ');
}

}  // namespace

MttrHistory CollectMttrHistory(const std::vector<FailoverEvent>& events) {
  std::vector<const FailoverEvent*> failovers;
  for (const FailoverEvent& e : events) {
    if (e.trigger != TriggerName(Trigger::kInitial)) failovers.push_back(&e);
  }
  FailoverSummary summary = SummarizeGroup("all", failovers);
  MttrHistory history;
  history.count = summary.succeeded;
  history.phases = std::move(summary.phases);
  history.phases["total_ms"] = summary.total_ms;
  return history;
}

std::string FailoverTimeline::At(int64_t ms) const {
  char text[32];
  std::snprintf(text, sizeof(text), "+%6.1f s  ", static_cast<double>(ms - origin_ms_) / 1000.0);
  return text;
}

std::vector<std::string> FailoverTimeline::Update(const FailoverEvent& e) {
  std::vector<std::string> lines;
  const int64_t at = e.updated_at > 0 ? e.updated_at : e.started_at;
  auto once = [&](const std::string& key, int64_t when, const std::string& line) {
    if (said_.insert(key).second) lines.push_back(At(when) + line);
  };
  once("detected", e.detected_at > 0 ? e.detected_at : e.started_at,
       "detected (" + e.trigger + "): failover " + e.failover_id + ", " + Tenths(e.detection_ms) +
           " after the first failed probe");
  if (e.phase == FailoverPhaseName(FailoverPhase::kFinalSnapshot)) {
    once("final_snapshot", at, "taking the final snapshot of the old host");
  }
  if (!e.fence.empty()) {
    once("fenced", at,
         e.fence == "confirmed" ? "fenced: the old host is destroyed (confirmed)"
                                : "fencing unconfirmed: the old host may still run");
  }
  if (!e.new_instance_id.empty()) {
    once("race:" + e.new_instance_id, at,
         "race won by " + e.new_instance_id + (e.gpu_name.empty() ? "" : " (" + e.gpu_name + ")") +
             " after " + Tenths(e.gpu_provisioning_time_ms) + ", " +
             std::to_string(e.candidates_launched) + " candidates");
  }
  if (e.phase == FailoverPhaseName(FailoverPhase::kRestoring)) {
    once("restoring:" + e.new_instance_id, at, "restoring " + e.snapshot_id);
    const int percent = static_cast<int>(e.progress) / 10 * 10;
    if (percent > last_percent_ && percent > 0 && percent < 100) {
      last_percent_ = percent;
      lines.push_back(At(at) + "restore " + std::to_string(percent) + "%");
    }
  }
  const bool past_restore = e.phase == FailoverPhaseName(FailoverPhase::kValidating) ||
                            e.phase == FailoverPhaseName(FailoverPhase::kStarting) ||
                            e.phase == FailoverPhaseName(FailoverPhase::kChecking) ||
                            e.phase == FailoverPhaseName(FailoverPhase::kDone);
  if (past_restore) {
    once("validating", at, "restored " + std::to_string(e.files_restored) + " files; validating");
  }
  if (e.phase == FailoverPhaseName(FailoverPhase::kStarting) ||
      e.phase == FailoverPhaseName(FailoverPhase::kChecking) ||
      e.phase == FailoverPhaseName(FailoverPhase::kDone)) {
    once("starting", at, "validation passed; starting the workload");
  }
  if (e.phase == FailoverPhaseName(FailoverPhase::kChecking) ||
      e.phase == FailoverPhaseName(FailoverPhase::kDone)) {
    once("checking", at, "workload started; checking its health");
  }
  if (e.phase == FailoverPhaseName(FailoverPhase::kDone)) {
    once("done", e.completed_at,
         "health check passed: " + e.new_ssh_host + ":" + std::to_string(e.new_ssh_port) +
             " serves; MTTR " + Tenths(e.total_ms));
  }
  if (e.phase == FailoverPhaseName(FailoverPhase::kFailed)) {
    once("failed", e.completed_at, "failed while " + e.failure_phase + ": " + e.failure_reason);
  }
  return lines;
}

std::vector<std::string> MttrTable(const FailoverEvent& e, const std::string& column,
                                   const MttrHistory* history) {
  std::vector<std::string> lines;
  const size_t width = 28;
  auto right = [](const std::string& text) {  // aligned with Cell
    return text.size() >= 11 ? " " + text : std::string(11 - text.size(), ' ') + text;
  };
  std::string head = Padded("phase", width) + right(column);
  if (history != nullptr && history->count > 0) {
    head += right("p50") + right("p90") + "  (" + std::to_string(history->count) + " failover" +
            (history->count == 1 ? "" : "s") + ")";
  }
  lines.push_back(head);
  for (const auto& [key, label] : TablePhases()) {
    if (key == "snapshot_ms" && !e.planned) continue;
    std::string line = Padded(label, width) + Cell(static_cast<double>(PhaseMs(e, key)));
    if (history != nullptr && history->count > 0) {
      const Distribution& d = history->phases.at(key);
      line += Cell(d.p50) + Cell(d.p90);
    }
    lines.push_back(line);
  }
  char seed[160];
  std::snprintf(seed, sizeof(seed),
                "the seed's system: %.1f s measured, 68-88 s planned; this one: %.1f s (%.0f%% "
                "of the seed's)",
                kSeedMttrS, static_cast<double>(e.total_ms) / 1000.0,
                100.0 * static_cast<double>(e.total_ms) / 1000.0 / kSeedMttrS);
  lines.push_back(seed);
  return lines;
}

Result<DrillOutcome> RunDrill(ControllerContext* ctx, const DrillRequest& request,
                              const std::function<void(const std::string&)>& on_line) {
  ASSIGN_OR_RETURN(auto instance, ctx->state->GetProtectedInstance(request.name));
  if (!instance) return NotFoundError("no protected instance named " + request.name);
  if (!request.planned && instance->provider == "vast" && !request.yes) {
    return InvalidArgumentError("a kill drill destroys instance " + instance->provider_instance_id +
                                " through the Vast.ai API; add --yes, or drill with --planned");
  }
  DrillOutcome outcome;
  ASSIGN_OR_RETURN(outcome.request,
                   SubmitRequest(ctx, request.name, "drill", Trigger::kDrill, request.planned));
  if (!request.wait) return outcome;
  FailoverTimeline timeline(outcome.request.created_at);
  auto done = WaitForFailover(ctx, outcome.request.request_id, request.timeout,
                              [&](const FailoverEvent& row) {
                                for (const std::string& line : timeline.Update(row)) on_line(line);
                              });
  if (!done) return done.error();
  outcome.failover = *done;
  ASSIGN_OR_RETURN(auto events, ListEvents(ctx, request.name));
  outcome.history = CollectMttrHistory(events);
  return outcome;
}

}  // namespace standby
