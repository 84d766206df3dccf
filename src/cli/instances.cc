#include "base/time.h"
#include "cli/command.h"
#include "cli/provider_access.h"
#include "failover/runtime.h"

namespace standby {

// `standby instances`: this controller's instances on the provider (every standby-labelled
// one with --all), and whether a controller owns each.
int RunInstances(const std::vector<std::string>& args) {
  const std::string command = "instances";
  auto inv = Prepare(command, args);
  if (!inv) return UsageError(command, inv.error().message, WantsJson(args));
  auto opened = OpenControllerRuntime(inv->config, RuntimeParts::kFleet);
  if (!opened) return Fail(opened.error(), inv->json);
  auto instances = (*opened)->fleet->Instances(inv->Has("all"));
  if (!instances) return Fail(instances.error(), inv->json);
  nlohmann::json list = nlohmann::json::array();
  for (const FleetInstance& f : *instances) {
    const Instance& i = f.instance;
    // SSH endpoints in the one shape every command uses (ssh_host, ssh_port, ssh_user): the
    // first at the top level, all of them in ssh_endpoints.
    nlohmann::json endpoints = nlohmann::json::array();
    for (const SshEndpoint& e : i.ssh) {
      endpoints.push_back(
          {{"ssh_host", e.host}, {"ssh_port", e.port}, {"ssh_user", e.user}, {"kind", e.kind}});
    }
    const nlohmann::json none = nullptr;
    list.push_back({{"instance_id", i.id},
                    {"machine_id", i.machine_id},
                    {"state", std::string(InstanceStateName(i.state))},
                    {"status", i.status_message},
                    {"ssh_host", i.ssh.empty() ? none : nlohmann::json(i.ssh[0].host)},
                    {"ssh_port", i.ssh.empty() ? none : nlohmann::json(i.ssh[0].port)},
                    {"ssh_user", i.ssh.empty() ? none : nlohmann::json(i.ssh[0].user)},
                    {"ssh_endpoints", endpoints},
                    {"gpu_name", i.gpu_name},
                    {"price_per_hour", i.price_per_hour},
                    {"label", i.label},
                    {"created_at_ms", i.created_unix_ms},
                    {"created_at", FormatRfc3339(i.created_unix_ms * 1'000'000)},
                    {"owned", f.owned}});
  }
  if (inv->json) {
    PrintJson({{"provider", (*opened)->fleet->provider()->Name()}, {"instances", list}});
    return kExitOk;
  }
  std::printf("%-10s %-9s %-12s %-22s %-6s %s\n", "INSTANCE", "STATE", "GPU", "SSH", "OWNED",
              "LABEL");
  for (const nlohmann::json& i : list) {
    std::string ssh = i["ssh_host"].is_null() ? "-"
                                              : i["ssh_host"].get<std::string>() + ":" +
                                                    std::to_string(i["ssh_port"].get<int>());
    std::printf("%-10s %-9s %-12s %-22s %-6s %s\n", i["instance_id"].get<std::string>().c_str(),
                i["state"].get<std::string>().c_str(), i["gpu_name"].get<std::string>().c_str(),
                ssh.c_str(), i["owned"].get<bool>() ? "yes" : "no",
                i["label"].get<std::string>().c_str());
  }
  return kExitOk;
}

}  // namespace standby
