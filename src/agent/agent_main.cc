// standby-agent: runs on a GPU host. Reads one JSON job from stdin, writes JSON lines to
// stdout (docs/formats/agent-protocol.md). Exit 0 only when the job succeeded.
#include <spdlog/sinks/base_sink.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <iterator>
#include <mutex>

#include "agent/agent_jobs.h"
#include "base/log.h"
#include "snapshot/result_json.h"

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

// A failed result; `data`, when given, is what the command found (a verification's
// mismatches), for the controller to print as the local command would.
void EmitFailure(const standby::Error& error, const nlohmann::json& data = nullptr) {
  nlohmann::json event = {{"type", "result"},
                          {"ok", false},
                          {"error",
                           {{"code", standby::ErrorCodeName(error.code)},
                            {"message", error.message},
                            {"retryable", error.retryable}}}};
  if (!data.is_null()) event["data"] = data;
  Emit(event);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--version") {
    std::printf("standby-agent protocol %d\n", standby::kAgentProtocolVersion);
    return 0;
  }
  spdlog::set_default_logger(
      std::make_shared<spdlog::logger>("agent", std::make_shared<EventSink>()));
  // The controller sends the job (and the credentials in it) only after this line.
  Emit({{"type", "hello"},
        {"protocol", standby::kAgentProtocolVersion},
        {"agent", "standby-agent"},
        {"pid", static_cast<int64_t>(::getpid())}});
  std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  auto job = standby::ParseAgentJob(input);
  if (!job) {
    EmitFailure(job.error());
    return 1;
  }
  standby::RegisterSecret(job->secret_access_key);
  standby::RegisterSecret(job->session_token);
  auto result = standby::RunAgentJob(*job, Emit);
  if (!result) {
    EmitFailure(result.error());
    return 1;
  }
  if (result->contains("validation") && (*result)["validation"] != "ok") {
    EmitFailure(standby::CorruptionError(standby::VerifyFailure(*result)), *result);
    return 1;
  }
  Emit({{"type", "result"}, {"ok", true}, {"data", *result}});
  return 0;
}
