#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "api/prometheus_text.h"
#include "failover/controller_observer.h"

namespace standby {

// The counters of GET /metrics that no table holds: what this controller process saw since
// it started (Prometheus counters restart at 0 with the process; rate() copes). Health
// checks by result, snapshots by result, bytes uploaded, and snapshot durations by kind.
// Known instances' series are written at 0 before their first event. Thread-safe.
class LiveMetrics : public ControllerObserver {
 public:
  void SnapshotFinished(const std::string& instance, const SnapshotRow* taken, int failures,
                        const std::string& error) override;
  void HealthChecked(const std::string& instance, std::string_view result) override;

  // Appends the families; `instances` are the protected instances to show at 0.
  void Render(PrometheusText* out, const std::vector<std::string>& instances) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, double> health_checks_;  // (protected, result)
  std::map<std::pair<std::string, std::string>, double> snapshots_;      // (protected, result)
  std::map<std::string, double> uploaded_bytes_;                         // by protected
  std::map<std::string, HistogramCounts> snapshot_seconds_;              // by kind
};

}  // namespace standby
