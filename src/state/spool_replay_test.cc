// How the spool replays against a database that answers with errors: a retryable one keeps
// the line (and every line behind it) for later; a permanent refusal sets the line aside in
// <spool>.rejected and the lines behind it still replay. And how SQLSTATEs are classified.
#include <gtest/gtest.h>

#include <atomic>

#include "env/file_system.h"
#include "state/forwarding_state_store.h"
#include "state/open_state_store.h"
#include "state/spooling_state_store.h"
#include "state/sql_errors.h"
#include "testing/test_util.h"

namespace standby {
namespace {

// A database that is away while `down`, and refuses failover "poison" for good.
class RefusingStore : public ForwardingStateStore {
 public:
  using ForwardingStateStore::ForwardingStateStore;
  Status RecordFailoverEvent(const FailoverEvent& e) override {
    if (down) return SqlStateError("57P03", "the database system is starting up", false);
    if (e.failover_id == "poison") {
      return SqlStateError("22P02", "invalid input syntax for type bigint", false);
    }
    return ForwardingStateStore::RecordFailoverEvent(e);
  }
  std::atomic<bool> down{false};
};

FailoverEvent Event(const std::string& id) {
  FailoverEvent e;
  e.failover_id = id;
  e.instance_id = "gpu-1";
  e.trigger = "manual";
  e.started_at = 1000;
  e.phase = "replacing";
  return e;
}

TEST(SpoolReplayTest, ARefusedLineIsSetAsideAndNeverBlocksTheWritesBehindIt) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto inner, OpenStateStore("", dir.Sub("state")));
  auto refusing = std::make_unique<RefusingStore>(std::move(inner));
  RefusingStore* db = refusing.get();
  const std::string spool = dir.Sub("state.spool");
  SpoolingStateStore store(std::move(refusing), spool);

  db->down = true;
  for (const char* id : {"first", "poison", "last"})
    ASSERT_OK(store.RecordFailoverEvent(Event(id)));
  ASSERT_OK_AND_ASSIGN(size_t pending, store.Pending());
  EXPECT_EQ(pending, 3u);
  // Still away: a retryable error keeps everything, in order.
  EXPECT_FALSE(store.FlushPending().has_value());
  ASSERT_OK_AND_ASSIGN(size_t still, store.Pending());
  EXPECT_EQ(still, 3u);

  db->down = false;
  ASSERT_OK(store.FlushPending());
  ASSERT_OK_AND_ASSIGN(size_t left, store.Pending());
  EXPECT_EQ(left, 0u);
  ASSERT_OK_AND_ASSIGN(auto rows, store.ListFailoverEvents());
  std::vector<std::string> ids;
  for (const FailoverEvent& e : rows) ids.push_back(e.failover_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"first", "last"}));
  ASSERT_OK_AND_ASSIGN(std::string rejected,
                       ReadFileToString(FileSystem::Real(), spool + ".rejected"));
  EXPECT_NE(rejected.find("poison"), std::string::npos);
  EXPECT_EQ(rejected.find("first"), std::string::npos);
}

TEST(SqlStateErrorTest, TheDatabaseBeingAwayIsRetryableAndEverythingElseIsNot) {
  for (const char* away :
       {"08006", "08001", "53300", "53100", "57P01", "57P03", "57014", "25006", "40001", "40P01"}) {
    Error e = SqlStateError(away, "x", false);
    EXPECT_EQ(e.code, ErrorCode::kUnavailable) << away;
    EXPECT_NE(e.message.find(away), std::string::npos) << "the SQLSTATE is not in the message";
  }
  EXPECT_EQ(SqlStateError("23505", "duplicate key", false).code, ErrorCode::kConflict);
  for (const char* permanent : {"22P02", "42P01", "42703", "23502", "25001", "XX000"}) {
    EXPECT_EQ(SqlStateError(permanent, "x", false).code, ErrorCode::kInternal) << permanent;
  }
  EXPECT_EQ(SqlStateError("42P01", "x", true).code, ErrorCode::kUnavailable)
      << "a lost connection is retryable whatever the state says";
}

}  // namespace
}  // namespace standby
