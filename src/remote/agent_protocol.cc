#include "remote/agent_protocol.h"

#include "base/json_fields.h"

namespace standby {

using nlohmann::json;

json AgentJobToJson(const AgentJob& job) {
  json j = {{"protocol", job.protocol},
            {"command", job.command},
            {"repo", job.repo},
            {"s3",
             {{"endpoint", job.s3_endpoint},
              {"region", job.s3_region},
              {"grants", json::array()},
              {"concurrency", job.concurrency},
              {"host", job.s3_host},
              {"addresses", job.s3_addresses}}},
            {"instance_id", job.instance_id},
            {"snapshot_id", job.snapshot_id},
            {"workspace", job.workspace},
            {"target", job.target},
            {"overwrite", job.overwrite},
            {"allow_external_symlinks", job.allow_external_symlinks},
            {"keep_special_bits", job.keep_special_bits},
            {"full", job.full},
            {"compression", job.compression},
            {"pack_size_mb", job.pack_size_mb},
            {"lock_wait_seconds", job.lock_wait_seconds},
            {"lock_held", job.lock_held},
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
  for (const ObjectGrant& grant : job.grants) {
    json g = S3OperationToJson(grant.op);
    g["grant"] = QueryToJson(grant.query);
    j["s3"]["grants"].push_back(std::move(g));
  }
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
      for (const json& g : s3.value("grants", json::array())) {
        ASSIGN_OR_RETURN(S3Operation op, ParseS3Operation(g));
        ASSIGN_OR_RETURN(QueryParams query, ParseQuery(g.at("grant"), "grant"));
        job.grants.push_back({std::move(op), std::move(query)});
      }
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
    job.keep_special_bits = j.value("keep_special_bits", false);
    job.full = j.value("full", false);
    job.compression = j.value("compression", "lz4");
    job.pack_size_mb = j.value("pack_size_mb", uint64_t{16});
    job.lock_wait_seconds = j.value("lock_wait_seconds", uint64_t{60});
    job.lock_held = j.value("lock_held", false);
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
    json j = ParseUntrustedJson(line);
    return AgentEvent{j.at("type").get<std::string>(), std::move(j)};
  } catch (const std::exception& e) {
    return CorruptionError(std::string("agent sent a line that is not an event: ") + e.what());
  }
}

json QueryToJson(const QueryParams& query) {
  json out = json::array();
  for (const auto& [name, value] : query) out.push_back({name, value});
  return out;
}

Result<QueryParams> ParseQuery(const json& j, const std::string& what) {
  constexpr size_t kMaxParams = 16, kMaxLength = 4096;
  if (!j.is_array() || j.size() > kMaxParams) {
    return CorruptionError(what + ": query is not a list of at most 16 pairs");
  }
  QueryParams query;
  for (const json& pair : j) {
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string() ||
        pair[0].get_ref<const std::string&>().size() > kMaxLength ||
        pair[1].get_ref<const std::string&>().size() > kMaxLength) {
      return CorruptionError(what + ": a query parameter is not a pair of short strings");
    }
    query.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
  }
  return query;
}

json S3OperationToJson(const S3Operation& op) {
  return {{"method", op.method},
          {"key", op.key},
          {"bucket", op.bucket_level},
          {"query", QueryToJson(op.query)}};
}

Result<S3Operation> ParseS3Operation(const json& j) {
  JsonFields f(j, "store operation");
  S3Operation op;
  op.method = f.String("method", 8);
  op.key = f.String("key", 1024);
  op.bucket_level = f.Bool("bucket");
  RETURN_IF_ERROR(f.status());
  ASSIGN_OR_RETURN(op.query,
                   ParseQuery(j.contains("query") ? j["query"] : json::array(), "store operation"));
  return op;
}

}  // namespace standby
