#pragma once

#include <string>

#include "base/result.h"
#include "remote/agent_protocol.h"
#include "store/open_store.h"

namespace standby {

// How an agent reaches the repository: its URL as the host sees it (an absolute path,
// file:///… or s3://…) and the S3 settings with the controller's credentials.
struct StoreAccess {
  std::string repo;
  StoreSettings settings;
};

// Fills the store part of `job`. For an s3:// repository the endpoint's host name is
// resolved here and its addresses put in the job: the agent does not resolve names.
// kInvalidArgument for a repository a host cannot name (a relative path).
Status AddStoreAccess(const StoreAccess& access, AgentJob* job);

}  // namespace standby
