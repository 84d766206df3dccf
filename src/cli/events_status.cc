#include "base/strings.h"
#include "cli/command.h"
#include "failover/operations.h"
#include "failover/runtime.h"

namespace standby {
namespace {

std::string Age(const nlohmann::json& seconds) {
  if (seconds.is_null()) return "never";
  int64_t s = seconds.get<int64_t>();
  if (s < 120) return std::to_string(s) + " seconds ago";
  if (s < 7200) return std::to_string(s / 60) + " minutes ago";
  return std::to_string(s / 3600) + " hours ago";
}

}  // namespace

// `standby status [NAME]`: every protected instance (or one) as the state store has it.
int RunStatus(const std::vector<std::string>& args) {
  const std::string command = "status";
  auto inv = Prepare(command, args);
  if (!inv) return UsageError(command, inv.error().message, WantsJson(args));
  auto runtime = OpenControllerRuntime(inv->config, RuntimeParts::kState);
  if (!runtime) return Fail(runtime.error(), inv->json);
  auto report = StatusReport(&(*runtime)->ctx, inv->positional.empty() ? "" : inv->positional[0]);
  if (!report) return Fail(report.error(), inv->json);
  if (inv->json) {
    PrintJson(*report);
    return kExitOk;
  }
  const nlohmann::json& r = *report;
  if (r["controller"].is_null()) {
    std::printf("Controller: none running (start `standby serve`)\n");
  } else {
    std::printf("Controller: %s (pid %lld on %s)\n",
                r["controller"]["name"].get<std::string>().c_str(),
                static_cast<long long>(r["controller"]["pid"].get<int64_t>()),
                r["controller"]["hostname"].get<std::string>().c_str());
  }
  if (r["instances"].empty()) std::printf("No protected instances (see `standby protect`).\n");
  for (const nlohmann::json& i : r["instances"]) {
    std::string state = i["state"].get<std::string>();
    if (!i["phase"].is_null()) {
      state += " (" + i["phase"].get<std::string>();
      if (i["phase"] == "restoring") {
        state += " " + std::to_string(static_cast<int>(i["progress"].get<double>())) + "%";
      }
      state += ")";
    }
    std::printf("%s: %s\n", i["name"].get<std::string>().c_str(), state.c_str());
    std::printf("  Host: %s:%d (%s %s)\n", i["ssh_host"].get<std::string>().c_str(),
                i["ssh_port"].get<int>(), i["provider"].get<std::string>().c_str(),
                i["provider_instance_id"].get<std::string>().c_str());
    std::printf(
        "  Last snapshot: %s%s\n", Age(i["last_snapshot_age_s"]).c_str(),
        i["snapshot_failures"].get<int>() > 0
            ? (" (" + std::to_string(i["snapshot_failures"].get<int>()) + " failed since)").c_str()
            : "");
    std::printf(
        "  Failovers: %d%s\n", i["failovers"].get<int>(),
        i["last_mttr_ms"].is_null()
            ? ""
            : (", last MTTR " +
               std::to_string(i["last_mttr_ms"].get<int64_t>() / 100 / 10.0).substr(0, 5) + " s")
                  .c_str());
    std::printf("  %s\n", i["health_detail"].get<std::string>().c_str());
    for (const nlohmann::json& f : i["fence_pending"]) {
      std::printf("  FENCE %s: old host %s:%d (%s) of failover %s: %s\n",
                  f["fence"] == "waiting" ? "WAITING (the new workload waits for it)"
                                          : "PENDING (the controller keeps trying)",
                  f["ssh_host"].get<std::string>().c_str(), f["ssh_port"].get<int>(),
                  f["provider_instance_id"].get<std::string>().c_str(),
                  f["failover_id"].get<std::string>().c_str(),
                  EscapeControl(f["detail"].get<std::string>()).c_str());
    }
  }
  return kExitOk;
}

// `standby events [NAME]`: failover history, newest first, every column.
int RunEvents(const std::vector<std::string>& args) {
  const std::string command = "events";
  auto inv = Prepare(command, args);
  if (!inv) return UsageError(command, inv.error().message, WantsJson(args));
  auto runtime = OpenControllerRuntime(inv->config, RuntimeParts::kState);
  if (!runtime) return Fail(runtime.error(), inv->json);
  auto events = ListEvents(&(*runtime)->ctx, inv->positional.empty() ? "" : inv->positional[0]);
  if (!events) return Fail(events.error(), inv->json);
  if (inv->json) {
    nlohmann::json list = nlohmann::json::array();
    for (const FailoverEvent& e : *events) list.push_back(FailoverEventJson(e));
    PrintJson({{"events", list}});
    return kExitOk;
  }
  std::printf("%-18s %-10s %-18s %-9s %9s %9s %9s %9s %9s %9s %9s\n", "FAILOVER", "INSTANCE",
              "TRIGGER", "RESULT", "MTTR_ms", "detect", "race", "restore", "validate", "start",
              "check");
  for (const FailoverEvent& e : *events) {
    std::string result = e.completed_at == 0 ? e.phase : (e.success ? "ok" : "failed");
    std::printf("%-18s %-10s %-18s %-9s %9lld %9lld %9lld %9lld %9lld %9lld %9lld\n",
                e.failover_id.c_str(), e.instance_id.c_str(), e.trigger.c_str(), result.c_str(),
                static_cast<long long>(e.total_ms), static_cast<long long>(e.detection_ms),
                static_cast<long long>(e.gpu_provisioning_time_ms),
                static_cast<long long>(e.restore_ms), static_cast<long long>(e.validation_ms),
                static_cast<long long>(e.workload_start_ms),
                static_cast<long long>(e.health_check_ms));
    if (!e.success && e.completed_at > 0) {
      std::printf("    failed while %s: %s\n", e.failure_phase.c_str(), e.failure_reason.c_str());
    }
  }
  return kExitOk;
}

}  // namespace standby
