#include "remote/host_command.h"

#include "remote/ssh_transport.h"

namespace standby {

Result<nlohmann::json> RunCommandJob(const SshSettings& ssh,
                                     const std::optional<HostAddress>& address, AgentJob job,
                                     const StoreAccess* store,
                                     const std::function<void(const AgentEvent&)>& on_event,
                                     nlohmann::json* failure_data) {
  if (store) RETURN_IF_ERROR(AddStoreAccess(*store, &job));
  if (!address) {
    LocalTransport local(ssh.agent_path, ssh.clock);
    auto ran = local.RunJob(job, on_event);
    if (!ran && failure_data) *failure_data = local.failure_data();
    ASSIGN_OR_RETURN(nlohmann::json data, std::move(ran));
    data["transport"] = {{"local", ssh.agent_path}, {"result_unix_ms", NowMillis(ssh.clock)}};
    return data;
  }
  SshTransportFactory factory(ssh);
  SshTransport transport(factory.OptionsFor(*address), ssh.agent_path);
  auto ran = transport.RunJob(job, on_event);
  if (!ran && failure_data) *failure_data = transport.failure_data();
  ASSIGN_OR_RETURN(nlohmann::json data, std::move(ran));
  const SshJobTimings& t = transport.last_timings();
  data["transport"] = {{"ssh", address->Describe()}, {"result_unix_ms", NowMillis(ssh.clock)},
                       {"connect_ms", t.connect_ms}, {"agent_uploaded", t.uploaded},
                       {"upload_ms", t.upload_ms},   {"first_event_ms", t.first_event_ms}};
  return data;
}

}  // namespace standby
