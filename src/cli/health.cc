#include "base/strings.h"
#include "cli/command.h"
#include "cli/remote.h"

namespace standby {
namespace {

std::string HealthLines(const nlohmann::json& h) {
  std::string out;
  auto line = [&](const std::string& text) { out += text + "\n"; };
  line("uptime: " + std::to_string(static_cast<int64_t>(h.value("uptime_s", 0.0))) + " s");
  if (h.contains("free_bytes") && h["free_bytes"].is_number()) {
    line("free space: " + HumanBytes(h["free_bytes"].get<uint64_t>()));
  } else {
    line("free space: unknown (workspace missing?)");
  }
  const nlohmann::json& gpus = h.value("gpus", nlohmann::json::array());
  if (gpus.empty()) line("GPUs: no GPU");
  for (const auto& gpu : gpus) line("GPU: " + gpu.get<std::string>());
  line(std::string("workload: ") + (h.value("workload_alive", false) ? "running" : "not running"));
  if (h.contains("workload_health")) {
    const nlohmann::json& w = h["workload_health"];
    line(std::string("workload health: ") + (w.value("ok", false) ? "ok" : "failing") + " (" +
         w.value("detail", "") + ")");
  }
  line("clock offset: " + std::to_string(h.value("clock_offset_ms", int64_t{0})) +
       " ms (host minus controller)");
  return out;
}

}  // namespace

int RunHealth(const std::vector<std::string>& args) {
  const std::string command = "health";
  auto inv = Prepare(command, args);
  if (!inv) return UsageError(command, inv.error().message, WantsJson(args));
  WorkloadSpec workload;
  workload.health_url = inv->Flag("health-url").value_or("");
  if (auto status = inv->Flag("expect-status")) {
    auto parsed = ParseUint(*status);
    if (!parsed || *parsed < 100 || *parsed > 599) {
      return UsageError(command, "--expect-status wants an HTTP status", inv->json);
    }
    workload.health_expect_status = static_cast<int>(*parsed);
  }
  workload.health_expect_body = inv->Flag("expect-body").value_or("");
  if (auto timeout = inv->Flag("timeout-ms")) {
    auto parsed = ParseUint(*timeout);
    if (!parsed || *parsed == 0) return UsageError(command, "bad --timeout-ms", inv->json);
    workload.health_timeout_ms = static_cast<int>(*parsed);
  }
  auto where = HostCommandFor(*inv, /*with_store=*/false);
  if (!where) return Fail(where.error(), inv->json);
  auto data = HealthOnHost(*where, inv->Flag("instance").value_or("default"),
                           inv->Flag("workspace").value_or(""), workload);
  if (!data) return Fail(data.error(), inv->json);
  if (!inv->json) std::fputs(HealthLines(*data).c_str(), stdout);
  bool healthy =
      !data->contains("workload_health") || (*data)["workload_health"].value("ok", false);
  if (!healthy) {
    return FailWithDetails(UnavailableError("the workload's health check failed"), inv->json,
                           *data);
  }
  if (inv->json) PrintJson(*data);
  return kExitOk;
}

}  // namespace standby
