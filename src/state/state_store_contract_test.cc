// The StateStore contract, run against SQLite and a real PostgreSQL (PG_ tests).
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "state/metrics.h"
#include "state/migrations.h"
#include "state/open_state_store.h"
#include "state/spooling_state_store.h"
#include "state/sql_connection.h"
#include "testing/postgres.h"
#include "testing/test_util.h"

namespace standby {
namespace {

FailoverEvent FullEvent(const std::string& id, int64_t total_ms, std::string type = "incremental",
                        std::string trigger = "drill", bool success = true) {
  FailoverEvent e;
  e.failover_id = id;
  e.instance_id = "gpu-1";
  e.trigger = trigger;
  e.started_at = 1'795'000'000'000;
  e.completed_at = e.started_at + total_ms;
  e.success = success;
  e.failure_phase = success ? "" : "restore";
  e.failure_reason = success ? "" : "pack missing: 'quoted' \"too\"";
  e.detection_ms = 3000;
  e.gpu_provisioning_time_ms = 40000;
  e.snapshot_ms = 0;
  e.restore_ms = 9000;
  e.validation_ms = 1200;
  e.workload_start_ms = 4000;
  e.health_check_ms = 800;
  e.total_ms = total_ms;
  e.original_ssh_host = "ssh4.vast.ai";
  e.original_ssh_port = 41234;
  e.original_ssh_user = "ubuntu";
  e.snapshot_id = "20261129T010203Z-abcd0123";
  e.snapshot_type = type;
  e.base_snapshot_id = "20261129T000000Z-00000000";
  e.files_changed = 3;
  e.new_instance_id = "vast-778899";
  e.new_ssh_host = "ssh7.vast.ai";
  e.new_ssh_port = 22;
  e.gpu_name = "RTX 4090";
  e.candidates_launched = 4;
  e.rounds = 1;
  e.rate_limit_hits = 1;
  e.files_restored = 212;
  e.files_expected = 212;
  e.bytes_restored = 1'073'741'824;
  e.phase_timings_json = R"({"detection_ms":3000,"restore_ms":9000})";
  return e;
}

struct SqliteBackend {
  TempDir dir;
  std::string Url() { return "sqlite://" + dir.Sub("state.db"); }
  std::unique_ptr<PostgresServer>* server() { return nullptr; }
};

struct PostgresBackend {
  std::unique_ptr<PostgresServer> pg;
  PostgresBackend() {
    auto started = PostgresServer::Start();
    if (!started) ADD_FAILURE() << started.error().message;
    if (started) pg = std::move(*started);
  }
  std::string Url() { return pg ? pg->url() : "postgresql://unavailable"; }
  std::unique_ptr<PostgresServer>* server() { return &pg; }
};

template <class Backend>
class StateStoreContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = OpenStateStore(backend_.Url(), "");
    ASSERT_TRUE(opened.has_value()) << opened.error().message;
    store_ = std::move(*opened);
  }
  Backend backend_;
  std::unique_ptr<StateStore> store_;
};

TYPED_TEST_SUITE_P(StateStoreContractTest);

TYPED_TEST_P(StateStoreContractTest, MigrationsAreAppliedOnceAndRerunsAreNoOps) {
  auto again = OpenStateStore(this->backend_.Url(), "");
  ASSERT_TRUE(again.has_value()) << again.error().message;
  std::unique_ptr<SqlConnection> conn;
  std::string url = this->backend_.Url();
  if (url.starts_with("sqlite://")) {
    ASSERT_OK_AND_ASSIGN(conn, OpenSqlite(url.substr(9)));
  } else {
    ASSERT_OK_AND_ASSIGN(conn, OpenPostgres(url));
  }
  ASSERT_OK_AND_ASSIGN(MigrationReport report, Migrate(conn.get()));
  EXPECT_TRUE(report.applied.empty());
  EXPECT_EQ(report.to_version, EmbeddedMigrations(conn->dialect()).back().version);
  ASSERT_OK_AND_ASSIGN(auto rows, conn->Query("SELECT version, checksum FROM schema_migrations"));
  ASSERT_EQ(rows.size(), EmbeddedMigrations(conn->dialect()).size());
  EXPECT_EQ(rows[0][1], EmbeddedMigrations(conn->dialect()).front().checksum);
}

