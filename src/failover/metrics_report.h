#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "failover/controller_context.h"
#include "provision/fleet.h"
#include "state/metrics.h"

namespace standby {

// What `standby metrics` (and later the HTTP API) reports: failovers per group with MTTR and
// phase distributions, the provider's SSH-ready model with the timings the next race uses
// (the same Kaplan–Meier estimate the race plans from), and every instance's snapshot age.
struct MetricsReport {
  std::string database;
  std::string provider;
  GroupBy by = GroupBy::kSnapshotType;
  std::vector<FailoverSummary> failovers;
  ReadinessReport readiness;
  std::vector<SnapshotAge> snapshot_ages;
};

Result<MetricsReport> CollectMetrics(ControllerContext* ctx, GroupBy by);

// The report as `metrics --json` prints it (docs/manual.md, "metrics").
nlohmann::json MetricsJson(const MetricsReport& report);

}  // namespace standby
