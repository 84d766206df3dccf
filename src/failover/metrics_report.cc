#include "failover/metrics_report.h"

namespace standby {
namespace {

using nlohmann::json;

json DistributionJson(const Distribution& d) {
  return {{"count", d.count}, {"mean", d.mean}, {"p50", d.p50}, {"p90", d.p90}};
}

json Millis(const std::optional<double>& seconds) {
  return seconds ? json(static_cast<int64_t>(*seconds * 1000)) : json(nullptr);
}

}  // namespace

Result<MetricsReport> CollectMetrics(ControllerContext* ctx, GroupBy by) {
  MetricsReport report;
  report.database = ctx->state->Describe();
  report.provider = ctx->fleet->provider()->Name();
  report.by = by;
  ASSIGN_OR_RETURN(auto events, ctx->state->ListFailoverEvents());
  ASSIGN_OR_RETURN(auto instances, ctx->state->ListProtectedInstances());
  report.readiness = ctx->fleet->Readiness();
  report.failovers = SummarizeFailovers(events, by);
  report.snapshot_ages = SnapshotAges(instances, NowMillis(ctx->clock));
  return report;
}

json MetricsJson(const MetricsReport& report) {
  const std::string by(GroupByName(report.by));
  json groups = json::array();
  for (const FailoverSummary& s : report.failovers) {
    json phases = json::object();
    for (const auto& [name, d] : s.phases) phases[name] = DistributionJson(d);
    groups.push_back({{by, s.group},
                      {"failovers", s.count},
                      {"succeeded", s.succeeded},
                      {"success_rate", s.success_rate},
                      {"total_ms", DistributionJson(s.total_ms)},
                      {"phases", phases}});
  }
  json ages = json::array();
  for (const SnapshotAge& a : report.snapshot_ages) {
    ages.push_back({{"instance_id", a.instance_id},
                    {"last_snapshot_id", a.last_snapshot_id},
                    {"age_ms", a.age_ms}});
  }
  const ReadinessReport& r = report.readiness;
  return {
      {"database", report.database},
      {"by", by},
      {"failover_summary", groups},
      {"provider", report.provider},
      {"ssh_ready_ms", {{"count", r.ready}, {"p50", Millis(r.p50_s)}, {"p90", Millis(r.p90_s)}}},
      {"censored", r.samples - r.ready},
      {"never_ready_share", r.ready > 0 ? json(r.never_ready_share) : json(nullptr)},
      {"suggested_ready_timeout_ms", static_cast<int64_t>(r.planned.round_timeout_s * 1000)},
      {"hedge_after_ms", static_cast<int64_t>(r.planned.hedge_after_s * 1000)},
      {"timings_from", r.from_history ? "history" : "defaults"},
      {"last_snapshot_age", ages}};
}

}  // namespace standby