TYPED_TEST_P(StateStoreContractTest, EveryColumnIsWrittenAndReadBack) {
  FailoverEvent failed = FullEvent("fo-2", 61000, "full", "automatic", false);
  ASSERT_OK(this->store_->RecordFailoverEvent(FullEvent("fo-1", 52000)));
  ASSERT_OK(this->store_->RecordFailoverEvent(failed));
  ASSERT_OK_AND_ASSIGN(auto events, this->store_->ListFailoverEvents());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0], FullEvent("fo-1", 52000));
  EXPECT_EQ(events[1], failed);

  ProtectedInstance p{"gpu-1",
                      R"({"gpu":"RTX 4090"})",
                      "vast-1",
                      "ssh4.vast.ai",
                      41234,
                      "protected",
                      "snap-1",
                      1'795'000'000'000,
                      2,
                      0,
                      1'795'000'000'500};
  ASSERT_OK(this->store_->CreateProtectedInstance(p));
  ASSERT_OK_AND_ASSIGN(auto got, this->store_->GetProtectedInstance("gpu-1"));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->spec_json, p.spec_json);
  EXPECT_EQ(got->ssh_port, 41234);
  EXPECT_EQ(got->consecutive_snapshot_failures, 2);
  EXPECT_EQ(got->version, 1);
  EXPECT_EQ(this->store_->CreateProtectedInstance(p).error().code, ErrorCode::kConflict);

  ProviderInstanceRow vm{"vast",     "778899", "m-42", "standby-gpu-1", "candidate",
                         "RTX 4090", 0.45,     1000,   61000,           0};
  ASSERT_OK(this->store_->RecordProviderInstance(vm));
  vm.destroyed_at = 99000;
  ASSERT_OK(this->store_->RecordProviderInstance(vm));  // upsert
  ASSERT_OK_AND_ASSIGN(auto vms, this->store_->ListProviderInstances());
  ASSERT_EQ(vms.size(), 1u);
  EXPECT_EQ(vms[0].destroyed_at, 99000);
  EXPECT_DOUBLE_EQ(vms[0].price_per_hour, 0.45);
  EXPECT_EQ(vms[0].machine_id, "m-42");

  SnapshotRow snap{"snap-1", "gpu-1", "incremental", "snap-0", 212, 3,
                   1 << 30,  4 << 20, 1000,          "lz4",    143};
  ASSERT_OK(this->store_->RecordSnapshot(snap));
  ASSERT_OK_AND_ASSIGN(auto snaps, this->store_->ListSnapshots("gpu-1"));
  ASSERT_EQ(snaps.size(), 1u);
  EXPECT_EQ(snaps[0].base_snapshot_id, "snap-0");
  EXPECT_EQ(snaps[0].bytes_total, 1 << 30);
  EXPECT_EQ(snaps[0].duration_ms, 143);

  ProvisioningAttempt won{"a-1", "fo-1", "vast", "offer-9", "m-42", "778899",
                          1000,  45000,  -1,     "won",     1};
  ProvisioningAttempt lost{"a-2", "fo-1", "vast", "offer-8",   "m-43", "778900",
                           1000,  -1,     47000,  "lost_race", 0};
  ASSERT_OK(this->store_->RecordProvisioningAttempt(won));
  ASSERT_OK(this->store_->RecordProvisioningAttempt(lost));
  ASSERT_OK_AND_ASSIGN(auto attempts, this->store_->ListProvisioningAttempts("vast"));
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].ready_ms, 45000);
  EXPECT_EQ(attempts[1].censored_ms, 47000);
  EXPECT_EQ(attempts[1].outcome, "lost_race");

  ASSERT_OK(this->store_->BlacklistMachine({"m-43", "never became ready", 5000}));
  ASSERT_OK(this->store_->BlacklistMachine({"m-44", "exited during boot", 500}));
  ASSERT_OK_AND_ASSIGN(auto black, this->store_->ActiveBlacklist(1000));
  ASSERT_EQ(black.size(), 1u);
  EXPECT_EQ(black[0].machine_id, "m-43");
}

