#include "provision/agent_probe.h"

#include "base/log.h"

namespace standby {

Status AgentHealthProbe::Probe(const Instance& instance) {
  if (instance.ssh.empty())
    return UnavailableError("instance " + instance.id + " has no SSH endpoint yet");
  std::optional<Error> last;
  for (const SshEndpoint& endpoint : instance.ssh) {
    HostAddress address{endpoint.user.empty() ? default_user_ : endpoint.user, endpoint.host,
                        endpoint.port, instance.id};
    auto transport = transports_->Connect(address);
    AgentJob job;
    job.command = "health";
    auto health = transport->RunJob(job, nullptr);
    if (health) return OkStatus();
    last = health.error();
    // A changed host key under the same instance id is not something to retry elsewhere.
    if (last->code == ErrorCode::kPermissionDenied) break;
  }
  return *last;
}

void AgentHealthProbe::Forget(const Instance& instance) {
  // Probes pin under the instance id only; nothing else of this process named its address.
  Status forgot = transports_->ForgetHost(instance.id, {});
  if (!forgot) spdlog::warn("host-key pin of {} stays: {}", instance.id, forgot.error().message);
}

}  // namespace standby
