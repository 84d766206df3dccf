// The event log's writer: what the controller reports arrives in the store in order, with
// its type and fields, and the controller never waits for the database.
#include "failover/event_recorder.h"

#include <gtest/gtest.h>

#include <future>
#include <nlohmann/json.hpp>

#include "state/forwarding_state_store.h"
#include "state/open_state_store.h"
#include "testing/test_util.h"

namespace standby {
namespace {

// A store whose appends wait until the test opens the gate.
class GatedStore : public ForwardingStateStore {
 public:
  using ForwardingStateStore::ForwardingStateStore;
  Result<int64_t> AppendEvent(const EventRow& event) override {
    gate_.wait();
    return ForwardingStateStore::AppendEvent(event);
  }
  void Open() { opened_.set_value(); }

 private:
  std::promise<void> opened_;
  std::shared_future<void> gate_ = opened_.get_future().share();
};

FailoverEvent Row(const std::string& phase, int64_t completed_at = 0) {
  FailoverEvent e;
  e.failover_id = "fo-1";
  e.instance_id = "llm-1";
  e.trigger = "host_dead";
  e.started_at = 1000;
  e.phase = phase;
  e.completed_at = completed_at;
  e.success = completed_at > 0;
  e.total_ms = completed_at > 0 ? 41600 : 0;
  return e;
}

TEST(EventRecorderTest, EventsArriveInOrderAndTheControllerNeverWaitsForTheStore) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto inner, OpenStateStore("", dir.Sub("state")));
  GatedStore store(std::move(inner));
  {
    EventRecorder recorder(&store, Clock::Real());
    // With the database stuck, every report returns at once (they only queue).
    auto reported = std::async(std::launch::async, [&] {
      recorder.FailoverPhase(Row("detected"));
      recorder.FailoverPhase(Row("restoring"));
      recorder.FailoverPhase(Row("done", 42600));
      recorder.HealthChanged("llm-1", "healthy", "failed over");
      SnapshotRow taken;
      taken.snapshot_id = "s-1";
      taken.bytes_uploaded = 7;
      recorder.SnapshotFinished("llm-1", &taken, 0, "");
      recorder.SnapshotFinished("llm-1", nullptr, 3, "store away");
    });
    const std::future_status waited = reported.wait_for(std::chrono::seconds(10));
    store.Open();  // first: a failed check must not leave the recorder's writer stuck
    ASSERT_EQ(waited, std::future_status::ready) << "a report waited for the database";
  }  // the recorder writes what is queued before it goes
  ASSERT_OK_AND_ASSIGN(auto events, store.ListEventsAfter(0, 100));
  std::vector<std::string> types;
  for (const EventRow& e : events) types.push_back(e.type);
  EXPECT_EQ(types, (std::vector<std::string>{"failover.started", "failover.phase",
                                             "failover.finished", "instance.health",
                                             "snapshot.finished", "snapshot.finished"}));
  auto data = [&](size_t i) { return nlohmann::json::parse(events[i].data_json); };
  EXPECT_EQ(data(1)["phase"], "restoring");
  EXPECT_EQ(data(2)["success"], true);
  EXPECT_EQ(data(2)["total_ms"], 41600);
  EXPECT_EQ(data(3)["state"], "healthy");
  EXPECT_EQ(data(4)["result"], "ok");
  EXPECT_EQ(data(4)["bytes_uploaded"], 7);
  EXPECT_EQ(data(5)["result"], "failed");
  EXPECT_EQ(data(5)["failures"], 3);
  EXPECT_EQ(events[0].instance_id, "llm-1");
}

TEST(EventRecorderTest, AFenceChangeIsLoggedAndAHostsInvalidUtf8NeverThrows) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto store, OpenStateStore("", dir.Sub("state")));
  {
    EventRecorder recorder(store.get(), Clock::Real());
    FailoverEvent row = Row("starting");
    row.fence = "pending";
    row.fence_detail = "cannot stop the workload: \xff\xfe";
    row.original_instance_id = "1001";
    recorder.FenceChanged(row);
    recorder.HealthChanged("llm-1", "suspect", "agent said \xc3\x28");
  }
  ASSERT_OK_AND_ASSIGN(auto events, store->ListEventsAfter(0, 100));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, "failover.fence");
  auto fence = nlohmann::json::parse(events[0].data_json);
  EXPECT_EQ(fence["fence"], "pending");
  EXPECT_EQ(fence["old_instance"], "1001");
  EXPECT_EQ(fence["failover_id"], "fo-1");
  EXPECT_EQ(events[1].type, "instance.health");
  EXPECT_NE(
      nlohmann::json::parse(events[1].data_json)["detail"].get<std::string>().find("agent said"),
      std::string::npos);
}

}  // namespace
}  // namespace standby
