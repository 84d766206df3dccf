#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"
#include "env/clock.h"
#include "env/executor.h"
#include "store/object_store.h"

namespace standby {

enum class LockKind { kShared, kExclusive };

// One lock object as found in the store.
struct LockInfo {
  std::string key;
  std::string kind;  // "shared" | "exclusive"; "" when unreadable
  std::string operation;
  std::string hostname;
  int64_t pid = 0;
  std::string process_space;  // ProcessSpaceId() of the holder ("" when written without)
  UnixNanos created_at_ns = 0;
  UnixNanos refreshed_at_ns = 0;  // the holder's word, bounded by the store's modification time
  bool readable = true;
  bool stale = false;  // not refreshed for RepoLock::kStaleAfter: its holder is gone
  // Taken in this process space (same host name, boot and pid namespace) by a process that is
  // no longer running.
  bool holder_gone = false;
  // "snapshot create on HOST (pid N) since TIME".
  std::string Describe() const;
};

// Every lock of the repository, with whether its holder is known to be gone. A lock names its
// host, process space (boot and pid namespace) and pid: when that process no longer runs in
// our own process space, the holder died without releasing it (kill -9, a crash) and the lock
// need not wait kStaleAfter to be ignored. A reused pid only keeps a lock longer.
Result<std::vector<LockInfo>> ListLocks(ObjectStore* store, Clock* clock);

struct UnlockResult {
  std::vector<LockInfo> locks;       // every lock found
  std::vector<std::string> removed;  // keys of those removed
};
// Removes the locks nobody holds any more: stale, unreadable, or taken on this host by a
// process that is gone; with `all`, every lock (the operator knows the holders are dead).
Result<UnlockResult> RemoveStaleLocks(ObjectStore* store, Clock* clock, bool all);

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
  // A `cancel` set while it waits ends the wait at once with kCancelled. The refresher runs
  // on `executor`.
  static Result<std::unique_ptr<RepoLock>> Acquire(ObjectStore* store, LockKind kind,
                                                   const std::string& operation, Clock* clock,
                                                   std::chrono::seconds wait,
                                                   const StopSignal* cancel = nullptr,
                                                   Executor* executor = Executor::Threads());
  ~RepoLock();
  RepoLock(const RepoLock&) = delete;
  RepoLock& operator=(const RepoLock&) = delete;

  // Stops refreshing and deletes the lock object.
  Status Release();
  // Stops refreshing and leaves the lock object behind, as a holder that crashed would.
  void Abandon();
  const std::string& key() const { return key_; }

 private:
  RepoLock(ObjectStore* store, Clock* clock, std::string key, std::string body_prefix,
           Executor* executor);
  void RefreshLoop();

  ObjectStore* store_;
  Clock* clock_;
  std::string key_;
  std::string record_;  // JSON without the refresh time
  StopSignal stopped_;
  std::unique_ptr<Executor::Task> refresher_;
};

}  // namespace standby
