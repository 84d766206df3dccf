#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "store/s3_operation.h"

namespace standby {

// The controller ↔ standby-agent protocol (docs/formats/agent-protocol.md): one JSON job on
// the agent's stdin, JSON lines on its stdout; grant requests and answers while it runs. No
// credential ever travels: the host gets presigned grants for exactly what its job may do.
// 3: a snapshot job takes no repository lock when told `lock_held` (an agent of 2 would try to
// write one, which hosts may no longer do).
constexpr int kAgentProtocolVersion = 3;

// The line the controller writes to a running agent's stdin to stop its job at the next safe
// point; the agent keeps answering grants (its cleanup may need them) and sends its result.
inline constexpr std::string_view kAgentCancelLine = R"({"type":"cancel"})";
// How long an agent that was signalled has to finish its result before it exits anyway (a
// job that does not check for a stop, or is stuck in a child).
inline constexpr std::chrono::seconds kAgentSignalGrace{15};

// A presigned grant for one S3 operation: the query parameters to send it with.
struct ObjectGrant {
  S3Operation op;
  QueryParams query;
};

struct AgentJob {
  int protocol = kAgentProtocolVersion;
  std::string command;  // snapshot | restore | verify | health
  std::string repo;     // directory, file:// or s3:// URL, as on the host
  // S3 access (when repo is s3://): where the bucket is, and grants given in advance (a
  // restore's objects); anything else is asked for with an `authorize` event.
  std::string s3_endpoint;
  std::string s3_region = "us-east-1";
  std::optional<bool> s3_path_style;
  std::vector<ObjectGrant> grants;
  size_t concurrency = 16;
  // The endpoint's host name and its addresses, resolved by the controller: the agent is
  // linked statically and never resolves names itself (TLS still verifies `s3_host`).
  std::string s3_host;
  std::vector<std::string> s3_addresses;
  // Operation arguments.
  std::string instance_id;
  std::string snapshot_id;  // restore/verify: empty = the instance's latest
  std::string workspace;    // snapshot source, verify/health directory
  std::string target;       // restore destination
  bool overwrite = false;
  bool allow_external_symlinks = false;
  bool keep_special_bits = false;
  bool full = false;
  std::string compression = "lz4";
  uint64_t pack_size_mb = 16;
  uint64_t lock_wait_seconds = 60;
  // snapshot: the controller holds the repository's shared lock for the job (a host never
  // writes locks into an S3 repository: remote/store_grants.h).
  bool lock_held = false;
  size_t threads = 0;  // 0 = automatic
  // The workload (workload start|stop|status, and health's workload check).
  std::string workload_command;  // run with /bin/sh -c in the workspace
  std::vector<std::pair<std::string, std::string>> workload_env;
  std::string state_dir;   // pid and log files; default ~/.local/state/standby-agent/<instance>
  int grace_seconds = 10;  // stop: TERM, then KILL after this long
  std::string health_url;  // http://127.0.0.1:PORT/path on the host; empty = no check
  // Instead of a health URL: run with /bin/sh -c in the workspace; exit 0 within
  // health_timeout_ms means healthy.
  std::string check_command;
  int health_expect_status = 200;
  std::string health_expect_body;  // substring; empty = any body
  int health_timeout_ms = 2000;
};

nlohmann::json AgentJobToJson(const AgentJob& job);
// kInvalidArgument for malformed jobs and for a protocol version this agent does not speak.
Result<AgentJob> ParseAgentJob(std::string_view text);

// One line of the agent's output.
struct AgentEvent {
  std::string type;  // hello | progress | log | result
  nlohmann::json body;
};
Result<AgentEvent> ParseAgentEvent(std::string_view line);

// An S3 operation as an `authorize` event and a grant carry it: {"method", "key", "bucket",
// "query": [[name, value], ...]}. Parsing treats it as hostile input (kCorruption).
nlohmann::json S3OperationToJson(const S3Operation& op);
Result<S3Operation> ParseS3Operation(const nlohmann::json& j);
nlohmann::json QueryToJson(const QueryParams& query);
Result<QueryParams> ParseQuery(const nlohmann::json& j, const std::string& what);

}  // namespace standby
