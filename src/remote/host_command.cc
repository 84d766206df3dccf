#include "remote/host_command.h"

#include "remote/ssh_transport.h"

namespace standby {
namespace {

// One job's connection to where `where` says: the agent over SSH, or a local subprocess.
// The factory outlives the transport (the transport uses its host-key pins).
class CommandHost {
 public:
  explicit CommandHost(const HostCommand& where) : where_(where) {
    if (where.address) {
      factory_ = std::make_unique<SshTransportFactory>(where.ssh);
      transport_ = factory_->Connect(*where.address);
    } else {
      factory_ = std::make_unique<LocalTransportFactory>(where.ssh.agent_path, where.ssh.clock);
      transport_ = factory_->Connect({});
    }
    if (where.store) store_ = *where.store;
    transport_->SetCancelFlag(where.cancel, kCommandCancelGrace);
  }
  HostAgent Agent() { return HostAgent(transport_.get(), &store_); }
  // The report as the command prints it: the agent's data as sent, with "transport" (where
  // the job ran, its timings) and "result_unix_ms" (this clock when the result came).
  template <class Report>
  Result<nlohmann::json> Printed(Result<Report> report) {
    ASSIGN_OR_RETURN(Report r, std::move(report));
    nlohmann::json data = r.raw;
    data["transport"] = transport_->Report();
    data["transport"]["result_unix_ms"] = NowMillis(where_.ssh.clock);
    return data;
  }

 private:
  const HostCommand& where_;
  std::unique_ptr<TransportFactory> factory_;
  std::unique_ptr<AgentTransport> transport_;
  StoreAccess store_;
};

}  // namespace

Result<nlohmann::json> SnapshotOnHost(const HostCommand& where, const std::string& instance_id,
                                      const std::string& workspace, bool full,
                                      const SnapshotJobOptions& options) {
  CommandHost host(where);
  return host.Printed(host.Agent().Snapshot(instance_id, workspace, full, options, where.on_event));
}

Result<nlohmann::json> RestoreOnHost(const HostCommand& where, const RestoreOnHostArgs& args) {
  CommandHost host(where);
  return host.Printed(host.Agent().Restore(args.instance_id, args.snapshot_id, args.target,
                                           args.options, where.on_event));
}

Result<nlohmann::json> VerifyOnHost(const HostCommand& where, const std::string& instance_id,
                                    const std::string& snapshot_id, const std::string& dir,
                                    size_t threads, nlohmann::json* failure_data) {
  CommandHost host(where);
  ASSIGN_OR_RETURN(VerifyReport report,
                   host.Agent().Verify(instance_id, snapshot_id, dir, threads));
  if (report.validation != Validation::kOk) {
    if (failure_data) *failure_data = report.raw;
    return CorruptionError("the tree at " + dir + " does not match snapshot " + report.snapshot_id);
  }
  return host.Printed(Result<VerifyReport>(std::move(report)));
}

Result<nlohmann::json> HealthOnHost(const HostCommand& where, const std::string& instance_id,
                                    const std::string& workspace, const WorkloadSpec& workload) {
  CommandHost host(where);
  ASSIGN_OR_RETURN(nlohmann::json data,
                   host.Printed(host.Agent().Health(instance_id, workspace, workload)));
  // The agent read its clock just before its result; this one when the result arrived.
  data["clock_offset_ms"] = data.value("clock_unix_ms", int64_t{0}) -
                            data["transport"].value("result_unix_ms", int64_t{0});
  return data;
}

}  // namespace standby
