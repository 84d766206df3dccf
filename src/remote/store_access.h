#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "base/result.h"
#include "remote/agent_protocol.h"
#include "remote/store_grants.h"
#include "store/open_store.h"

namespace standby {

// How an agent reaches the repository: its URL as the host sees it (an absolute path,
// file:///… or s3://…) and the controller's S3 settings. The credentials in them stay here:
// the host gets grants (remote/store_grants.h).
struct StoreAccess {
  std::string repo;
  StoreSettings settings;
  // Opened by the first S3 job and shared by copies: the jobs of one failover read the
  // repository's config and manifest once.
  mutable std::shared_ptr<RepositorySigner> signer;
};

// Fills the store part of `job`. For an s3:// repository: the endpoint's host name resolved
// here and its addresses put in the job (the agent does not resolve names), and the grants
// the job gets in advance; the returned StoreGrants answers the job's further requests.
// Null for a directory repository, which the host reads itself. kInvalidArgument for a
// repository a host cannot name (a relative path).
// For a snapshot job the controller takes the repository's shared lock itself (a host never
// writes a lock), waiting at most kHostLockWait, and holds it until the grants are destroyed.
inline constexpr std::chrono::seconds kHostLockWait{10};
Result<std::unique_ptr<StoreGrants>> AddStoreAccess(const StoreAccess& access, AgentJob* job);

}  // namespace standby
