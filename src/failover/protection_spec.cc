#include "failover/protection_spec.h"

#include "base/enum_names.h"
#include "base/json_fields.h"
#include "base/strings.h"
#include "snapshot/repository.h"

namespace standby {
namespace {

using nlohmann::json;

constexpr int64_t kMaxSeconds = int64_t{365} * 24 * 3600;

constexpr EnumName<FenceUnconfirmed> kFenceUnconfirmed[] = {
    {FenceUnconfirmed::kProceed, "proceed"},
    {FenceUnconfirmed::kWait, "wait"},
};

// The checks beyond each field's range (ValidateSpec and SpecFromJson share them).
Status CheckSpec(const ProtectionSpec& s);

}  // namespace

std::string_view FenceUnconfirmedName(FenceUnconfirmed f) {
  return NameIn<FenceUnconfirmed>(kFenceUnconfirmed, f);
}
std::optional<FenceUnconfirmed> ParseFenceUnconfirmed(std::string_view name) {
  return ParseIn<FenceUnconfirmed>(kFenceUnconfirmed, name);
}

json SpecToJson(const ProtectionSpec& s) {
  json env = json::object();
  for (const auto& [name, value] : s.workload.env) env[name] = value;
  const FailoverPolicy& p = s.policy;
  return {{"name", s.name},
          {"repo", s.repo},
          {"workspace", s.workspace},
          {"filter",
           {{"gpu_names", s.filter.gpu_names},
            {"gpu_count", s.filter.gpu_count},
            {"min_gpu_ram_gb", s.filter.min_gpu_ram_gb},
            {"max_price_per_hour", s.filter.max_price_per_hour},
            {"min_reliability", s.filter.min_reliability},
            {"min_download_mbps", s.filter.min_download_mbps},
            {"region", s.filter.region},
            {"limit", s.filter.limit}}},
          {"image", s.image},
          {"disk_gb", s.disk_gb},
          {"ssh_user", s.ssh_user},
          {"workload",
           {{"command", s.workload.command},
            {"env", env},
            {"health_url", s.workload.health_url},
            {"health_expect_status", s.workload.health_expect_status},
            {"health_expect_body", s.workload.health_expect_body},
            {"health_timeout_ms", s.workload.health_timeout_ms},
            {"grace_seconds", s.workload.grace_seconds},
            {"check_command", s.workload.check_command}}},
          {"snapshot_every_s", s.snapshot_every.count()},
          {"keep_last", s.keep_last},
          {"drill_every_s", s.drill_every.count()},
          {"drill_kill", s.drill_kill},
          {"policy",
           {{"probe_interval_ms", p.probe_interval.count()},
            {"probe_timeout_ms", p.probe_timeout.count()},
            {"dead_after", p.dead_after},
            {"max_restarts", p.max_restarts},
            {"restart_window_s", p.restart_window.count()},
            {"health_timeout_s", p.health_timeout.count()},
            {"final_snapshot_timeout_s", p.final_snapshot_timeout.count()},
            {"max_attempts", p.max_attempts},
            {"retry_backoff_s", p.retry_backoff.count()},
            {"direct_probe", p.direct_probe},
            {"speculative_race", p.speculative_race},
            {"speculative_window_s", p.speculative_window.count()},
            {"fence_unconfirmed", FenceUnconfirmedName(p.fence_unconfirmed)}}}};
}

Result<ProtectionSpec> SpecFromJson(const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const std::exception& e) {
    return CorruptionError(std::string("stored protection spec is not JSON: ") + e.what());
  }
  ProtectionSpec s;
  JsonFields f(j, "protection spec");
  s.name = f.String("name", 63);
  s.repo = f.String("repo");
  s.workspace = f.String("workspace");
  JsonFields filter(f.Object("filter"), "protection spec filter");
  s.filter.gpu_names = filter.Strings("gpu_names");
  s.filter.gpu_count = static_cast<int>(filter.Int("gpu_count", 0, 64));
  s.filter.min_gpu_ram_gb = filter.Number("min_gpu_ram_gb", 0, 1e6);
  s.filter.max_price_per_hour = filter.Number("max_price_per_hour", 0, 1e6);
  s.filter.min_reliability = filter.Number("min_reliability", 0, 1);
  s.filter.min_download_mbps = filter.Number("min_download_mbps", 0, 1e9);
  s.filter.region = filter.String("region", 64);
  s.filter.limit = static_cast<int>(filter.Int("limit", 0, 10000));
  s.image = f.String("image");
  s.disk_gb = static_cast<int>(f.Int("disk_gb", 1, 1 << 20));
  s.ssh_user = f.String("ssh_user", 64);
  JsonFields w(f.Object("workload"), "protection spec workload");
  s.workload.command = w.String("command", 65536);
  const json& env = w.Object("env");
  for (const auto& [name, value] : env.items()) {
    if (!value.is_string()) return CorruptionError("protection spec: workload env is not text");
    s.workload.env.emplace_back(name, value.get<std::string>());
  }
  s.workload.health_url = w.String("health_url");
  s.workload.health_expect_status = static_cast<int>(w.Int("health_expect_status", 100, 599));
  s.workload.health_expect_body = w.String("health_expect_body");
  s.workload.health_timeout_ms = static_cast<int>(w.Int("health_timeout_ms", 1, 3'600'000));
  s.workload.grace_seconds = static_cast<int>(w.Int("grace_seconds", 0, 3600));
  s.workload.check_command = w.String("check_command", 65536);
  s.snapshot_every = std::chrono::seconds(f.Int("snapshot_every_s", 0, kMaxSeconds));
  s.keep_last = static_cast<int>(f.Int("keep_last", 1, 100000));
  // Absent in specs stored before drills existed.
  s.drill_every = std::chrono::seconds(f.OptionalInt("drill_every_s", 0, kMaxSeconds).value_or(0));
  s.drill_kill = f.OptionalBool("drill_kill").value_or(false);
  JsonFields p(f.Object("policy"), "protection spec policy");
  s.policy.probe_interval = std::chrono::milliseconds(p.Int("probe_interval_ms", 1, 3'600'000));
  s.policy.probe_timeout = std::chrono::milliseconds(p.Int("probe_timeout_ms", 1, 3'600'000));
  s.policy.dead_after = static_cast<int>(p.Int("dead_after", 1, 1000));
  s.policy.max_restarts = static_cast<int>(p.Int("max_restarts", 0, 1000));
  s.policy.restart_window = std::chrono::seconds(p.Int("restart_window_s", 0, kMaxSeconds));
  s.policy.health_timeout = std::chrono::seconds(p.Int("health_timeout_s", 1, kMaxSeconds));
  s.policy.final_snapshot_timeout =
      std::chrono::seconds(p.Int("final_snapshot_timeout_s", 1, kMaxSeconds));
  s.policy.max_attempts = static_cast<int>(p.Int("max_attempts", 1, 100));
  s.policy.retry_backoff = std::chrono::seconds(p.Int("retry_backoff_s", 0, kMaxSeconds));
  s.policy.direct_probe = p.Bool("direct_probe");
  // Absent in specs stored before renting on suspicion existed.
  s.policy.speculative_race = p.OptionalBool("speculative_race").value_or(true);
  s.policy.speculative_window =
      std::chrono::seconds(p.OptionalInt("speculative_window_s", 0, kMaxSeconds).value_or(600));
  // Absent in specs stored before fencing had a policy.
  const std::string fence = p.OptionalString("fence_unconfirmed").value_or("proceed");
  auto fence_policy = ParseFenceUnconfirmed(fence);
  if (!fence_policy) {
    return CorruptionError("protection spec: fence_unconfirmed is \"" + fence +
                           "\", not proceed or wait");
  }
  s.policy.fence_unconfirmed = *fence_policy;
  RETURN_IF_ERROR(filter.status());
  RETURN_IF_ERROR(w.status());
  RETURN_IF_ERROR(p.status());
  RETURN_IF_ERROR(f.status());
  if (Status checked = CheckSpec(s); !checked) {
    return CorruptionError("stored protection spec of " + s.name + ": " + checked.error().message);
  }
  return s;
}

