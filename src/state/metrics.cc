#include "state/metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "base/enum_names.h"

namespace standby {
namespace {

constexpr EnumName<GroupBy> kGroupBys[] = {{GroupBy::kSnapshotType, "snapshot_type"},
                                           {GroupBy::kTrigger, "trigger"}};

double NearestRank(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return static_cast<double>(sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1]);
}

}  // namespace

std::string_view GroupByName(GroupBy by) { return NameIn<GroupBy>(kGroupBys, by); }
std::optional<GroupBy> ParseGroupBy(std::string_view name) {
  return ParseIn<GroupBy>(kGroupBys, name);
}

Distribution Summarize(std::vector<int64_t> values) {
  Distribution d;
  d.count = values.size();
  if (values.empty()) return d;
  std::sort(values.begin(), values.end());
  d.mean = static_cast<double>(std::accumulate(values.begin(), values.end(), int64_t{0})) /
           static_cast<double>(values.size());
  d.p50 = NearestRank(values, 50);
  d.p90 = NearestRank(values, 90);
  return d;
}

std::vector<FailoverSummary> SummarizeFailovers(const std::vector<FailoverEvent>& events,
                                                GroupBy by) {
  std::map<std::string, std::vector<const FailoverEvent*>> groups;
  for (const FailoverEvent& e : events) {
    std::string key = by == GroupBy::kTrigger ? e.trigger : e.snapshot_type;
    groups[key.empty() ? "unknown" : key].push_back(&e);
  }
  std::vector<FailoverSummary> out;
  for (const auto& [group, members] : groups) out.push_back(SummarizeGroup(group, members));
  return out;
}

const std::vector<PhaseColumn>& FailoverPhaseColumns() {
  static const std::vector<PhaseColumn> columns = {
      {"detection_ms", &FailoverEvent::detection_ms, "detection"},
      {"snapshot_ms", &FailoverEvent::snapshot_ms, "final_snapshot"},
      {"gpu_provisioning_time_ms", &FailoverEvent::gpu_provisioning_time_ms, "provisioning"},
      {"restore_ms", &FailoverEvent::restore_ms, "restore"},
      {"validation_ms", &FailoverEvent::validation_ms, "validation"},
      {"workload_start_ms", &FailoverEvent::workload_start_ms, "workload_start"},
      {"health_check_ms", &FailoverEvent::health_check_ms, "health_check"}};
  return columns;
}

FailoverSummary SummarizeGroup(std::string group, const std::vector<const FailoverEvent*>& events) {
  FailoverSummary s;
  s.group = std::move(group);
  s.count = events.size();
  std::map<std::string, std::vector<int64_t>> phases;
  std::vector<int64_t> totals;
  for (const FailoverEvent* e : events) {
    if (!e->success) continue;
    ++s.succeeded;
    totals.push_back(e->total_ms);
    for (const PhaseColumn& c : FailoverPhaseColumns()) phases[c.column].push_back(e->*c.ms);
  }
  s.success_rate = s.count ? static_cast<double>(s.succeeded) / static_cast<double>(s.count) : 0;
  s.total_ms = Summarize(std::move(totals));
  for (auto& [name, values] : phases) s.phases[name] = Summarize(std::move(values));
  return s;
}

std::vector<SnapshotAge> SnapshotAges(const std::vector<ProtectedInstance>& instances,
                                      int64_t now_ms) {
  std::vector<SnapshotAge> out;
  for (const ProtectedInstance& p : instances) {
    out.push_back({p.instance_id, p.last_snapshot_id,
                   p.last_snapshot_at > 0 ? now_ms - p.last_snapshot_at : -1});
  }
  return out;
}

}  // namespace standby
