#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "base/result.h"
#include "env/clock.h"
#include "store/object_store.h"

namespace standby {

enum class LockKind { kShared, kExclusive };

// A repository lock held as an object "locks/<random id>". Snapshot writers hold shared
// locks; prune holds the exclusive one. A writer waits while an exclusive lock exists; prune
// refuses to start while any other lock exists. Each side writes its own lock before looking
// at the others, so with a store whose listings reflect completed writes (S3, local
// directories) at least one of two racing parties backs off. Locks are refreshed every
// `kRefreshInterval` of `clock` time by a background thread and are ignored (stale) when their last
// refresh is older than `kStaleAfter`, so a crashed holder blocks nobody for long.
class RepoLock {
 public:
  static constexpr std::chrono::minutes kRefreshInterval{2};
  static constexpr std::chrono::minutes kStaleAfter{10};

  // Retries until `wait` has passed on `clock`; then kConflict (retryable) naming the holder.
  static Result<std::unique_ptr<RepoLock>> Acquire(ObjectStore* store, LockKind kind,
                                                   const std::string& operation, Clock* clock,
                                                   std::chrono::seconds wait);
  ~RepoLock();
  RepoLock(const RepoLock&) = delete;
  RepoLock& operator=(const RepoLock&) = delete;

  // Stops refreshing and deletes the lock object.
  Status Release();
  // Stops refreshing and leaves the lock object behind, as a holder that crashed would.
  void Abandon();
  const std::string& key() const { return key_; }

 private:
  RepoLock(ObjectStore* store, Clock* clock, std::string key, std::string body_prefix);
  void RefreshLoop();

  ObjectStore* store_;
  Clock* clock_;
  std::string key_;
  std::string record_;  // JSON without the refresh time
  StopSignal stopped_;
  std::thread refresher_;
};

}  // namespace standby
