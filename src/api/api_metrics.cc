#include "api/api_metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <tuple>

#include "api/prometheus_text.h"
#include "base/version.h"
#include "failover/vocabulary.h"
#include "provider/provider_metrics.h"
#include "state/metrics.h"

namespace standby {
namespace {

// Straddling the seed's 68-120 s, from 10 s to 30 min.
const std::vector<double>& MttrBuckets() {
  static const std::vector<double> b = {10, 20, 30, 45, 60, 75, 90, 120, 180, 300, 600, 1800};
  return b;
}
const std::vector<double>& PhaseBuckets() {
  static const std::vector<double> b = {0.5, 1, 2, 5, 10, 20, 30, 45, 60, 90, 120, 300, 600};
  return b;
}

void ProcessMetrics(PrometheusText* out) {
  // /proc/self/stat: utime and stime (fields 14, 15) in clock ticks, starttime (22) in ticks
  // since boot, vsize (23) in bytes, rss (24) in pages.
  std::ifstream stat("/proc/self/stat");
  std::string line;
  std::getline(stat, line);
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return;
  std::istringstream fields(line.substr(close + 2));
  std::vector<std::string> f((std::istream_iterator<std::string>(fields)),
                             std::istream_iterator<std::string>());
  if (f.size() < 22) return;  // f[0] is field 3
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double cpu = (std::stod(f[11]) + std::stod(f[12])) / ticks;
  double boot_time = 0;
  std::ifstream proc_stat("/proc/stat");
  for (std::string l; std::getline(proc_stat, l);) {
    if (l.rfind("btime ", 0) == 0) boot_time = std::stod(l.substr(6));
  }
  const double start = boot_time + std::stod(f[19]) / ticks;
  const double vsize = std::stod(f[20]);
  const double rss = std::stod(f[21]) * static_cast<double>(::sysconf(_SC_PAGESIZE));
  size_t fds = 0;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (const dirent* e = ::readdir(dir)) fds += e->d_name[0] != '.';
    ::closedir(dir);
  }
  out->Family("process_cpu_seconds_total", "counter", "User and system CPU time spent.",
              {{{}, cpu}});
  out->Family("process_resident_memory_bytes", "gauge", "Resident memory size.", {{{}, rss}});
  out->Family("process_virtual_memory_bytes", "gauge", "Virtual memory size.", {{{}, vsize}});
  out->Family("process_open_fds", "gauge", "Open file descriptors.",
              {{{}, static_cast<double>(fds)}});
  out->Family("process_start_time_seconds", "gauge", "Start time since the Unix epoch.",
              {{{}, start}});
}

}  // namespace

Result<std::string> RenderMetrics(ControllerContext* ctx, const ApiCounters& counters) {
  ASSIGN_OR_RETURN(auto instances, ctx->state->ListProtectedInstances());
  ASSIGN_OR_RETURN(auto events, ctx->state->ListFailoverEvents({}));
  PrometheusText out;
  out.Family("standby_build_info", "gauge", "The running standby's version.",
             {{{{"version", kStandbyVersion}}, 1}});

  std::vector<std::pair<PrometheusText::Labels, double>> state, snapshot_at, snapshot_failures,
      in_progress;
  for (const ProtectedInstance& p : instances) {
    for (ProtectionState s :
         {ProtectionState::kPlacing, ProtectionState::kHealthy, ProtectionState::kSuspect,
          ProtectionState::kFailingOver, ProtectionState::kFailed, ProtectionState::kPaused}) {
      const std::string name(ProtectionStateName(s));
      state.push_back(
          {{{"protected", p.instance_id}, {"state", name}}, p.status == name ? 1.0 : 0.0});
    }
    if (p.last_snapshot_at > 0) {
      snapshot_at.push_back({{{"protected", p.instance_id}}, p.last_snapshot_at / 1000.0});
    }
    snapshot_failures.push_back(
        {{{"protected", p.instance_id}}, static_cast<double>(p.consecutive_snapshot_failures)});
    in_progress.push_back(
        {{{"protected", p.instance_id}},
         p.status == ProtectionStateName(ProtectionState::kFailingOver) ? 1.0 : 0.0});
  }
  out.Family("standby_instance_state", "gauge", "Each protected instance's state (one-hot).",
             state);
  out.Family("standby_last_snapshot_success_timestamp_seconds", "gauge",
             "When the instance's last snapshot succeeded (Unix seconds).", snapshot_at);
  out.Family("standby_snapshot_consecutive_failures", "gauge",
             "Periodic snapshots that failed in a row.", snapshot_failures);
  out.Family("standby_failover_in_progress", "gauge", "1 while a failover of the instance runs.",
             in_progress);

  std::map<std::tuple<std::string, std::string, std::string>, double> counts;
  std::map<std::string, std::vector<double>> mttr;  // by trigger
  std::map<std::string, std::vector<double>> phases;
  for (const FailoverEvent& e : events) {
    if (e.completed_at == 0 || e.trigger == TriggerName(Trigger::kInitial)) continue;
    counts[{e.instance_id, e.trigger, e.success ? "success" : "failure"}] += 1;
    if (!e.success) continue;
    mttr[e.trigger].push_back(e.total_ms / 1000.0);
    for (const PhaseColumn& c : FailoverPhaseColumns()) {
      const std::string phase = c.label;
      // Phases that did not run are no observation: a final snapshot outside planned moves,
      // detection of a move an operator asked for.
      if (phase == "final_snapshot" && !e.planned) continue;
      if (phase == "detection" && (e.planned || e.trigger == TriggerName(Trigger::kManual))) {
        continue;
      }
      phases[phase].push_back(e.*c.ms / 1000.0);
    }
  }
  std::vector<std::pair<PrometheusText::Labels, double>> failovers;
  for (const auto& [key, n] : counts) {
    const auto& [instance, trigger, result] = key;
    failovers.push_back({{{"protected", instance}, {"trigger", trigger}, {"result", result}}, n});
  }
  out.Family("standby_failovers_total", "counter", "Finished failovers by trigger and result.",
             failovers);
  std::vector<std::pair<PrometheusText::Labels, std::vector<double>>> mttr_series, phase_series;
  for (auto& [trigger, values] : mttr) mttr_series.push_back({{{"trigger", trigger}}, values});
  for (auto& [phase, values] : phases) phase_series.push_back({{{"phase", phase}}, values});
  out.Histogram("standby_failover_duration_seconds",
                "MTTR of successful failovers: first failed probe to a passing health check.",
                MttrBuckets(), mttr_series);
  out.Histogram("standby_failover_phase_duration_seconds",
                "Duration of each phase of successful failovers.", PhaseBuckets(), phase_series);
  if (counters.live) {
    std::vector<std::string> names;
    for (const ProtectedInstance& p : instances) names.push_back(p.instance_id);
    counters.live->Render(&out, names);
  }
  std::vector<std::pair<PrometheusText::Labels, double>> requests;
  for (const auto& [key, n] : ProviderRequestCounts()) {
    requests.push_back(
        {{{"provider", key.provider}, {"operation", key.operation}, {"code_class", key.code_class}},
         n});
  }
  out.Family("standby_provider_requests_total", "counter",
             "Requests to providers' HTTP APIs, by answer (429: rate limited; error: none).",
             requests);
  out.Family("standby_http_auth_failures_total", "counter",
             "API requests refused for a missing or wrong token.", {{{}, counters.auth_failures}});
  out.Family("standby_sse_clients", "gauge", "Event streams open.", {{{}, counters.sse_clients}});
  ProcessMetrics(&out);
  return out.text();
}

}  // namespace standby
