#include "remote/agent_protocol.h"

namespace standby {

using nlohmann::json;

json AgentJobToJson(const AgentJob& job) {
  json j = {{"protocol", job.protocol},
            {"command", job.command},
            {"repo", job.repo},
            {"s3",
             {{"endpoint", job.s3_endpoint},
              {"region", job.s3_region},
              {"access_key_id", job.access_key_id},
              {"secret_access_key", job.secret_access_key},
              {"session_token", job.session_token},
              {"concurrency", job.concurrency},
              {"host", job.s3_host},
              {"addresses", job.s3_addresses}}},
            {"instance_id", job.instance_id},
            {"snapshot_id", job.snapshot_id},
            {"workspace", job.workspace},
            {"target", job.target},
            {"overwrite", job.overwrite},
            {"allow_external_symlinks", job.allow_external_symlinks},
            {"full", job.full},
            {"compression", job.compression},
            {"pack_size_mb", job.pack_size_mb},
            {"lock_wait_seconds", job.lock_wait_seconds},
            {"threads", job.threads},
            {"workload",
             {{"command", job.workload_command},
              {"env", nlohmann::json::object()},
              {"state_dir", job.state_dir},
              {"grace_seconds", job.grace_seconds},
              {"health_url", job.health_url},
              {"check_command", job.check_command},
              {"health_expect_status", job.health_expect_status},
              {"health_expect_body", job.health_expect_body},
              {"health_timeout_ms", job.health_timeout_ms}}}};
  for (const auto& [name, value] : job.workload_env) j["workload"]["env"][name] = value;
  if (job.s3_path_style) j["s3"]["path_style"] = *job.s3_path_style;
  return j;
}

Result<AgentJob> ParseAgentJob(std::string_view text) {
  try {
    json j = json::parse(text);
    AgentJob job;
    job.protocol = j.at("protocol").get<int>();
    if (job.protocol != kAgentProtocolVersion) {
      return InvalidArgumentError("job speaks agent protocol " + std::to_string(job.protocol) +
                                  " but this standby-agent speaks " +
                                  std::to_string(kAgentProtocolVersion) +
                                  "; deploy the agent that matches the controller");
    }
    job.command = j.at("command").get<std::string>();
    job.repo = j.value("repo", "");
    if (j.contains("s3")) {
      const json& s3 = j["s3"];
      job.s3_endpoint = s3.value("endpoint", "");
      job.s3_region = s3.value("region", "us-east-1");
      if (s3.contains("path_style")) job.s3_path_style = s3["path_style"].get<bool>();
      job.access_key_id = s3.value("access_key_id", "");
      job.secret_access_key = s3.value("secret_access_key", "");
      job.session_token = s3.value("session_token", "");
      job.concurrency = s3.value("concurrency", size_t{16});
      job.s3_host = s3.value("host", "");
      job.s3_addresses = s3.value("addresses", std::vector<std::string>{});
    }
    job.instance_id = j.value("instance_id", "");
    job.snapshot_id = j.value("snapshot_id", "");
    job.workspace = j.value("workspace", "");
    job.target = j.value("target", "");
    job.overwrite = j.value("overwrite", false);
    job.allow_external_symlinks = j.value("allow_external_symlinks", false);
    job.full = j.value("full", false);
    job.compression = j.value("compression", "lz4");
    job.pack_size_mb = j.value("pack_size_mb", uint64_t{16});
    job.lock_wait_seconds = j.value("lock_wait_seconds", uint64_t{60});
    job.threads = j.value("threads", size_t{0});
    if (j.contains("workload")) {
      const json& w = j["workload"];
      job.workload_command = w.value("command", "");
      if (w.contains("env")) {
        for (const auto& [name, value] : w["env"].items()) {
          job.workload_env.emplace_back(name, value.get<std::string>());
        }
      }
      job.state_dir = w.value("state_dir", "");
      job.grace_seconds = w.value("grace_seconds", 10);
      job.health_url = w.value("health_url", "");
      job.check_command = w.value("check_command", "");
      job.health_expect_status = w.value("health_expect_status", 200);
      job.health_expect_body = w.value("health_expect_body", "");
      job.health_timeout_ms = w.value("health_timeout_ms", 2000);
    }
    return job;
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("malformed agent job: ") + e.what());
  }
}

Result<AgentEvent> ParseAgentEvent(std::string_view line) {
  try {
    json j = json::parse(line);
    return AgentEvent{j.at("type").get<std::string>(), std::move(j)};
  } catch (const std::exception& e) {
    return CorruptionError(std::string("agent sent a line that is not an event: ") + e.what());
  }
}

}  // namespace standby
