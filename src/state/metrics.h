#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "state/state_store.h"

namespace standby {

struct Distribution {
  size_t count = 0;
  double mean = 0;
  double p50 = 0;
  double p90 = 0;
};

// Nearest-rank percentiles (p in 0..100) of `values`; empty input gives zeros.
Distribution Summarize(std::vector<int64_t> values);

struct FailoverSummary {
  std::string group;  // the snapshot_type or trigger value
  size_t count = 0;
  size_t succeeded = 0;
  double success_rate = 0;
  Distribution total_ms;                       // the MTTR, successful failovers only
  std::map<std::string, Distribution> phases;  // detection_ms, gpu_provisioning_time_ms, ...
};

enum class GroupBy { kSnapshotType, kTrigger };
std::string_view GroupByName(GroupBy by);  // "snapshot_type" | "trigger"
std::optional<GroupBy> ParseGroupBy(std::string_view name);

// The phase columns of failover_events (what FailoverSummary::phases is keyed by), in the
// order a failover runs them.
struct PhaseColumn {
  const char* column;  // "detection_ms", ...
  int64_t FailoverEvent::*ms;
  const char* label;  // the phase as metrics and the dashboard name it: "detection", ...
};
const std::vector<PhaseColumn>& FailoverPhaseColumns();

// Failover counts, success rate and MTTR/phase distributions per group.
std::vector<FailoverSummary> SummarizeFailovers(const std::vector<FailoverEvent>& events,
                                                GroupBy by);
// The same for one group of failovers.
FailoverSummary SummarizeGroup(std::string group, const std::vector<const FailoverEvent*>& events);

struct SnapshotAge {
  std::string instance_id;
  std::string last_snapshot_id;
  int64_t age_ms = -1;  // -1: never snapshotted
};
std::vector<SnapshotAge> SnapshotAges(const std::vector<ProtectedInstance>& instances,
                                      int64_t now_ms);

}  // namespace standby