TYPED_TEST_P(StateStoreContractTest, SummariesOfKnownDataGiveKnownNumbers) {
  ASSERT_OK(this->store_->RecordFailoverEvent(FullEvent("a", 40000, "incremental", "drill")));
  ASSERT_OK(this->store_->RecordFailoverEvent(FullEvent("b", 50000, "incremental", "automatic")));
  ASSERT_OK(this->store_->RecordFailoverEvent(FullEvent("c", 90000, "incremental", "automatic")));
  ASSERT_OK(this->store_->RecordFailoverEvent(FullEvent("d", 70000, "full", "automatic")));
  ASSERT_OK(this->store_->RecordFailoverEvent(FullEvent("e", 0, "full", "manual", false)));
  ASSERT_OK_AND_ASSIGN(auto events, this->store_->ListFailoverEvents());
  auto by_type = SummarizeFailovers(events, GroupBy::kSnapshotType);
  ASSERT_EQ(by_type.size(), 2u);
  EXPECT_EQ(by_type[0].group, "full");
  EXPECT_EQ(by_type[0].count, 2u);
  EXPECT_DOUBLE_EQ(by_type[0].success_rate, 0.5);
  EXPECT_DOUBLE_EQ(by_type[0].total_ms.mean, 70000);
  EXPECT_EQ(by_type[1].group, "incremental");
  EXPECT_DOUBLE_EQ(by_type[1].total_ms.mean, 60000);
  EXPECT_DOUBLE_EQ(by_type[1].total_ms.p50, 50000);
  EXPECT_DOUBLE_EQ(by_type[1].total_ms.p90, 90000);
  EXPECT_DOUBLE_EQ(by_type[1].phases.at("restore_ms").mean, 9000);
  auto by_trigger = SummarizeFailovers(events, GroupBy::kTrigger);
  ASSERT_EQ(by_trigger.size(), 3u);
  EXPECT_EQ(by_trigger[0].group, "automatic");
  EXPECT_EQ(by_trigger[0].count, 3u);
}

TYPED_TEST_P(StateStoreContractTest, TwoWritersOnOneInstanceOneWinsNothingIsLost) {
  ProtectedInstance p{"gpu-1", "{}", "vast-1", "h", 22, "protected", "", 0, 0, 0, 0};
  ASSERT_OK(this->store_->CreateProtectedInstance(p));
  ASSERT_OK_AND_ASSIGN(auto a, this->store_->GetProtectedInstance("gpu-1"));
  ASSERT_OK_AND_ASSIGN(auto b, this->store_->GetProtectedInstance("gpu-1"));
  a->status = "failing_over";
  a->provider_instance_id = "vast-2";
  b->status = "paused";
  ASSERT_OK_AND_ASSIGN(int64_t version, this->store_->UpdateProtectedInstance(*a));
  EXPECT_EQ(version, 2);
  auto lost = this->store_->UpdateProtectedInstance(*b);
  ASSERT_FALSE(lost.has_value());
  EXPECT_EQ(lost.error().code, ErrorCode::kConflict);
  EXPECT_TRUE(lost.error().retryable);
  ASSERT_OK_AND_ASSIGN(auto now, this->store_->GetProtectedInstance("gpu-1"));
  EXPECT_EQ(now->status, "failing_over");
  EXPECT_EQ(now->provider_instance_id, "vast-2");
  EXPECT_EQ(now->version, 2);
  b = now;  // the loser re-reads and retries
  b->status = "paused";
  ASSERT_OK_AND_ASSIGN(int64_t retried, this->store_->UpdateProtectedInstance(*b));
  EXPECT_EQ(retried, 3);
}