Status ValidateInstanceName(const std::string& name) {
  // The name is the repository's instance id, and it goes into provider labels: an instance
  // id (ValidateInstanceId), short, starting with a letter or digit.
  const bool ok = ValidateInstanceId(name).has_value() && name.size() <= 63 &&
                  std::isalnum(static_cast<unsigned char>(name[0])) != 0;
  if (!ok) {
    return InvalidArgumentError("instance name \"" + name +
                                "\" must be 1-63 letters, digits, '-', '_' or '.', starting "
                                "with a letter or digit");
  }
  return OkStatus();
}

Status ValidateSpec(const ProtectionSpec& s) {
  RETURN_IF_ERROR(CheckSpec(s));
  // Every range the stored form enforces: what is stored is what `serve` can read.
  auto read_back = SpecFromJson(SpecToJson(s).dump());
  if (!read_back) return InvalidArgumentError(read_back.error().message);
  return OkStatus();
}

namespace {

Status CheckSpec(const ProtectionSpec& s) {
  RETURN_IF_ERROR(ValidateInstanceName(s.name));
  if (s.repo.empty()) return InvalidArgumentError("--repo is required");
  if (s.workspace.empty() || s.workspace.front() != '/') {
    return InvalidArgumentError("--workspace must be an absolute path on the host, got \"" +
                                s.workspace + "\"");
  }
  if (!s.workload.health_url.empty() && !s.workload.health_url.starts_with("http://")) {
    return InvalidArgumentError("--health-url must be http://HOST:PORT/PATH on the host");
  }
  if (!s.workload.health_url.empty() && !s.workload.check_command.empty()) {
    return InvalidArgumentError("give --health-url or --check-cmd, not both");
  }
  if (s.workload.command.empty() && s.workload.HasCheck()) {
    return InvalidArgumentError("a health check needs a --workload to check");
  }
  if (s.keep_last < 1) return InvalidArgumentError("--keep-last must be at least 1");
  if (s.drill_every.count() != 0 && s.drill_every < std::chrono::minutes(1)) {
    return InvalidArgumentError("--drill-every must be at least 1m (or 0 for no drills)");
  }
  if (s.drill_kill && s.drill_every.count() == 0) {
    return InvalidArgumentError("--drill-kind kill needs --drill-every");
  }
  const FailoverPolicy& p = s.policy;
  if (p.dead_after < 1 || p.max_attempts < 1) {
    return InvalidArgumentError("dead_after and max_attempts must be at least 1");
  }
  if (p.probe_interval < std::chrono::milliseconds(100)) {
    return InvalidArgumentError("the probe interval must be at least 100 ms");
  }
  if (p.probe_timeout < std::chrono::milliseconds(100)) {
    return InvalidArgumentError("the probe timeout must be at least 100 ms");
  }
  return OkStatus();
}

}  // namespace

