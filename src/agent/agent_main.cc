// standby-agent: runs on a GPU host. Reads one JSON job line from stdin (grant answers follow
// it), writes JSON lines to stdout (docs/formats/agent-protocol.md). Exit 0 only when the job
// succeeded.
#include <spdlog/sinks/base_sink.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <mutex>

#include "agent/agent_jobs.h"
#include "base/log.h"

namespace {

std::mutex out_mu;

void Emit(const nlohmann::json& event) {
  std::string line =
      standby::Redact(event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)) + "\n";
  std::lock_guard<std::mutex> lock(out_mu);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
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
  auto read_line = []() -> standby::Result<std::string> {
    std::string line;
    if (!std::getline(std::cin, line)) {
      return standby::UnavailableError("the controller closed the agent's input");
    }
    return line;
  };
  try {
    return standby::RunAgentSession(read_line, Emit, standby::RealAgentEnv(),
                                    static_cast<int64_t>(::getpid()));
  } catch (const std::exception& e) {
    Emit({{"type", "result"},
          {"ok", false},
          {"error", {{"code", "internal"}, {"message", e.what()}, {"retryable", false}}}});
    return 1;
  }
}
