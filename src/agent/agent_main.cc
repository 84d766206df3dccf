// standby-agent: runs on a GPU host. Reads one JSON job line from stdin (grant answers follow
// it), writes JSON lines to stdout (docs/formats/agent-protocol.md). Exit 0 only when the job
// succeeded.
#include <pthread.h>
#include <signal.h>
#include <spdlog/sinks/base_sink.h>
#include <sys/resource.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <iostream>
#include <mutex>
#include <thread>

#include "agent/agent_jobs.h"
#include "base/json_fields.h"
#include "base/log.h"

namespace {

std::mutex out_mu;
// Set when the job must stop: a signal, or the controller gone (input closed, output broken).
standby::StopSignal cancel;

void Emit(const nlohmann::json& event) {
  std::string line = standby::Redact(standby::DumpJson(event)) + "\n";
  std::lock_guard<std::mutex> lock(out_mu);
  if (std::fwrite(line.data(), 1, line.size(), stdout) != line.size() || std::fflush(stdout) != 0) {
    cancel.Set();  // nobody reads us any more: finish cleaning up and end
  }
}

// The controller's lines, read on a thread of their own, so that the end of the input — the
// controller or its connection gone — stops the job at once rather than when it next asks
// for a grant.
class Inbox {
 public:
  void Start() {
    std::thread([this] {
      std::string line;
      while (std::getline(std::cin, line)) {
        if (line == standby::kAgentCancelLine) {
          cancel.Set();  // the controller's stop; grants may still follow
          continue;
        }
        std::lock_guard<std::mutex> lock(mu_);
        lines_.push_back(std::move(line));
        arrived_.notify_all();
      }
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
      cancel.Set();
      arrived_.notify_all();
    }).detach();  // blocked in a read until the process ends
  }

  standby::Result<std::string> ReadLine() {
    std::unique_lock<std::mutex> lock(mu_);
    arrived_.wait(lock, [&] { return !lines_.empty() || closed_; });
    if (lines_.empty()) return standby::UnavailableError("the controller closed the agent's input");
    std::string line = std::move(lines_.front());
    lines_.pop_front();
    return line;
  }

 private:
  std::mutex mu_;
  std::condition_variable arrived_;
  std::deque<std::string> lines_;
  bool closed_ = false;
};

// SIGTERM (the controller's stop, or the channel's), SIGINT (Ctrl-C reaching a local agent)
// and SIGHUP stop the job at its next chunk so it removes its temporary files and lock. The
// agent exits at a second signal, or kAgentSignalGrace after the first, whichever comes
// first: a job that cannot stop must not outlive its controller's request.
void CatchStopSignals() {
  ::signal(SIGPIPE, SIG_IGN);
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&signals, sig);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::thread([signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    cancel.Set();
    const timespec grace = {standby::kAgentSignalGrace.count(), 0};
    int again = sigtimedwait(&signals, nullptr, &grace);
    _exit(128 + (again > 0 ? again : sig));
  }).detach();
}

// Log records become "log" events instead of stderr text.
class EventSink : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    Emit({{"type", "log"},
          {"level", std::string(spdlog::level::to_string_view(msg.level).data())},
          {"message", std::string(msg.payload.data(), msg.payload.size())}});
  }
  void flush_() override {}
};

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--version") {
    std::printf("standby-agent protocol %d\n", standby::kAgentProtocolVersion);
    return 0;
  }
  // It holds only short-lived grants, but a core file on a stranger's disk needs no help.
  struct rlimit no_core = {0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  spdlog::set_default_logger(
      std::make_shared<spdlog::logger>("agent", std::make_shared<EventSink>()));
  CatchStopSignals();
  static Inbox inbox;  // its reader thread may outlive main's frame
  inbox.Start();
  auto read_line = []() { return inbox.ReadLine(); };
  standby::AgentEnv env = standby::RealAgentEnv();
  env.cancel = &cancel;
  try {
    return standby::RunAgentSession(read_line, Emit, env, static_cast<int64_t>(::getpid()));
  } catch (const std::exception& e) {
    Emit({{"type", "result"},
          {"ok", false},
          {"error", {{"code", "internal"}, {"message", e.what()}, {"retryable", false}}}});
    return 1;
  }
}
