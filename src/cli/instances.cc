#include "cli/command.h"
#include "cli/provider_access.h"
#include "failover/runtime.h"

namespace standby {

// `standby instances`: this controller's instances on the provider (every standby-labelled
// one with --all), and whether a controller owns each.
int RunInstances(const std::vector<std::string>& args) {
  const std::string command = "instances";
  auto inv = Prepare(command, args);
  if (!inv) return UsageError(command, inv.error().message, false);
  auto opened = OpenControllerRuntime(inv->config, RuntimeParts::kFleet);
  if (!opened) return Fail(opened.error(), inv->json);
  auto instances = (*opened)->fleet->Instances(inv->Has("all"));
  if (!instances) return Fail(instances.error(), inv->json);
  nlohmann::json list = nlohmann::json::array();
  for (const FleetInstance& f : *instances) {
    const Instance& i = f.instance;
    nlohmann::json ssh = nlohmann::json::array();
    for (const SshEndpoint& e : i.ssh) {
      ssh.push_back({{"host", e.host}, {"port", e.port}, {"kind", e.kind}, {"user", e.user}});
    }
    list.push_back({{"instance_id", i.id},
                    {"machine_id", i.machine_id},
                    {"state", std::string(InstanceStateName(i.state))},
                    {"status", i.status_message},
                    {"ssh", ssh},
                    {"gpu_name", i.gpu_name},
                    {"price_per_hour", i.price_per_hour},
                    {"label", i.label},
                    {"created_unix_ms", i.created_unix_ms},
                    {"owned", f.owned}});
  }
  if (inv->json) {
    PrintJson({{"provider", (*opened)->fleet->provider()->Name()}, {"instances", list}});
    return kExitOk;
  }
  std::printf("%-10s %-9s %-12s %-22s %-6s %s\n", "INSTANCE", "STATE", "GPU", "SSH", "OWNED",
              "LABEL");
  for (const nlohmann::json& i : list) {
    std::string ssh = i["ssh"].empty() ? "-"
                                       : i["ssh"][0]["host"].get<std::string>() + ":" +
                                             std::to_string(i["ssh"][0]["port"].get<int>());
    std::printf("%-10s %-9s %-12s %-22s %-6s %s\n", i["instance_id"].get<std::string>().c_str(),
                i["state"].get<std::string>().c_str(), i["gpu_name"].get<std::string>().c_str(),
                ssh.c_str(), i["owned"].get<bool>() ? "yes" : "no",
                i["label"].get<std::string>().c_str());
  }
  return kExitOk;
}

}  // namespace standby
