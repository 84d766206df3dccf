#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "failover/controller_context.h"
#include "state/metrics.h"

namespace standby {

// `standby drill NAME`: a deliberate failure of a protected instance, recovered by the
// running controller exactly as a real one and recorded with trigger `drill`.
struct DrillRequest {
  std::string name;
  bool planned = false;  // a planned move (final snapshot first, RPO 0) instead of a kill
  bool yes = false;      // consent to destroy a Vast.ai instance through the API
  bool wait = false;     // follow it to its end
  std::chrono::seconds timeout{1800};
};

// The instance's successful failovers (drills included, first placements not): the
// distribution of the MTTR and of each phase, keyed by failover_events column.
struct MttrHistory {
  size_t count = 0;
  std::map<std::string, Distribution> phases;  // detection_ms, ..., total_ms
};

struct DrillOutcome {
  RequestRow request;
  std::optional<FailoverEvent> failover;  // with `wait`: the finished failover
  MttrHistory history;                    // with `wait`: this drill included
};

// Submits the drill to the running controller (kUnavailable when none runs; a kill drill of
// a Vast.ai instance needs `yes`), and with `wait` follows it, passing each timeline line to
// `on_line`. A failed drill is an outcome with its failover, not an error.
Result<DrillOutcome> RunDrill(ControllerContext* ctx, const DrillRequest& request,
                              const std::function<void(const std::string&)>& on_line);

MttrHistory CollectMttrHistory(const std::vector<FailoverEvent>& events);

// The live timeline of one failover: feed it each new version of the row; it returns the
// lines of what happened since the last one (detected, fenced, race won, restore %,
// validated, workload started, health check passed), timed from `origin_ms`.
class FailoverTimeline {
 public:
  explicit FailoverTimeline(int64_t origin_ms) : origin_ms_(origin_ms) {}
  std::vector<std::string> Update(const FailoverEvent& row);

 private:
  std::string At(int64_t ms) const;
  int64_t origin_ms_;
  std::set<std::string> said_;
  int last_percent_ = -1;
};

// The MTTR table: one failover's phases in a column headed `column`, beside the p50/p90 of
// `history` (when given), and the seed's 107.9 s measured / 68-88 s planned.
std::vector<std::string> MttrTable(const FailoverEvent& e, const std::string& column,
                                   const MttrHistory* history);

}  // namespace standby
