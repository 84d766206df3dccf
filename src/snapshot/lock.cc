#include "snapshot/lock.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "base/json_fields.h"
#include "base/log.h"
#include "base/strings.h"
#include "env/host_info.h"

namespace standby {
namespace {

using nlohmann::json;

std::string LockBody(const json& record, UnixNanos refreshed_at) {
  json j = record;
  j["refreshed_at_ns"] = refreshed_at;
  return j.dump();
}

struct Holder {
  std::string kind;
  std::string description;
};

}  // namespace

RepoLock::RepoLock(ObjectStore* store, Clock* clock, std::string key, std::string record)
    : store_(store), clock_(clock), key_(std::move(key)), record_(std::move(record)) {
  refresher_ = std::thread([this] { RefreshLoop(); });
}

RepoLock::~RepoLock() { Release().IgnoreError(); }

Result<std::unique_ptr<RepoLock>> RepoLock::Acquire(ObjectStore* store, LockKind kind,
                                                    const std::string& operation, Clock* clock,
                                                    std::chrono::seconds wait) {
  std::string key = "locks/" + RandomHex(16);
  json record = {{"kind", kind == LockKind::kShared ? "shared" : "exclusive"},
                 {"operation", operation},
                 {"hostname", LocalHostname()},
                 {"pid", static_cast<int64_t>(::getpid())},
                 {"created_at_ns", clock->Now()}};
  const int64_t deadline = clock->MonotonicNanos() + wait.count() * 1'000'000'000;
  auto backoff = std::chrono::milliseconds(500);
  while (true) {
    RETURN_IF_ERROR(store->Put(key, LockBody(record, clock->Now())));
    ASSIGN_OR_RETURN(auto locks, ListAll(store, "locks/"));
    std::optional<Holder> blocker;
    for (const ObjectInfo& info : locks) {
      if (info.key == key) continue;
      auto body = store->Get(info.key);
      if (!body) {
        if (body.error().code == ErrorCode::kNotFound) continue;  // released meanwhile
        return body.error();
      }
      try {
        json other = ParseUntrustedJson(*body);
        // The body's time is the writer's word (a host's); the store's own modification time
        // bounds it, so a lock written with a time in the future still goes stale.
        const int64_t stale_ns =
            std::chrono::duration_cast<std::chrono::nanoseconds>(kStaleAfter).count();
        UnixNanos refreshed = other.at("refreshed_at_ns").get<int64_t>();
        if (info.last_modified > 0) refreshed = std::min(refreshed, info.last_modified + stale_ns);
        if (clock->Now() - refreshed >
            std::chrono::duration_cast<std::chrono::nanoseconds>(kStaleAfter).count()) {
          continue;
        }
        std::string other_kind = other.at("kind").get<std::string>();
        if (kind == LockKind::kShared && other_kind != "exclusive") continue;
        blocker = Holder{other_kind, other.value("operation", "?") + " on " +
                                         other.value("hostname", "?") + " (pid " +
                                         std::to_string(other.value("pid", 0)) + ") since " +
                                         FormatRfc3339(other.value("created_at_ns", int64_t{0}))};
        break;
      } catch (const std::exception&) {
        spdlog::warn("ignoring unreadable lock object {}", info.key);
      }
    }
    if (!blocker) {
      return std::unique_ptr<RepoLock>(new RepoLock(store, clock, key, record.dump()));
    }
    store->Delete(key).IgnoreError();  // ours; if this fails it goes stale on its own
    if (clock->MonotonicNanos() >= deadline) {
      return ConflictError("repository " + store->Url() + " is locked by " + blocker->description +
                               "; try again when it has finished",
                           /*retryable=*/true);
    }
    spdlog::info("repository is locked by {}; waiting", blocker->description);
    clock->SleepFor(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
}

void RepoLock::RefreshLoop() {
  while (clock_->WaitUnless(kRefreshInterval, stopped_)) {
    Status put = store_->Put(key_, LockBody(json::parse(record_), clock_->Now()));
    if (!put) spdlog::warn("could not refresh repository lock: {}", put.error().message);
  }
}

void RepoLock::Abandon() {
  if (stopped_.Set()) return;
  if (refresher_.joinable()) refresher_.join();
}

Status RepoLock::Release() {
  if (stopped_.Set()) return OkStatus();
  if (refresher_.joinable()) refresher_.join();
  return store_->Delete(key_);
}

}  // namespace standby
