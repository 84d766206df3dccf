#pragma once

#include <string>

#include "api/live_metrics.h"
#include "base/result.h"
#include "failover/controller_context.h"

namespace standby {

// GET /metrics (docs/manual.md, "Metrics"): the Prometheus text of what the state store
// knows — each protected instance's state (one-hot), last snapshot time (a timestamp, not
// an age), snapshot failures in a row and whether a failover runs; failovers by trigger
// and result, and histograms of their MTTR and of each phase (buckets 10 s … 30 min); the
// build; and this process's CPU, memory, descriptors and start time from /proc. The
// workload label is `protected`; no ids or hosts are labels. Then what only this process
// knows: `live` counters (when given), requests to providers' APIs, the API's own.
struct ApiCounters {
  const LiveMetrics* live = nullptr;
  double auth_failures = 0;
  double sse_clients = 0;
};
Result<std::string> RenderMetrics(ControllerContext* ctx, const ApiCounters& counters = {});

}  // namespace standby
