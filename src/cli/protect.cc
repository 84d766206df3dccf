#include "base/strings.h"
#include "cli/command.h"
#include "cli/interrupt.h"
#include "cli/provider_access.h"
#include "failover/operations.h"
#include "failover/runtime.h"

namespace standby {
namespace {

// The spec from the flags, on top of the configuration's defaults.
Result<ProtectionSpec> SpecFrom(const Invocation& inv, const std::string& name) {
  ASSIGN_OR_RETURN(ProtectionSpec spec, SpecDefaultsFromConfig(inv.config));
  spec.name = name;
  spec.repo = inv.config.GetOr("repo", "");
  spec.workspace = inv.Flag("workspace").value_or(spec.workspace);
  ASSIGN_OR_RETURN(spec.filter, OfferFilterFrom(inv));
  spec.image = inv.Flag("image").value_or(spec.image);
  if (auto disk = inv.Flag("disk-gb")) {
    auto gb = ParseUint(*disk);
    if (!gb || *gb < 8) return InvalidArgumentError("--disk-gb wants at least 8");
    spec.disk_gb = static_cast<int>(*gb);
  }
  spec.ssh_user = inv.Flag("ssh-user").value_or(spec.ssh_user);
  spec.workload.command = inv.Flag("workload").value_or("");
  spec.workload.health_url = inv.Flag("health-url").value_or("");
  spec.workload.health_expect_body = inv.Flag("health-expect-body").value_or("");
  spec.workload.check_command = inv.Flag("check-cmd").value_or("");
  if (auto every = inv.Flag("snapshot-every")) {
    ASSIGN_OR_RETURN(spec.snapshot_every, ParseDuration(*every));
  }
  if (auto every = inv.Flag("drill-every")) {
    ASSIGN_OR_RETURN(spec.drill_every, ParseDuration(*every));
  }
  if (auto kind = inv.Flag("drill-kind")) {
    if (*kind != "planned" && *kind != "kill") {
      return InvalidArgumentError("--drill-kind is planned or kill, not \"" + *kind + "\"");
    }
    spec.drill_kill = *kind == "kill";
  }
  if (auto timeout = inv.Flag("health-timeout")) {
    ASSIGN_OR_RETURN(spec.policy.health_timeout, ParseDuration(*timeout));
  }
  return spec;
}

}  // namespace

int RunProtect(const std::vector<std::string>& args) {
  const std::string command = "protect";
  auto inv = Prepare(command, args);
  if (!inv) return UsageError(command, inv.error().message, WantsJson(args));
  if (inv->positional.size() != 1) return UsageError(command, "name the instance", inv->json);
  auto spec = SpecFrom(*inv, inv->positional[0]);
  if (!spec) return UsageError(command, spec.error().message, inv->json);
  PlacementRequest placement;
  placement.adopt_instance_id = inv->Flag("instance-id").value_or("");
  placement.provision = inv->Has("provision");
  if (auto ssh = inv->Flag("ssh")) {
    auto target = ParseSshTarget(*ssh);
    if (!target) return UsageError(command, target.error().message, inv->json);
    placement.adopt_ssh = *target;
  }
  // Ctrl-C during a placement stops it at a safe point and gives back what it rented.
  StopSignal* interrupted =
      placement.provision ? CatchInterrupts("stopping the placement: destroying what it rented",
                                            [] {
                                              return std::string(
                                                  "what the placement rented may still run: "
                                                  "run `standby reap --grace-seconds 0`");
                                            })
                          : nullptr;
  auto runtime = OpenControllerRuntime(inv->config);
  if (!runtime) return Fail(runtime.error(), inv->json);
  (*runtime)->ctx.log = [](const std::string& line) { Say(line); };
  auto stored =
      Protect(&(*runtime)->ctx, *spec, placement, interrupted ? &interrupted->flag() : nullptr);
  if (!stored) {
    const int failed = Fail(stored.error(), inv->json);
    return interrupted && interrupted->IsSet() ? InterruptedExitStatus() : failed;
  }
  nlohmann::json status = InstanceStatusJson(*stored, std::nullopt, NowMillis(Clock::Real()));
  if (inv->json) {
    PrintJson(status);
  } else {
    std::printf("%s %s on %s:%d (%s)\n", stored->instance_id.c_str(), stored->status.c_str(),
                stored->ssh_host.c_str(), stored->ssh_port,
                stored->provider_instance_id.empty() ? "no provider"
                                                     : stored->provider_instance_id.c_str());
  }
  return kExitOk;
}

int RunUnprotect(const std::vector<std::string>& args) {
  const std::string command = "unprotect";
  auto inv = Prepare(command, args);
  if (!inv) return UsageError(command, inv.error().message, WantsJson(args));
  if (inv->positional.size() != 1) return UsageError(command, "name the instance", inv->json);
  auto runtime = OpenControllerRuntime(inv->config, RuntimeParts::kFleet);
  if (!runtime) return Fail(runtime.error(), inv->json);
  (*runtime)->ctx.log = [](const std::string& line) { Say(line); };
  Status done = Unprotect(&(*runtime)->ctx, inv->positional[0], inv->Has("destroy"));
  if (!done) return Fail(done.error(), inv->json);
  if (inv->json) {
    PrintJson({{"name", inv->positional[0]}, {"unprotected", true}});
  } else {
    Print(inv->positional[0] + " unprotected" +
          (inv->Has("destroy") ? "; its host destroyed" : ""));
  }
  return kExitOk;
}

namespace {

// `pause NAME` / `resume NAME`: maintenance mode on and off.
int RunPauseOrResume(const std::string& command, const std::vector<std::string>& args) {
  auto inv = Prepare(command, args);
  if (!inv) return UsageError(command, inv.error().message, WantsJson(args));
  if (inv->positional.size() != 1) return UsageError(command, "name the instance", inv->json);
  auto runtime = OpenControllerRuntime(inv->config, RuntimeParts::kState);
  if (!runtime) return Fail(runtime.error(), inv->json);
  (*runtime)->ctx.log = [](const std::string& line) { Say(line); };
  auto stored = command == "pause" ? PauseProtection(&(*runtime)->ctx, inv->positional[0])
                                   : ResumeProtection(&(*runtime)->ctx, inv->positional[0]);
  if (!stored) return Fail(stored.error(), inv->json);
  if (inv->json) {
    PrintJson(InstanceStatusJson(*stored, std::nullopt, NowMillis(Clock::Real())));
  } else {
    std::printf("%s %s\n", stored->instance_id.c_str(), stored->status.c_str());
  }
  return kExitOk;
}

}  // namespace

int RunPause(const std::vector<std::string>& args) { return RunPauseOrResume("pause", args); }
int RunResume(const std::vector<std::string>& args) { return RunPauseOrResume("resume", args); }

}  // namespace standby
