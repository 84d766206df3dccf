#include "agent/grant_client.h"

#include "base/json_fields.h"

namespace standby {
namespace {

std::string OperationKey(const S3Operation& op) { return S3OperationToJson(op).dump(); }

}  // namespace

GrantClient::GrantClient(const std::vector<ObjectGrant>& grants, EventWriter emit,
                         std::function<Result<std::string>()> read_line)
    : emit_(std::move(emit)), read_line_(std::move(read_line)) {
  for (const ObjectGrant& grant : grants) cache_[OperationKey(grant.op)] = grant.query;
}

Result<QueryParams> GrantClient::Authorize(const S3Operation& op, bool renew) {
  const std::string key = OperationKey(op);
  if (!renew) {
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  }
  std::lock_guard<std::mutex> asking(ask_mu_);  // one exchange at a time on the channel
  ASSIGN_OR_RETURN(QueryParams query, Ask(op));
  std::lock_guard<std::mutex> lock(cache_mu_);
  cache_[key] = query;
  return query;
}

Result<QueryParams> GrantClient::Ask(const S3Operation& op) {
  const int64_t id = next_id_++;
  nlohmann::json request = S3OperationToJson(op);
  request["type"] = "authorize";
  request["id"] = id;
  emit_(request);
  ASSIGN_OR_RETURN(std::string line, read_line_());
  nlohmann::json answer = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  JsonFields f(answer, "grant from the controller");
  const bool matches = f.String("type", 16) == "grant" && f.Int("id", 0) == id;
  RETURN_IF_ERROR(f.status());
  if (!matches) return InternalError("the controller answered another request than ours");
  if (answer.contains("error")) {
    JsonFields e(answer["error"], "grant refusal");
    std::string message = e.String("message");
    RETURN_IF_ERROR(e.status());
    return PermissionDeniedError(message);
  }
  return ParseQuery(answer.contains("query") ? answer["query"] : nlohmann::json(), "grant");
}

S3Authorizer GrantClient::AsAuthorizer() {
  return [this](const S3Operation& op, bool renew) { return Authorize(op, renew); };
}

}  // namespace standby