TYPED_TEST_P(StateStoreContractTest, FailoversAreNarrowedByInstanceIdAndUnfinished) {
  FailoverEvent a = FullEvent("fo-a", 1000);
  FailoverEvent b = FullEvent("fo-b", 2000);
  b.instance_id = "gpu-2";
  FailoverEvent running = FullEvent("fo-c", 0);
  running.completed_at = 0;
  running.started_at += 10;
  for (const FailoverEvent& e : {a, b, running}) ASSERT_OK(this->store_->RecordFailoverEvent(e));
  auto ids = [&](const FailoverFilter& f) {
    std::vector<std::string> out;
    auto events = this->store_->ListFailoverEvents(f);
    EXPECT_TRUE(events.has_value());
    if (events) {
      for (const FailoverEvent& e : *events) out.push_back(e.failover_id);
    }
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(ids({}), (V{"fo-a", "fo-b", "fo-c"}));
  EXPECT_EQ(ids({.instance_id = "gpu-1"}), (V{"fo-a", "fo-c"}));
  EXPECT_EQ(ids({.failover_id = "fo-b"}), (V{"fo-b"}));
  EXPECT_EQ(ids({.unfinished_only = true}), (V{"fo-c"}));
  EXPECT_EQ(ids({.instance_id = "gpu-2", .unfinished_only = true}), V{});
  EXPECT_EQ(ids({.instance_id = "nobody"}), V{});
}

TYPED_TEST_P(StateStoreContractTest, EventsGetGrowingIdsAndPruningNeverLowersTheLast) {
  StateStore* store = this->store_.get();
  ASSERT_OK_AND_ASSIGN(int64_t none, store->LastEventId());
  EXPECT_EQ(none, 0);
  std::vector<int64_t> ids;
  for (int i = 0; i < 5; ++i) {
    EventRow e{.at = 1000 + i,
               .instance_id = "gpu-" + std::to_string(i % 2),
               .type = i % 2 ? "instance.health" : "failover.phase",
               .data_json = R"({"n":)" + std::to_string(i) + R"(,"q":"it's \"quoted\""})"};
    ASSERT_OK_AND_ASSIGN(int64_t id, store->AppendEvent(e));
    if (!ids.empty()) {
      EXPECT_GT(id, ids.back());
    }
    ids.push_back(id);
  }
  ASSERT_OK_AND_ASSIGN(auto after, store->ListEventsAfter(ids[1], 2));
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0].id, ids[2]);
  EXPECT_EQ(after[0].at, 1002);
  EXPECT_EQ(after[0].instance_id, "gpu-0");
  EXPECT_EQ(after[0].type, "failover.phase");
  EXPECT_EQ(after[0].data_json, R"({"n":2,"q":"it's \"quoted\""})");
  EXPECT_EQ(after[1].id, ids[3]);
  // Everything is older than 2000: all go but the newest, whose id LastEventId reports.
  ASSERT_OK_AND_ASSIGN(int64_t pruned, store->PruneEvents(2000));
  EXPECT_EQ(pruned, 4);
  ASSERT_OK_AND_ASSIGN(int64_t last, store->LastEventId());
  EXPECT_EQ(last, ids.back());
  ASSERT_OK_AND_ASSIGN(auto left, store->ListEventsAfter(0, 100));
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].id, ids.back());
  // Ids are never reused after a prune.
  ASSERT_OK_AND_ASSIGN(int64_t next, store->AppendEvent({.at = 3000, .type = "x"}));
  EXPECT_GT(next, ids.back());
}

// Writers on several threads while a reader follows by id, as the event stream does: the
// reader must see every event (an id committed after a larger one would be skipped).
TYPED_TEST_P(StateStoreContractTest, AReaderFollowingConcurrentAppendsByIdMissesNone) {
  StateStore* store = this->store_.get();
  constexpr int kWriters = 4, kEach = 40;
  std::atomic<int> running{kWriters};
  std::set<int64_t> appended, seen;
  std::mutex mu;
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kEach; ++i) {
        auto id = store->AppendEvent(
            {.at = 1000 + i, .instance_id = "gpu-" + std::to_string(w), .type = "x"});
        EXPECT_TRUE(id.has_value());
        if (id) {
          std::lock_guard<std::mutex> lock(mu);
          appended.insert(*id);
        }
      }
      --running;
    });
  }
  int64_t after = 0;
  for (int round = 0; round < 100000; ++round) {
    const bool last = running == 0;
    auto rows = store->ListEventsAfter(after, 1000);
    ASSERT_TRUE(rows.has_value());
    for (const EventRow& e : *rows) {
      EXPECT_GT(e.id, after);
      after = e.id;
      seen.insert(e.id);
    }
    if (last) break;
  }
  for (std::thread& t : writers) t.join();
  EXPECT_EQ(appended.size(), static_cast<size_t>(kWriters * kEach));
  EXPECT_EQ(seen, appended);
}

