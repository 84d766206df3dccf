#pragma once

#include <string>

#include "base/result.h"
#include "failover/controller_context.h"

namespace standby {

// GET /metrics (docs/manual.md, "Metrics"): the Prometheus text of what the state store
// knows — each protected instance's state (one-hot), last snapshot time (a timestamp, not
// an age), snapshot failures in a row and whether a failover runs; failovers by trigger
// and result, and histograms of their MTTR and of each phase (buckets 10 s … 30 min); the
// build; and this process's CPU, memory, descriptors and start time from /proc. The
// workload label is `protected`; no ids or hosts are labels.
Result<std::string> RenderMetrics(ControllerContext* ctx);

}  // namespace standby
