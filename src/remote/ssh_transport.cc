#include "remote/ssh_transport.h"

#include <future>

#include "base/log.h"
#include "env/file_system.h"
#include "snapshot/hash.h"

namespace standby {
namespace {

// Streams the file through SHA-256 (an 8 MB agent costs ~5 ms this way, against ~50 ms to
// read it into memory first).
Result<std::string> FileSha256(const std::string& path) {
  ASSIGN_OR_RETURN(auto file, FileSystem::Real()->OpenRead(path));
  Sha256Stream hash;
  std::string buf(1 << 20, '\0');
  for (uint64_t offset = 0;;) {
    ASSIGN_OR_RETURN(size_t got, file->ReadAt(offset, buf.data(), buf.size()));
    if (got == 0) break;
    hash.Update(std::string_view(buf.data(), got));
    offset += got;
  }
  return hash.Finish().Hex();
}

double MillisSince(Clock* clock, int64_t start_ns) {
  return static_cast<double>(clock->MonotonicNanos() - start_ns) / 1e6;
}

}  // namespace

SshTransport::SshTransport(SshOptions options, std::string agent_path)
    : options_(std::move(options)), agent_path_(std::move(agent_path)) {}

nlohmann::json SshTransport::Report() const {
  return {{"ssh", options_.target.Describe()},
          {"connect_ms", timings_.connect_ms},
          {"agent_uploaded", timings_.uploaded},
          {"upload_ms", timings_.upload_ms},
          {"first_event_ms", timings_.first_event_ms}};
}

SshTransport::~SshTransport() = default;

Status SshTransport::EnsureConnected() {
  if (session_) return OkStatus();
  const int64_t start = options_.clock->MonotonicNanos();
  ASSIGN_OR_RETURN(session_, SshSession::Connect(options_));
  timings_.connect_ms = MillisSince(options_.clock, start);
  return OkStatus();
}

Status SshTransport::Deploy() {
  const int64_t start = options_.clock->MonotonicNanos();
  ASSIGN_OR_RETURN(std::string binary, ReadFileToString(FileSystem::Real(), agent_path_));
  if (Sha256(binary).Hex() != agent_sha256_) {
    return ConflictError("standby-agent " + agent_path_ + " changed while it was deployed");
  }
  RETURN_IF_ERROR(session_->UploadFile(binary, ".cache/standby/agent-" + agent_sha256_, 0755));
  timings_.upload_ms = MillisSince(options_.clock, start);
  timings_.uploaded = true;
  return OkStatus();
}

Result<nlohmann::json> SshTransport::RunJob(
    const AgentJob& job, const std::function<void(const AgentEvent&)>& on_event) {
  const int64_t start = options_.clock->MonotonicNanos();
  timings_ = {};
  if (agent_sha256_.empty()) {
    // Hash the binary while the connection is being made: both take tens of milliseconds.
    auto hashing = std::async(std::launch::async, FileSha256, agent_path_);
    Status connected = EnsureConnected();
    auto sha256 = hashing.get();
    if (!sha256) {
      return NotFoundError("standby-agent binary " + agent_path_ +
                           " unreadable: " + sha256.error().message);
    }
    RETURN_IF_ERROR(connected);
    agent_sha256_ = *sha256;
    remote_path_ = "~/.cache/standby/agent-" + agent_sha256_;
  }
  RETURN_IF_ERROR(EnsureConnected());
  spdlog::debug("connected after {:.1f} ms", MillisSince(options_.clock, start));
  ConversationOptions options = BaseOptions(options_.clock);
  options.on_hello = [&](const nlohmann::json&) {
    timings_.first_event_ms = MillisSince(options_.clock, start);
  };
  // `exec` so that signals and the exit status are the agent's own; 127/126 from the shell
  // mean the agent is not there (or not executable) yet.
  const std::string command = "exec " + remote_path_;
  for (int attempt = 0;; ++attempt) {
    auto started = session_->Exec(command);
    if (!started) {
      session_.reset();  // a session that cannot open a channel is not reused
      return started.error();
    }
    auto channel = std::move(*started);
    spdlog::debug("command started after {:.1f} ms", MillisSince(options_.clock, start));
    AgentDidNotStart did_not_start;
    auto result = RunAgentConversation(*channel, job, on_event, options, &did_not_start);
    bool missing = !result && (did_not_start.ending == "exited with status 127" ||
                               did_not_start.ending == "exited with status 126");
    channel.reset();                                          // before the session that owns it
    if (!result && !session_->Connected()) session_.reset();  // reconnect next time
    if (!missing || attempt > 0) return result;
    RETURN_IF_ERROR(Deploy());
  }
}

}  // namespace standby