// Claims: one live holder at a time; the holder renews; an expired claim is taken over; a
// finished or unknown failover is never claimed; a later full write keeps the claim.
TYPED_TEST_P(StateStoreContractTest, AFailoverHasOneLiveClaimantAndOnlyAnExpiredClaimMoves) {
  StateStore* s = this->store_.get();
  FailoverEvent running = FullEvent("fo-run", 0);
  running.completed_at = 0;
  ASSERT_OK(s->RecordFailoverEvent(running));
  ASSERT_OK(s->RecordFailoverEvent(FullEvent("fo-done", 1000)));
  auto claim = [&](const std::string& id, const std::string& by, int64_t now, int64_t until) {
    auto got = s->ClaimFailover(id, by, now, until);
    EXPECT_TRUE(got.has_value()) << (got ? "" : got.error().message);
    return got.value_or(false);
  };
  EXPECT_TRUE(claim("fo-run", "p1", 100, 200));
  EXPECT_FALSE(claim("fo-run", "p2", 150, 250)) << "a live claim moved";
  EXPECT_TRUE(claim("fo-run", "p1", 190, 300)) << "the holder could not renew";
  EXPECT_FALSE(claim("fo-run", "p2", 299, 400));
  running.phase = "restoring";  // the failover's own full write, meanwhile
  ASSERT_OK(s->RecordFailoverEvent(running));
  ASSERT_OK_AND_ASSIGN(auto rows, s->ListFailoverEvents({.failover_id = "fo-run"}));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].claimed_by, "p1");
  EXPECT_EQ(rows[0].claim_expires_at, 300);
  EXPECT_EQ(rows[0].phase, "restoring");
  EXPECT_TRUE(claim("fo-run", "p2", 301, 400)) << "an expired claim was not taken over";
  EXPECT_FALSE(claim("fo-run", "p1", 350, 450));
  EXPECT_FALSE(claim("fo-done", "p1", 100, 200)) << "a finished failover was claimed";
  EXPECT_FALSE(claim("fo-nobody", "p1", 100, 200));
}

// A fence moves only from what the caller read, and touches nothing else of the row.
TYPED_TEST_P(StateStoreContractTest, AFenceChangesOnlyFromWhatItWasAndNothingElseMoves) {
  StateStore* s = this->store_.get();
  FailoverEvent e = FullEvent("fo-f", 0);
  e.completed_at = 0;
  e.fence = "pending";
  e.phase = "checking";
  ASSERT_OK(s->RecordFailoverEvent(e));
  ASSERT_OK_AND_ASSIGN(bool wrong, s->SetFailoverFence("fo-f", "waiting", "confirmed", 5, "x"));
  EXPECT_FALSE(wrong);
  ASSERT_OK_AND_ASSIGN(bool moved,
                       s->SetFailoverFence("fo-f", "pending", "confirmed", 777, "destroyed"));
  EXPECT_TRUE(moved);
  ASSERT_OK_AND_ASSIGN(bool again, s->SetFailoverFence("fo-f", "pending", "confirmed", 9, "y"));
  EXPECT_FALSE(again) << "a second cleanup overwrote the first";
  ASSERT_OK(s->SetFailoverLeftoversPending("fo-f", true));
  ASSERT_OK_AND_ASSIGN(auto rows, s->ListFailoverEvents({.failover_id = "fo-f"}));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].fence, "confirmed");
  EXPECT_EQ(rows[0].fenced_at, 777);
  EXPECT_EQ(rows[0].fence_detail, "destroyed");
  EXPECT_TRUE(rows[0].leftovers_pending);
  EXPECT_EQ(rows[0].phase, "checking");
  EXPECT_EQ(rows[0].restore_ms, e.restore_ms);
  ASSERT_OK_AND_ASSIGN(auto cleanup, s->ListFailoverEvents({.cleanup_pending_only = true}));
  ASSERT_EQ(cleanup.size(), 1u) << "leftovers pending is work left";
  ASSERT_OK(s->SetFailoverLeftoversPending("fo-f", false));
  ASSERT_OK_AND_ASSIGN(auto none, s->ListFailoverEvents({.cleanup_pending_only = true}));
  EXPECT_TRUE(none.empty());
}

