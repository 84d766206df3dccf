#include <cstdio>

#include "cli/command.h"
#include "cli/provider_access.h"
#include "failover/metrics_report.h"
#include "failover/runtime.h"

namespace standby {

int RunMetrics(const std::vector<std::string>& args) {
  const std::string command = "metrics";
  auto inv = Prepare(command, args);
  if (!inv) return UsageError(command, inv.error().message, WantsJson(args));
  const std::string by = inv->Flag("by").value_or("snapshot_type");
  const std::optional<GroupBy> group_by = ParseGroupBy(by);
  if (!group_by) return UsageError(command, "--by takes snapshot_type or trigger", inv->json);
  auto runtime = OpenControllerRuntime(inv->config, RuntimeParts::kFleet);
  if (!runtime) return Fail(runtime.error(), inv->json);
  auto report = CollectMetrics(&(*runtime)->ctx, *group_by);
  if (!report) return Fail(report.error(), inv->json);
  if (inv->json) {
    PrintJson(MetricsJson(*report));
    return kExitOk;
  }
  const ReadinessReport& r = report->readiness;
  std::printf("Failovers by %s (MTTR = total_ms of successful failovers)\n", by.c_str());
  std::printf("  %-14s %6s %8s %10s %10s %10s\n", by.c_str(), "count", "success", "mean_ms",
              "p50_ms", "p90_ms");
  for (const FailoverSummary& s : report->failovers) {
    std::printf("  %-14s %6zu %7.0f%% %10.0f %10.0f %10.0f\n", s.group.c_str(), s.count,
                100 * s.success_rate, s.total_ms.mean, s.total_ms.p50, s.total_ms.p90);
    for (const auto& [name, d] : s.phases) {
      std::printf("    %-26s mean %8.0f  p50 %8.0f  p90 %8.0f\n", name.c_str(), d.mean, d.p50,
                  d.p90);
    }
  }
  if (r.ready > 0) {
    std::printf(
        "SSH ready on %s: %zu ready, %zu abandoned before ready (Kaplan-Meier p50 %.1f s, "
        "p90 %.1f s, never ready %.0f%%)\n",
        report->provider.c_str(), r.ready, r.samples - r.ready, r.p50_s.value_or(0),
        r.p90_s.value_or(0), 100 * r.never_ready_share);
  } else {
    std::printf("SSH ready on %s: no machine has become ready yet (%zu abandoned)\n",
                report->provider.c_str(), r.samples - r.ready);
  }
  std::printf("Race timeout: %.1f s, hedge after %.1f s (%s)\n", r.planned.round_timeout_s,
              r.planned.hedge_after_s,
              r.from_history ? "p90 + 10 s of the history"
                             : "the provider's defaults: fewer than 20 samples so far");
  for (const SnapshotAge& a : report->snapshot_ages) {
    if (a.age_ms < 0) {
      std::printf("Last snapshot of %s: never\n", a.instance_id.c_str());
    } else {
      std::printf("Last snapshot of %s: %lld minutes ago (%s)\n", a.instance_id.c_str(),
                  static_cast<long long>(a.age_ms / 60000), a.last_snapshot_id.c_str());
    }
  }
  return kExitOk;
}

}  // namespace standby
