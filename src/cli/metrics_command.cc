#include <cstdio>

#include "cli/command.h"
#include "cli/provider_access.h"
#include "env/clock.h"
#include "state/metrics.h"

namespace standby {
namespace {

nlohmann::json DistributionJson(const Distribution& d) {
  return {{"count", d.count}, {"mean", d.mean}, {"p50", d.p50}, {"p90", d.p90}};
}

nlohmann::json Millis(const std::optional<double>& seconds) {
  return seconds ? nlohmann::json(static_cast<int64_t>(*seconds * 1000)) : nlohmann::json(nullptr);
}

}  // namespace

int RunMetrics(const std::vector<std::string>& args) {
  const std::string command = "metrics";
  auto specs = ProviderFlagSpecs();
  specs.push_back({"by", true, ""});
  auto inv = Prepare(command, args, specs, 0);
  if (!inv) return UsageError(command, inv.error().message, false);
  std::string by = inv->Flag("by").value_or("snapshot_type");
  if (by != "snapshot_type" && by != "trigger") {
    return UsageError(command, "--by takes snapshot_type or trigger", inv->json);
  }
  auto opened = OpenFleet(*inv);
  if (!opened) return Fail(opened.error(), inv->json);
  StateStore* store = opened->state.get();
  auto events = store->ListFailoverEvents();
  if (!events) return Fail(events.error(), inv->json);
  auto instances = store->ListProtectedInstances();
  if (!instances) return Fail(instances.error(), inv->json);
  auto readiness = opened->fleet->Readiness();
  if (!readiness) return Fail(readiness.error(), inv->json);
  auto summary =
      SummarizeFailovers(*events, by == "trigger" ? GroupBy::kTrigger : GroupBy::kSnapshotType);
  auto ages = SnapshotAges(*instances, NowMillis(Clock::Real()));
  const ReadinessReport& r = *readiness;
  const int64_t timeout_ms = static_cast<int64_t>(r.planned.round_timeout_s * 1000);

  if (inv->json) {
    nlohmann::json groups = nlohmann::json::array();
    for (const FailoverSummary& s : summary) {
      nlohmann::json phases = nlohmann::json::object();
      for (const auto& [name, d] : s.phases) phases[name] = DistributionJson(d);
      groups.push_back({{by, s.group},
                        {"failovers", s.count},
                        {"succeeded", s.succeeded},
                        {"success_rate", s.success_rate},
                        {"total_ms", DistributionJson(s.total_ms)},
                        {"phases", phases}});
    }
    nlohmann::json jages = nlohmann::json::array();
    for (const SnapshotAge& a : ages) {
      jages.push_back({{"instance_id", a.instance_id},
                       {"last_snapshot_id", a.last_snapshot_id},
                       {"age_ms", a.age_ms}});
    }
    PrintJson(
        {{"database", store->Describe()},
         {"by", by},
         {"failover_summary", groups},
         {"provider", opened->fleet->provider()->Name()},
         {"ssh_ready_ms", {{"count", r.ready}, {"p50", Millis(r.p50_s)}, {"p90", Millis(r.p90_s)}}},
         {"censored", r.samples - r.ready},
         {"never_ready_share",
          r.ready > 0 ? nlohmann::json(r.never_ready_share) : nlohmann::json(nullptr)},
         {"suggested_ready_timeout_ms", timeout_ms},
         {"hedge_after_ms", static_cast<int64_t>(r.planned.hedge_after_s * 1000)},
         {"timings_from", r.from_history ? "history" : "defaults"},
         {"last_snapshot_age", jages}});
    return kExitOk;
  }
  std::printf("Failovers by %s (MTTR = total_ms of successful failovers)\n", by.c_str());
  std::printf("  %-14s %6s %8s %10s %10s %10s\n", by.c_str(), "count", "success", "mean_ms",
              "p50_ms", "p90_ms");
  for (const FailoverSummary& s : summary) {
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
        opened->fleet->provider()->Name().c_str(), r.ready, r.samples - r.ready,
        r.p50_s.value_or(0), r.p90_s.value_or(0), 100 * r.never_ready_share);
  } else {
    std::printf("SSH ready on %s: no machine has become ready yet (%zu abandoned)\n",
                opened->fleet->provider()->Name().c_str(), r.samples - r.ready);
  }
  std::printf("Race timeout: %.1f s, hedge after %.1f s (%s)\n", r.planned.round_timeout_s,
              r.planned.hedge_after_s,
              r.from_history ? "p90 + 10 s of the history"
                             : "the provider's defaults: fewer than 20 samples so far");
  for (const SnapshotAge& a : ages) {
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
