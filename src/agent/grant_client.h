#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "agent/agent_jobs.h"
#include "remote/agent_protocol.h"

namespace standby {

// The agent's side of store grants: the grants its job came with, and an `authorize`
// request to the controller for anything else (answered by a `grant` line on stdin). Grants
// are kept for the job's life, so a retried or repeated request costs nothing; a grant the
// store refused is asked for again. Requests are one at a time. Thread-safe.
class GrantClient {
 public:
  GrantClient(const std::vector<ObjectGrant>& grants, EventWriter emit,
              std::function<Result<std::string>()> read_line);

  Result<QueryParams> Authorize(const S3Operation& op, bool renew);
  S3Authorizer AsAuthorizer();

 private:
  Result<QueryParams> Ask(const S3Operation& op);

  EventWriter emit_;
  std::function<Result<std::string>()> read_line_;
  std::mutex ask_mu_;  // held through one exchange; guards next_id_
  int64_t next_id_ = 1;
  std::mutex cache_mu_;  // a kept grant is served while another is being asked for
  std::map<std::string, QueryParams> cache_;  // by OperationKey
};

}  // namespace standby
