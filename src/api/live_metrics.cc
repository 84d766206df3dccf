#include "api/live_metrics.h"

namespace standby {
namespace {

// From a small incremental snapshot to a large first one.
const std::vector<double>& SnapshotBuckets() {
  static const std::vector<double> b = {1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600};
  return b;
}

}  // namespace

void LiveMetrics::SnapshotFinished(const std::string& instance, const SnapshotRow* taken,
                                   int failures, const std::string& error) {
  (void)failures, (void)error;
  std::lock_guard<std::mutex> lock(mu_);
  snapshots_[{instance, taken ? "success" : "failure"}] += 1;
  if (!taken) return;
  uploaded_bytes_[instance] += static_cast<double>(taken->bytes_uploaded);
  const std::string kind = taken->snapshot_type == "full" ? "full" : "incremental";
  snapshot_seconds_[kind].Observe(SnapshotBuckets(), taken->duration_ms / 1000.0);
}

void LiveMetrics::HealthChecked(const std::string& instance, std::string_view result) {
  std::lock_guard<std::mutex> lock(mu_);
  health_checks_[{instance, std::string(result)}] += 1;
}

void LiveMetrics::Render(PrometheusText* out, const std::vector<std::string>& instances) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto health = health_checks_;
  auto snapshots = snapshots_;
  auto uploaded = uploaded_bytes_;
  for (const std::string& name : instances) {
    for (const char* result : {"ok", "fail", "timeout"}) health.try_emplace({name, result}, 0);
    for (const char* result : {"success", "failure"}) snapshots.try_emplace({name, result}, 0);
    uploaded.try_emplace(name, 0);
  }
  std::vector<std::pair<PrometheusText::Labels, double>> samples;
  for (const auto& [key, n] : health) {
    samples.push_back({{{"protected", key.first}, {"result", key.second}}, n});
  }
  out->Family("standby_health_checks_total", "counter",
              "Health probes of each instance by this controller, by result.", samples);
  samples.clear();
  for (const auto& [key, n] : snapshots) {
    samples.push_back({{{"protected", key.first}, {"result", key.second}}, n});
  }
  out->Family("standby_snapshots_total", "counter", "Snapshots the controller took, by result.",
              samples);
  samples.clear();
  for (const auto& [name, bytes] : uploaded) samples.push_back({{{"protected", name}}, bytes});
  out->Family("standby_snapshot_uploaded_bytes_total", "counter",
              "Bytes the controller's snapshots uploaded to the object store.", samples);
  std::vector<std::pair<PrometheusText::Labels, HistogramCounts>> series;
  for (const char* kind : {"full", "incremental"}) {
    auto it = snapshot_seconds_.find(kind);
    HistogramCounts counts = it != snapshot_seconds_.end() ? it->second : HistogramCounts{};
    series.push_back({{{"kind", kind}}, counts});
  }
  out->Histogram("standby_snapshot_duration_seconds", "Duration of the controller's snapshots.",
                 SnapshotBuckets(), series);
}

}  // namespace standby