// An unconfirmed destroy is recorded (even for a machine with no row) and stays pending, with
// its first time kept, until it is marked destroyed.
TYPED_TEST_P(StateStoreContractTest, AnUnconfirmedDestroyIsKeptPendingUntilConfirmed) {
  StateStore* s = this->store_.get();
  ProviderInstanceRow owned;
  owned.provider = "vast";
  owned.provider_instance_id = "42";
  owned.instance_id = "gpu-1";
  owned.created_at = 10;
  ASSERT_OK(s->RecordProviderInstance(owned));
  ASSERT_OK(s->MarkProviderInstanceDestroyPending("vast", "42", "gpu-1", 100, "still listed"));
  ASSERT_OK(s->MarkProviderInstanceDestroyPending("vast", "42", "gpu-1", 200, "503"));
  ASSERT_OK(s->MarkProviderInstanceDestroyPending("vast", "77", "gpu-1", 300, "timeout"));
  ASSERT_OK_AND_ASSIGN(auto rows, s->ListProviderInstances());
  std::map<std::string, ProviderInstanceRow> by_id;
  for (const ProviderInstanceRow& r : rows) by_id[r.provider_instance_id] = r;
  ASSERT_EQ(by_id.size(), 2u) << "the unrecorded machine was forgotten";
  EXPECT_EQ(by_id["42"].destroy_pending_at, 100) << "the first time was not kept";
  EXPECT_EQ(by_id["42"].destroy_error, "503");
  EXPECT_EQ(by_id["42"].destroyed_at, 0);
  EXPECT_EQ(by_id["77"].destroy_pending_at, 300);
  EXPECT_EQ(by_id["77"].instance_id, "gpu-1");
  ASSERT_OK(s->MarkProviderInstanceDestroyed("vast", "42", 400));
  ASSERT_OK_AND_ASSIGN(auto after, s->ListProviderInstances());
  int64_t destroyed_at = -1;
  for (const ProviderInstanceRow& r : after) {
    if (r.provider_instance_id == "42") destroyed_at = r.destroyed_at;
  }
  EXPECT_EQ(destroyed_at, 400) << "row 42 is gone or not marked destroyed";
}

REGISTER_TYPED_TEST_SUITE_P(StateStoreContractTest, MigrationsAreAppliedOnceAndRerunsAreNoOps,
                            EveryColumnIsWrittenAndReadBack, SummariesOfKnownDataGiveKnownNumbers,
                            TwoWritersOnOneInstanceOneWinsNothingIsLost,
                            FailoversAreNarrowedByInstanceIdAndUnfinished,
                            EventsGetGrowingIdsAndPruningNeverLowersTheLast,
                            AReaderFollowingConcurrentAppendsByIdMissesNone,
                            AFailoverHasOneLiveClaimantAndOnlyAnExpiredClaimMoves,
                            AFenceChangesOnlyFromWhatItWasAndNothingElseMoves,
                            AnUnconfirmedDestroyIsKeptPendingUntilConfirmed);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, StateStoreContractTest, ::testing::Types<SqliteBackend>);
INSTANTIATE_TYPED_TEST_SUITE_P(PG_, StateStoreContractTest, ::testing::Types<PostgresBackend>);

// An insert in flight (a raw connection, in a transaction) makes AppendEvent wait: its
// larger id cannot commit first, so a reader following ids never skips the smaller one.
TEST(PostgresStateTest, PG_AnAppendWaitsForTheOneInFlightSoIdsCommitInOrder) {
  PostgresBackend backend;
  ASSERT_OK_AND_ASSIGN(auto store, OpenStateStore(backend.Url(), ""));
  ASSERT_OK_AND_ASSIGN(auto raw, OpenPostgres(backend.Url()));
  ASSERT_OK(raw->Exec("BEGIN"));
  ASSERT_OK_AND_ASSIGN(auto first,
                       raw->Query("INSERT INTO events (at, type) VALUES (1, 'x') RETURNING id"));
  std::atomic<int64_t> second{0};
  std::thread writer([&] { second = store->AppendEvent({.at = 2, .type = "y"}).value_or(-1); });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(second, 0) << "the second append committed while the first was in flight";
  ASSERT_OK_AND_ASSIGN(auto visible, store->ListEventsAfter(0, 10));
  EXPECT_TRUE(visible.empty());
  ASSERT_OK(raw->Exec("COMMIT"));
  writer.join();
  EXPECT_GT(second, std::stoll(first[0][0].value_or("0")));
  ASSERT_OK_AND_ASSIGN(auto both, store->ListEventsAfter(0, 10));
  EXPECT_EQ(both.size(), 2u);
}

