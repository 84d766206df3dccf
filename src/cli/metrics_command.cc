#include <cstdio>

#include "cli/command.h"
#include "cli/state_access.h"
#include "env/clock.h"
#include "state/metrics.h"

namespace standby {
namespace {

nlohmann::json DistributionJson(const Distribution& d) {
  return {{"count", d.count}, {"mean", d.mean}, {"p50", d.p50}, {"p90", d.p90}};
}

}  // namespace

int RunMetrics(const std::vector<std::string>& args) {
  const std::string command = "metrics";
  auto inv = Prepare(command, args, {{"by", true, ""}, {"state-dir", true, "state_dir"}}, 0);
  if (!inv) return UsageError(command, inv.error().message, false);
  std::string by = inv->Flag("by").value_or("snapshot_type");
  if (by != "snapshot_type" && by != "trigger") {
    return UsageError(command, "--by takes snapshot_type or trigger", inv->json);
  }
  auto store = OpenStateFor(*inv);
  if (!store) return Fail(store.error(), inv->json);
  (*store)->Flush().IgnoreError();  // best effort: show what the database has
  auto events = (*store)->ListFailoverEvents();
  if (!events) return Fail(events.error(), inv->json);
  auto attempts = (*store)->ListProvisioningAttempts("");
  if (!attempts) return Fail(attempts.error(), inv->json);
  auto instances = (*store)->ListProtectedInstances();
  if (!instances) return Fail(instances.error(), inv->json);
  auto summary =
      SummarizeFailovers(*events, by == "trigger" ? GroupBy::kTrigger : GroupBy::kSnapshotType);
  ReadinessSummary readiness = SummarizeReadiness(*attempts);
  int64_t now_ms = Clock::Real()->Now() / 1'000'000;
  auto ages = SnapshotAges(*instances, now_ms);

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
    PrintJson({{"database", (*store)->Describe()},
               {"by", by},
               {"failover_summary", groups},
               {"ssh_ready_ms", DistributionJson(readiness.ready_ms)},
               {"never_ready", readiness.never_ready},
               {"suggested_ready_timeout_ms", readiness.suggested_timeout_ms},
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
  std::printf(
      "SSH ready: %zu ready (p50 %.0f ms, p90 %.0f ms), %zu never ready; suggested timeout %lld "
      "ms\n",
      readiness.ready_ms.count, readiness.ready_ms.p50, readiness.ready_ms.p90,
      readiness.never_ready, static_cast<long long>(readiness.suggested_timeout_ms));
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
