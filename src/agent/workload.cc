#include "agent/workload.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>

#include "base/strings.h"
#include "env/child_process_env.h"
#include "env/file_system.h"
#include "env/health_check.h"

namespace standby {
namespace {

using nlohmann::json;

std::string StateDirOf(const AgentJob& job, const AgentEnv& env) {
  if (!job.state_dir.empty()) return env.HostPath(job.state_dir);
  return env.home + "/.local/state/standby-agent/" +
         (job.instance_id.empty() ? "default" : job.instance_id);
}

// The recorded pid if that process is alive and not a zombie.
std::optional<pid_t> RunningPid(const std::string& dir) {
  std::ifstream in(dir + "/workload.pid");
  long pid = 0;
  if (!(in >> pid) || pid <= 1) return std::nullopt;
  if (::kill(static_cast<pid_t>(pid), 0) != 0) return std::nullopt;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string pid_field, comm, state;
  if (stat >> pid_field >> comm >> state && state == "Z") return std::nullopt;
  return static_cast<pid_t>(pid);
}

// The check command in its own process group, killed when it outlives the timeout.
json RunCheckCommand(const AgentJob& job, const AgentEnv& env) {
  const std::string workspace = env.HostPath(job.workspace);
  pid_t pid = ::fork();
  if (pid < 0) return {{"ok", false}, {"detail", std::string("fork failed: ") + strerror(errno)}};
  if (pid == 0) {
    ResetSignalsInChild();
    ::setpgid(0, 0);
    int null_fd = ::open("/dev/null", O_RDWR);
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(null_fd, STDOUT_FILENO);
    ::dup2(null_fd, STDERR_FILENO);
    if (!workspace.empty() && ::chdir(workspace.c_str()) != 0) _exit(127);
    ::execl("/bin/sh", "sh", "-c", job.check_command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  const int64_t deadline = env.clock->MonotonicNanos() + int64_t{job.health_timeout_ms} * 1'000'000;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (env.clock->MonotonicNanos() >= deadline) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return {{"ok", false},
              {"detail", "check command still running after " +
                             std::to_string(job.health_timeout_ms) + " ms"}};
    }
    env.clock->SleepFor(std::chrono::milliseconds(10));
  }
  bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  std::string detail =
      WIFEXITED(status) ? "check command exited with status " + std::to_string(WEXITSTATUS(status))
                        : "check command was killed by a signal";
  return {{"ok", ok}, {"detail", detail}};
}

}  // namespace

Result<json> StartWorkload(const AgentJob& job, const AgentEnv& env) {
  if (job.workload_command.empty())
    return InvalidArgumentError("the job names no workload command");
  std::string dir = StateDirOf(job, env);
  const std::string workspace = env.HostPath(job.workspace);
  RETURN_IF_ERROR(MakeDirs(env.fs, dir, 0700));
  if (auto pid = RunningPid(dir))
    return json{{"state", "running"}, {"pid", *pid}, {"started", false}};
  std::string log = dir + "/workload.log";
  int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) return ErrnoError(errno, "open " + log);
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    return ErrnoError(errno, "fork");
  }
  if (pid == 0) {  // the workload: its own session and process group, detached from us
    ResetSignalsInChild();
    ::setsid();
    int null_fd = ::open("/dev/null", O_RDONLY);
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    if (!workspace.empty() && ::chdir(workspace.c_str()) != 0) _exit(127);
    for (const auto& [name, value] : job.workload_env) ::setenv(name.c_str(), value.c_str(), 1);
    ::execl("/bin/sh", "sh", "-c", job.workload_command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  ::close(log_fd);
  RETURN_IF_ERROR(WriteFileAtomically(env.fs, dir + "/workload.pid", std::to_string(pid), 0600));
  return json{{"state", "running"}, {"pid", pid}, {"started", true}, {"log", log}};
}

Result<json> StopWorkload(const AgentJob& job, const AgentEnv& env) {
  std::string dir = StateDirOf(job, env);
  auto pid = RunningPid(dir);
  if (!pid) {
    env.fs->RemoveFile(dir + "/workload.pid").IgnoreError();  // stale or absent
    return json{{"state", "stopped"}, {"was_running", false}};
  }
  ::kill(-*pid, SIGTERM);
  bool forced = false;
  const int64_t deadline =
      env.clock->MonotonicNanos() +
      std::chrono::nanoseconds(std::chrono::seconds(job.grace_seconds)).count();
  while (RunningPid(dir)) {
    ::waitpid(*pid, nullptr, WNOHANG);  // reap it if it is our child
    if (env.clock->MonotonicNanos() >= deadline) {
      ::kill(-*pid, SIGKILL);
      forced = true;
      for (int i = 0; i < 100 && RunningPid(dir); ++i) {
        ::waitpid(*pid, nullptr, WNOHANG);
        env.clock->SleepFor(std::chrono::milliseconds(20));
      }
      break;
    }
    env.clock->SleepFor(std::chrono::milliseconds(50));
  }
  if (RunningPid(dir))
    return UnavailableError("workload " + std::to_string(*pid) + " survived SIGKILL");
  env.fs->RemoveFile(dir + "/workload.pid").IgnoreError();  // it is gone
  return json{{"state", "stopped"}, {"was_running", true}, {"killed", forced}};
}

Result<json> WorkloadStatus(const AgentJob& job, const AgentEnv& env) {
  std::string dir = StateDirOf(job, env);
  auto pid = RunningPid(dir);
  json out = {{"state", pid ? "running" : "stopped"}, {"log", dir + "/workload.log"}};
  if (pid) out["pid"] = *pid;
  return out;
}

json CheckWorkloadHealth(const AgentJob& job, const AgentEnv& env) {
  if (!job.check_command.empty()) return RunCheckCommand(job, env);
  auto url = ParseHealthUrl(job.health_url);
  if (!url) return {{"ok", false}, {"detail", url.error().message}};
  HttpRequest request;
  request.tls = false;
  request.host = url->host;
  request.port = url->port;
  request.target = url->target;
  request.timeout = std::chrono::milliseconds(job.health_timeout_ms);
  HttpClientOptions options;  // the health URL is local to this host: no name service
  options.resolved["localhost"] = {"127.0.0.1", "::1"};
  options.use_system_resolver = false;
  auto response = MakeHttpClient(options)->Send(request);
  if (!response) return {{"ok", false}, {"detail", response.error().message}};
  bool ok = HealthAnswerOk(*response, {job.health_expect_status, job.health_expect_body});
  return {{"ok", ok},
          {"status", response->status},
          {"detail", ok ? "answered as expected" : "unexpected status or body"}};
}

}  // namespace standby