TEST(PostgresStateTest, PG_SpoolsWhileTheServerIsDownAndReplaysWithoutDuplicates) {
  PostgresBackend backend;
  ASSERT_NE(backend.pg, nullptr);
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto inner, OpenStateStore(backend.Url(), ""));
  SpoolingStateStore store(std::move(inner), dir.Sub("state.spool"));
  ASSERT_OK(store.RecordFailoverEvent(FullEvent("before", 50000)));
  ASSERT_OK(backend.pg->Stop());
  ASSERT_OK(store.RecordFailoverEvent(FullEvent("during-1", 51000)));
  ASSERT_OK(store.RecordSnapshot({"snap-9", "gpu-1", "full", "", 1, 1, 1, 1, 1, "lz4", 1}));
  ASSERT_OK(store.RecordFailoverEvent(FullEvent("during-1", 51500)));  // an update of the same row
  ASSERT_OK_AND_ASSIGN(size_t pending, store.Pending());
  EXPECT_EQ(pending, 3u);
  EXPECT_FALSE(store.ListFailoverEvents().has_value());  // reads need the database
  ASSERT_OK(backend.pg->Restart());
  ASSERT_OK(store.RecordFailoverEvent(FullEvent("after", 52000)));  // replays first, in order
  ASSERT_OK_AND_ASSIGN(size_t left, store.Pending());
  EXPECT_EQ(left, 0u);
  ASSERT_OK(store.Flush());
  ASSERT_OK_AND_ASSIGN(auto events, store.ListFailoverEvents());
  ASSERT_EQ(events.size(), 3u);  // before, during-1 (once), after
  auto during = std::find_if(events.begin(), events.end(),
                             [](const FailoverEvent& e) { return e.failover_id == "during-1"; });
  ASSERT_NE(during, events.end());
  EXPECT_EQ(during->total_ms, 51500);  // the later write won, as it did in order
  ASSERT_OK_AND_ASSIGN(auto snaps, store.ListSnapshots("gpu-1"));
  EXPECT_EQ(snaps.size(), 1u);
}

TEST(PostgresStateTest, PG_WrongPasswordAndBadUrlsAreOneClearLine) {
  PostgresBackend backend;
  ASSERT_NE(backend.pg, nullptr);
  auto wrong = OpenStateStore(backend.pg->url_with_password("not-the-password"), "");
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(wrong.error().message.find("password"), std::string::npos);
  EXPECT_EQ(wrong.error().message.find("not-the-password"), std::string::npos);
  EXPECT_EQ(wrong.error().message.find('\n'), std::string::npos);
  auto malformed = OpenStateStore("postgresql://u:secretpw@127.0.0.1:notaport/db", "");
  ASSERT_FALSE(malformed.has_value());
  EXPECT_EQ(malformed.error().message.find("secretpw"), std::string::npos);
  auto scheme = OpenStateStore("mysql://u:secretpw@h/db", "");
  ASSERT_FALSE(scheme.has_value());
  EXPECT_NE(scheme.error().message.find("DATABASE_URL must be"), std::string::npos);
  EXPECT_EQ(scheme.error().message.find("secretpw"), std::string::npos);
}

TEST(PostgresStateTest, PG_ForeignDatabaseIsRefusedUntouched) {
  PostgresBackend backend;
  ASSERT_NE(backend.pg, nullptr);
  ASSERT_OK(backend.pg->Psql("CREATE TABLE customers (id int)"));
  auto opened = OpenStateStore(backend.Url(), "");
  ASSERT_FALSE(opened.has_value());
  EXPECT_NE(opened.error().message.find("not a standby database"), std::string::npos);
  ASSERT_OK(backend.pg->Psql("SELECT 1 FROM customers"));  // still there
}

TEST(SqliteStateTest, NewerOrEditedSchemasAreRefused) {
  TempDir dir;
  std::string path = dir.Sub("s.db");
  ASSERT_OK(OpenStateStore("sqlite://" + path, ""));
  {
    ASSERT_OK_AND_ASSIGN(auto conn, OpenSqlite(path));
    ASSERT_OK(conn->Exec("INSERT INTO schema_migrations VALUES (99, '0099_future', 'x', 0)"));
  }
  auto newer = OpenStateStore("sqlite://" + path, "");
  ASSERT_FALSE(newer.has_value());
  EXPECT_NE(newer.error().message.find("newer standby"), std::string::npos);
  {
    ASSERT_OK_AND_ASSIGN(auto conn, OpenSqlite(path));
    ASSERT_OK(conn->Exec("DELETE FROM schema_migrations WHERE version = 99"));
    ASSERT_OK(conn->Exec("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1"));
  }
  auto edited = OpenStateStore("sqlite://" + path, "");
  ASSERT_FALSE(edited.has_value());
  EXPECT_NE(edited.error().message.find("different checksum"), std::string::npos);
}

