#include "snapshot/lock.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "env/host_info.h"
#include "snapshot/repository.h"
#include "store/mem_object_store.h"
#include "testing/test_util.h"

namespace standby {
namespace {

TEST(RepoLockTest, SharedLocksCoexist) {
  MemObjectStore store(Clock::Real());
  FakeClock clock;
  ASSERT_OK_AND_ASSIGN(
      auto a, RepoLock::Acquire(&store, LockKind::kShared, "a", &clock, std::chrono::seconds(0)));
  ASSERT_OK_AND_ASSIGN(
      auto b, RepoLock::Acquire(&store, LockKind::kShared, "b", &clock, std::chrono::seconds(0)));
  EXPECT_EQ(store.TEST_ObjectCount(), 2u);
  ASSERT_OK(a->Release());
  ASSERT_OK(b->Release());
  EXPECT_EQ(store.TEST_ObjectCount(), 0u);
}

TEST(RepoLockTest, ExclusiveWaitsForNobodyAndNamesTheHolder) {
  MemObjectStore store(Clock::Real());
  FakeClock clock;
  ASSERT_OK_AND_ASSIGN(auto writer, RepoLock::Acquire(&store, LockKind::kShared, "snapshot create",
                                                      &clock, std::chrono::seconds(0)));
  auto prune = RepoLock::Acquire(&store, LockKind::kExclusive, "snapshot prune", &clock,
                                 std::chrono::seconds(10));
  ASSERT_FALSE(prune.has_value());
  EXPECT_EQ(prune.error().code, ErrorCode::kConflict);
  EXPECT_TRUE(prune.error().retryable);
  EXPECT_NE(prune.error().message.find("snapshot create"), std::string::npos);
  EXPECT_EQ(store.TEST_ObjectCount(), 1u);  // the failed attempt removed its own lock
}

TEST(RepoLockTest, WritersWaitForPruneThenGetIn) {
  MemObjectStore store(Clock::Real());
  FakeClock clock;
  ASSERT_OK_AND_ASSIGN(auto prune, RepoLock::Acquire(&store, LockKind::kExclusive, "prune", &clock,
                                                     std::chrono::seconds(0)));
  EXPECT_FALSE(RepoLock::Acquire(&store, LockKind::kShared, "w", &clock, std::chrono::seconds(3))
                   .has_value());
  ASSERT_OK(prune->Release());
  EXPECT_OK(RepoLock::Acquire(&store, LockKind::kShared, "w", &clock, std::chrono::seconds(0)));
}

TEST(RepoLockTest, ALiveHolderRefreshesOnTheInjectedClock) {
  MemObjectStore store(Clock::Real());
  FakeClock clock;
  ASSERT_OK_AND_ASSIGN(auto holder, RepoLock::Acquire(&store, LockKind::kShared, "w", &clock,
                                                      std::chrono::seconds(0)));
  // Past the stale age in steps shorter than the refresh interval: the holder refreshes.
  for (int i = 0; i < 12; ++i) {
    clock.Advance(std::chrono::minutes(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(40));  // the refresher's poll
  }
  EXPECT_FALSE(
      RepoLock::Acquire(&store, LockKind::kExclusive, "prune", &clock, std::chrono::seconds(0))
          .has_value());
  ASSERT_OK(holder->Release());
}

TEST(RepoLockTest, StaleLocksOfCrashedHoldersAreIgnored) {
  MemObjectStore store(Clock::Real());
  FakeClock clock;
  ASSERT_OK_AND_ASSIGN(auto crashed, RepoLock::Acquire(&store, LockKind::kShared, "w", &clock,
                                                       std::chrono::seconds(0)));
  crashed->Abandon();
  clock.Advance(RepoLock::kStaleAfter + std::chrono::minutes(1));
  EXPECT_OK(
      RepoLock::Acquire(&store, LockKind::kExclusive, "prune", &clock, std::chrono::seconds(0)));
}

// A lock written by a hostile host claiming to be refreshed far in the future still goes
// stale: the store's modification time bounds what its body claims.
TEST(RepoLockTest, ALockDatedInTheFutureStillGoesStale) {
  FakeClock clock;
  MemObjectStore store(&clock);
  ASSERT_OK(store.Put("locks/0123456789abcdef",
                      "{\"kind\":\"exclusive\",\"operation\":\"forever\","
                      "\"refreshed_at_ns\":9000000000000000000}"));
  EXPECT_EQ(RepoLock::Acquire(&store, LockKind::kShared, "w", &clock, std::chrono::seconds(0))
                .error()
                .code,
            ErrorCode::kConflict);
  clock.Advance(2 * RepoLock::kStaleAfter + std::chrono::minutes(1));
  EXPECT_OK(RepoLock::Acquire(&store, LockKind::kShared, "w", &clock, std::chrono::seconds(0)));
}

// Lock records may come from anywhere (an old host's, a damaged object): an oversized one is
// not read whole (it is unreadable, blocks nobody), and its words reach messages escaped.
TEST(RepoLockTest, AHugeLockIsNotReadAndALocksWordsAreEscaped) {
  FakeClock clock;
  MemObjectStore store(&clock);
  // A whole, fresh exclusive record, padded past the limit: read, it would block everyone.
  ASSERT_OK(store.Put("locks/00000000000000000000000000000001",
                      std::string(kMaxLockBytes, ' ') +
                          "{\"kind\":\"exclusive\",\"operation\":\"x\",\"refreshed_at_ns\":" +
                          std::to_string(clock.Now()) + "}"));
  ASSERT_OK_AND_ASSIGN(auto locks, ListLocks(&store, &clock));
  ASSERT_EQ(locks.size(), 1u);
  EXPECT_FALSE(locks[0].readable);
  ASSERT_OK(RepoLock::Acquire(&store, LockKind::kShared, "w", &clock, std::chrono::seconds(0)));
  ASSERT_OK(store.Delete("locks/00000000000000000000000000000001"));
  ASSERT_OK(store.Put("locks/00000000000000000000000000000002",
                      "{\"kind\":\"exclusive\",\"operation\":\"\\u001b]0;owned\\u0007\","
                      "\"hostname\":\"h\\u001b[2J\",\"refreshed_at_ns\":0}"));
  clock.Advance(std::chrono::seconds(1));
  ASSERT_OK_AND_ASSIGN(locks, ListLocks(&store, &clock));
  ASSERT_EQ(locks.size(), 1u);
  EXPECT_EQ(locks[0].Describe().find('\x1b'), std::string::npos) << locks[0].Describe();
  EXPECT_NE(locks[0].Describe().find("\\x1b]0;owned\\x07 on h\\x1b[2J"), std::string::npos)
      << locks[0].Describe();
}

// A lock left on this host by a process that is gone (Ctrl-C'd, kill -9) blocks nobody and
// is removed at once; one of a live process, or of another host, still blocks; `unlock`
// removes what nobody holds and, with `all`, the rest.
TEST(RepoLockTest, ALockOfAProcessThatIsGoneIsBrokenAtOnce) {
  FakeClock clock;
  MemObjectStore store(&clock);
  pid_t dead = ::fork();
  if (dead == 0) _exit(0);
  ASSERT_GT(dead, 0);
  ::waitpid(dead, nullptr, 0);
  auto record = [&](int64_t pid, const std::string& host,
                    const std::string& space = ProcessSpaceId()) {
    return nlohmann::json({{"kind", "exclusive"},
                           {"operation", "snapshot prune"},
                           {"hostname", host},
                           {"process_space", space},
                           {"pid", pid},
                           {"created_at_ns", clock.Now()},
                           {"refreshed_at_ns", clock.Now()}})
        .dump();
  };
  ASSERT_FALSE(ProcessSpaceId().empty());
  ASSERT_OK(store.Put("locks/dead", record(dead, LocalHostname())));
  ASSERT_OK_AND_ASSIGN(auto lock, RepoLock::Acquire(&store, LockKind::kShared, "w", &clock,
                                                    std::chrono::seconds(0)));
  EXPECT_EQ(store.Head("locks/dead").error().code, ErrorCode::kNotFound);
  ASSERT_OK(lock->Release());

  ASSERT_OK(store.Put("locks/alive", record(::getpid(), LocalHostname())));
  ASSERT_OK(store.Put("locks/elsewhere", record(dead, "another-host")));
  // Same host name, another container's pid namespace: its pids are not ours to judge.
  ASSERT_OK(store.Put("locks/container", record(dead, LocalHostname(), "b00t/pid:[1]")));
  ASSERT_OK(store.Put("locks/dead", record(dead, LocalHostname())));
  auto blocked = RepoLock::Acquire(&store, LockKind::kShared, "w", &clock, std::chrono::seconds(0));
  ASSERT_FALSE(blocked.has_value());
  EXPECT_NE(blocked.error().message.find("`standby unlock` removes its lock"), std::string::npos);
  ASSERT_OK_AND_ASSIGN(UnlockResult unlocked, RemoveStaleLocks(&store, &clock, false));
  EXPECT_EQ(unlocked.locks.size(), 3u);  // the dead one went with the failed Acquire
  EXPECT_TRUE(unlocked.removed.empty());
  ASSERT_OK(store.Put("locks/dead", record(dead, LocalHostname())));
  ASSERT_OK_AND_ASSIGN(unlocked, RemoveStaleLocks(&store, &clock, false));
  EXPECT_EQ(unlocked.removed, std::vector<std::string>{"locks/dead"});
  ASSERT_OK_AND_ASSIGN(unlocked, RemoveStaleLocks(&store, &clock, true));
  EXPECT_EQ(unlocked.removed.size(), 3u);
  EXPECT_EQ(store.TEST_ObjectCount(), 0u);
}

}  // namespace
}  // namespace standby