Result<std::chrono::seconds> ParseDuration(const std::string& text) {
  if (text.empty()) return InvalidArgumentError("empty duration");
  uint64_t unit = 1;
  std::string number = text;
  switch (text.back()) {
    case 's':
      number.pop_back();
      break;
    case 'm':
      unit = 60;
      number.pop_back();
      break;
    case 'h':
      unit = 3600;
      number.pop_back();
      break;
    case 'd':
      unit = 86400;
      number.pop_back();
      break;
    default:
      break;
  }
  auto value = ParseUint(number);
  if (!value || *value > static_cast<uint64_t>(kMaxSeconds) / unit) {
    return InvalidArgumentError("bad duration \"" + text + "\" (use e.g. 90s, 60m, 2h, 7d)");
  }
  return std::chrono::seconds(static_cast<int64_t>(*value * unit));
}

Result<ProtectionSpec> SpecDefaultsFromConfig(const Config& config) {
  ProtectionSpec s;
  ASSIGN_OR_RETURN(uint64_t minutes, config.GetUint("snapshot.interval_minutes"));
  s.snapshot_every = std::chrono::minutes(minutes);
  ASSIGN_OR_RETURN(uint64_t keep, config.GetUint("snapshot.keep_last"));
  s.keep_last = static_cast<int>(std::min<uint64_t>(keep, 100000));  // ValidateSpec: >= 1
  FailoverPolicy& p = s.policy;
  ASSIGN_OR_RETURN(uint64_t interval, config.GetUint("failover.probe_interval_ms"));
  p.probe_interval = std::chrono::milliseconds(interval);
  ASSIGN_OR_RETURN(uint64_t probe_timeout, config.GetUint("failover.probe_timeout_ms"));
  p.probe_timeout = std::chrono::milliseconds(probe_timeout);
  ASSIGN_OR_RETURN(uint64_t dead_after, config.GetUint("failover.dead_after"));
  p.dead_after = static_cast<int>(dead_after);
  ASSIGN_OR_RETURN(uint64_t restarts, config.GetUint("failover.max_restarts"));
  p.max_restarts = static_cast<int>(restarts);
  ASSIGN_OR_RETURN(uint64_t health, config.GetUint("failover.health_timeout_seconds"));
  p.health_timeout = std::chrono::seconds(health);
  ASSIGN_OR_RETURN(uint64_t final_snapshot,
                   config.GetUint("failover.final_snapshot_timeout_seconds"));
  p.final_snapshot_timeout = std::chrono::seconds(final_snapshot);
  ASSIGN_OR_RETURN(uint64_t attempts, config.GetUint("failover.max_attempts"));
  p.max_attempts = static_cast<int>(attempts);
  ASSIGN_OR_RETURN(p.speculative_race, config.GetBool("failover.speculative_race"));
  const std::string fence = config.GetOr("failover.fence_unconfirmed", "proceed");
  auto fence_policy = ParseFenceUnconfirmed(fence);
  if (!fence_policy) {
    return InvalidArgumentError("failover.fence_unconfirmed is proceed or wait, not \"" + fence +
                                "\"");
  }
  p.fence_unconfirmed = *fence_policy;
  return s;
}

}  // namespace standby