TEST(SqliteStateTest, ForeignSqliteFileIsRefusedAndDefaultLivesInTheStateDir) {
  TempDir dir;
  {
    ASSERT_OK_AND_ASSIGN(auto conn, OpenSqlite(dir.Sub("other.db")));
    ASSERT_OK(conn->ExecScript("CREATE TABLE notes (x TEXT)"));
  }
  auto foreign = OpenStateStore("sqlite://" + dir.Sub("other.db"), "");
  ASSERT_FALSE(foreign.has_value());
  EXPECT_NE(foreign.error().message.find("not a standby database"), std::string::npos);
  ASSERT_OK_AND_ASSIGN(auto store, OpenStateStore("", dir.Sub("state")));
  EXPECT_EQ(store->Describe(), "sqlite://" + dir.Sub("state/standby.db"));
}

// Needs root for a real tmpfs; CI runs as root.
TEST(SqliteStateTest, ROOT_FullDiskIsAClearErrorAndKeepsWhatWasStored) {
  ASSERT_EQ(::geteuid(), 0u) << "ROOT_ tests need root (CI runs as root)";
  TempDir dir;
  std::string mnt = dir.Sub("small");
  ASSERT_EQ(::mkdir(mnt.c_str(), 0700), 0);
  ASSERT_EQ(::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=256k"), 0) << std::strerror(errno);
  std::optional<Error> failure;
  size_t stored = 0;
  {
    auto store = OpenStateStore("sqlite://" + mnt + "/state.db", "");
    if (store) {
      for (int i = 0; i < 5000 && !failure; ++i) {
        FailoverEvent e = FullEvent("fo-" + std::to_string(i), 1000 + i);
        e.failure_reason = std::string(400, 'x');
        Status s = (*store)->RecordFailoverEvent(e);
        if (!s) failure = s.error();
      }
      if (auto events = (*store)->ListFailoverEvents()) stored = events->size();
    } else {
      failure = store.error();
    }
  }
  ::umount(mnt.c_str());
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->code, ErrorCode::kResourceExhausted) << failure->message;
  EXPECT_NE(failure->message.find("disk is full"), std::string::npos);
  EXPECT_EQ(failure->message.find('\n'), std::string::npos);
  EXPECT_GT(stored, 0u);  // what was committed before the disk filled is still there
}

// Over a network the connection is encrypted unless the URL says otherwise; on this machine
// (loopback or a Unix socket) libpq's default stands.
TEST(PostgresStateTest, RemoteHostsRequireTlsUnlessTheUrlSaysOtherwise) {
  ::unsetenv("PGSSLMODE");
  ASSERT_OK_AND_ASSIGN(auto remote, PostgresConnInfo("postgresql://u:p@db.example.com/standby"));
  EXPECT_NE(remote.find("sslmode=require"), std::string::npos) << remote;
  EXPECT_NE(remote.find("connect_timeout=5"), std::string::npos);
  ASSERT_OK_AND_ASSIGN(auto keywords, PostgresConnInfo("host=db.example.com dbname=s user=u"));
  EXPECT_EQ(keywords, "host=db.example.com dbname=s user=u connect_timeout=5 sslmode=require");
  ASSERT_OK_AND_ASSIGN(auto chosen,
                       PostgresConnInfo("postgresql://u:p@db.example.com/s?sslmode=verify-full"));
  EXPECT_EQ(chosen.find("sslmode=require"), std::string::npos) << chosen;
  for (const std::string local :
       {"postgresql://u:p@127.0.0.1:5432/s", "postgresql://u:p@localhost/s",
        "postgresql://u:p@[::1]/s", "postgresql:///s?host=/run/pg"}) {
    ASSERT_OK_AND_ASSIGN(auto info, PostgresConnInfo(local));
    EXPECT_EQ(info.find("sslmode"), std::string::npos) << info;
  }
}

}  // namespace
}  // namespace standby
