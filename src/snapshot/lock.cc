#include "snapshot/lock.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <limits>
#include <nlohmann/json.hpp>

#include "base/json_fields.h"
#include "base/log.h"
#include "base/strings.h"
#include "env/host_info.h"
#include "snapshot/repository.h"

namespace standby {
namespace {

using nlohmann::json;

std::string LockBody(const json& record, UnixNanos refreshed_at) {
  json j = record;
  j["refreshed_at_ns"] = refreshed_at;
  return j.dump();
}

// Whether `pid` on this host is certainly not running (a live process, or one we may not
// signal, counts as running).
bool ProcessGone(int64_t pid) {
  if (pid <= 0 || pid > std::numeric_limits<pid_t>::max()) return false;
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

LockInfo ParseLock(const ObjectInfo& info, const std::string& body, Clock* clock) {
  LockInfo lock;
  lock.key = info.key;
  try {
    json j = ParseUntrustedJson(body);
    lock.kind = j.at("kind").get<std::string>();
    lock.operation = j.value("operation", "?");
    lock.hostname = j.value("hostname", "?");
    lock.process_space = j.value("process_space", "");
    lock.pid = j.value("pid", int64_t{0});
    lock.created_at_ns = j.value("created_at_ns", int64_t{0});
    lock.refreshed_at_ns = j.at("refreshed_at_ns").get<int64_t>();
  } catch (const std::exception&) {
    lock.readable = false;
    lock.refreshed_at_ns = info.last_modified;
  }
  // The body's time is the writer's word (a host's); the store's own modification time
  // bounds it, so a lock written with a time in the future still goes stale.
  const int64_t stale_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(RepoLock::kStaleAfter).count();
  if (info.last_modified > 0) {
    lock.refreshed_at_ns = std::min(lock.refreshed_at_ns, info.last_modified + stale_ns);
  }
  lock.stale = clock->Now() - lock.refreshed_at_ns > stale_ns;
  const std::string here = ProcessSpaceId();
  lock.holder_gone = lock.readable && !here.empty() && lock.process_space == here &&
                     lock.hostname == LocalHostname() && ProcessGone(lock.pid);
  return lock;
}

}  // namespace

std::string LockInfo::Describe() const {
  if (!readable) return "unreadable lock " + key;
  // A host may have written the record: its words reach terminals and logs escaped.
  return EscapeControl(operation) + " on " + EscapeControl(hostname) + " (pid " +
         std::to_string(pid) + ") since " + FormatRfc3339(created_at_ns);
}

Result<std::vector<LockInfo>> ListLocks(ObjectStore* store, Clock* clock) {
  ASSIGN_OR_RETURN(auto objects, ListAll(store, "locks/"));
  std::vector<LockInfo> locks;
  for (const ObjectInfo& info : objects) {
    // A host may write a lock: one larger than any lock is unreadable, not read whole.
    auto body = store->GetBounded(info.key, kMaxLockBytes);
    if (!body && body.error().code == ErrorCode::kResourceExhausted) {
      locks.push_back(ParseLock(info, "", clock));
      continue;
    }
    if (!body) {
      if (body.error().code == ErrorCode::kNotFound) continue;  // released meanwhile
      return body.error();
    }
    locks.push_back(ParseLock(info, *body, clock));
  }
  return locks;
}

RepoLock::RepoLock(ObjectStore* store, Clock* clock, std::string key, std::string record,
                   Executor* executor)
    : store_(store), clock_(clock), key_(std::move(key)), record_(std::move(record)) {
  refresher_ = executor->Spawn("lock refresher", [this] { RefreshLoop(); });
}

RepoLock::~RepoLock() { Release().IgnoreError(); }

Result<std::unique_ptr<RepoLock>> RepoLock::Acquire(ObjectStore* store, LockKind kind,
                                                    const std::string& operation, Clock* clock,
                                                    std::chrono::seconds wait,
                                                    const StopSignal* cancel, Executor* executor) {
  std::string key = "locks/" + RandomHex(16);
  json record = {{"kind", kind == LockKind::kShared ? "shared" : "exclusive"},
                 {"operation", operation},
                 {"hostname", LocalHostname()},
                 {"pid", static_cast<int64_t>(::getpid())},
                 {"process_space", ProcessSpaceId()},
                 {"created_at_ns", clock->Now()}};
  const int64_t deadline = clock->MonotonicNanos() + wait.count() * 1'000'000'000;
  auto backoff = std::chrono::milliseconds(500);
  while (true) {
    RETURN_IF_ERROR(store->Put(key, LockBody(record, clock->Now())));
    ASSIGN_OR_RETURN(auto locks, ListLocks(store, clock));
    std::optional<LockInfo> blocker;
    for (const LockInfo& other : locks) {
      if (other.key == key || other.stale) continue;
      if (!other.readable) {
        spdlog::warn("ignoring unreadable lock object {}", other.key);
        continue;
      }
      if (other.holder_gone) {
        spdlog::warn("removing the lock of {}, which is no longer running", other.Describe());
        store->Delete(other.key).IgnoreError();  // if it stays, it goes stale on its own
        continue;
      }
      if (kind == LockKind::kShared && other.kind != "exclusive") continue;
      if (!blocker) blocker = other;  // the scan goes on: dead holders' locks still go
    }
    if (!blocker) {
      return std::unique_ptr<RepoLock>(new RepoLock(store, clock, key, record.dump(), executor));
    }
    store->Delete(key).IgnoreError();  // ours; if this fails it goes stale on its own
    if (clock->MonotonicNanos() >= deadline) {
      return ConflictError("repository " + store->Url() + " is locked by " + blocker->Describe() +
                               "; try again when it has finished (if it is not running any "
                               "more, `standby unlock` removes its lock)",
                           /*retryable=*/true);
    }
    spdlog::info("repository is locked by {}; waiting", blocker->Describe());
    if (!SleepUnlessStopped(clock, backoff, cancel)) {
      return CancelledError("interrupted while waiting for the repository lock held by " +
                            blocker->Describe() + "; nothing changed");
    }
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
}

Result<UnlockResult> RemoveStaleLocks(ObjectStore* store, Clock* clock, bool all) {
  UnlockResult result;
  ASSIGN_OR_RETURN(result.locks, ListLocks(store, clock));
  for (const LockInfo& lock : result.locks) {
    if (!all && !lock.stale && !lock.holder_gone && lock.readable) continue;
    Status deleted = store->Delete(lock.key);
    if (!deleted) return deleted.error().WithContext("removing lock " + lock.key);
    result.removed.push_back(lock.key);
  }
  return result;
}

void RepoLock::RefreshLoop() {
  while (clock_->WaitUnless(kRefreshInterval, stopped_)) {
    Status put = store_->Put(key_, LockBody(json::parse(record_), clock_->Now()));
    if (!put) spdlog::warn("could not refresh repository lock: {}", put.error().message);
  }
}

void RepoLock::Abandon() {
  if (stopped_.Set()) return;
  refresher_->Join();
}

Status RepoLock::Release() {
  if (stopped_.Set()) return OkStatus();
  refresher_->Join();
  return store_->Delete(key_);
}

}  // namespace standby
