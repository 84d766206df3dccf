#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/agent_jobs.h"
#include "remote/transport_factory.h"
#include "store/object_store.h"

namespace standby {

// Hosts inside this process, for tests of the controller side: the real agent session and
// job code (agent/) runs on a thread per job and speaks the real protocol over in-memory
// streams, so RunAgentConversation is exercised as with a real transport. Each host
// ("host:port" of its address) has a directory standing in for its file system: absolute
// paths in jobs are mapped under <root_dir>/<host>_<port>. Every host reaches the same
// object store (`store`, not owned), whatever repository the job names. Hosts can die, at
// once or in the middle of a job. Thread-safe.
class InProcessHosts : public TransportFactory {
 public:
  InProcessHosts(std::string root_dir, ObjectStore* store, Clock* clock);
  // Waits for job threads still running on hosts that died under them.
  ~InProcessHosts() override;

  std::unique_ptr<AgentTransport> Connect(const HostAddress& address) override;

  static std::string KeyOf(const HostAddress& address);  // "host:port"
  // The directory standing for the host's "/"; `path` is appended ("" for the root).
  std::string HostPath(const std::string& key, const std::string& path = "") const;
  // The host dies now: jobs running there lose their connection, new ones are refused, and
  // the workloads it started are killed.
  void Kill(const std::string& key);
  // The host answers again (a network blip ends).
  void Revive(const std::string& key);
  // The next job on the host loses its connection once its agent has sent `events` events
  // (the hello counts as one).
  void DieDuringNextJob(const std::string& key, int events);
  bool Alive(const std::string& key) const;
  // Jobs started on the host so far.
  int JobsRun(const std::string& key) const;

 private:
  friend class InProcessTransport;
  struct Host {
    bool dead = false;
    int die_after_events = -1;
    int jobs = 0;
  };
  AgentEnv EnvFor(const std::string& key) const;
  // SIGKILLs the process group of every workload started under `dir`.
  static void KillWorkloadsUnder(const std::string& dir);

  const std::string root_dir_;
  ObjectStore* store_;
  Clock* clock_;
  mutable std::mutex mu_;
  std::map<std::string, Host> hosts_;
  struct JobThread {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> finished;
  };
  std::vector<JobThread> threads_;
};

}  // namespace standby
