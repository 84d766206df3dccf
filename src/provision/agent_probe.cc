#include "provider/agent_probe.h"

#include "remote/ssh_transport.h"

namespace standby {

Status AgentHealthProbe::Probe(const Instance& instance) {
  if (instance.ssh.empty())
    return UnavailableError("instance " + instance.id + " has no SSH endpoint yet");
  std::optional<Error> last;
  for (const SshEndpoint& endpoint : instance.ssh) {
    SshOptions ssh;
    ssh.target = {endpoint.user.empty() ? options_.user : endpoint.user, endpoint.host,
                  endpoint.port};
    ssh.private_key_path = options_.private_key_path;
    ssh.pins = options_.pins;
    ssh.pin_name = instance.id;
    ssh.connect_timeout = options_.connect_timeout;
    SshTransport transport(ssh, options_.agent_path);
    AgentJob job;
    job.command = "health";
    auto health = transport.RunJob(job, nullptr);
    if (health) return OkStatus();
    last = health.error();
    // A changed host key under the same instance id is not something to retry elsewhere.
    if (last->code == ErrorCode::kPermissionDenied) break;
  }
  return *last;
}

}  // namespace standby
