#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "env/file_system.h"
#include "state/forwarding_state_store.h"
#include "state/sql_connection.h"
#include "state/state_store.h"

namespace standby {

// Keeps the controller writing while its database is away. Record* and BlacklistMachine
// calls that fail with kUnavailable are appended (fsynced) to a local JSON-lines spool file
// and reported as success; the next write replays the spool in order before its own. The
// records are upserts keyed by id, so a replay never duplicates rows. Reads, the
// protected-instance and request calls (which need the database's answer) and
// RecordProviderInstance (ownership: every controller must see it at once, and a provision
// whose ownership cannot be written must fail rather than leave an unowned winner) pass
// through unchanged. A spooled line the database refuses on replay with a permanent error
// (not kUnavailable) is moved to `<spool_path>.rejected` with an error in the log, so one
// bad line never blocks the writes behind it.
// Thread-safe. `inner` is owned.
class SpoolingStateStore : public ForwardingStateStore {
 public:
  SpoolingStateStore(std::unique_ptr<StateStore> inner, std::string spool_path,
                     FileSystem* fs = FileSystem::Real())
      : ForwardingStateStore(std::move(inner)), spool_path_(std::move(spool_path)), fs_(fs) {}

  // Replays what is spooled; OK when the spool is empty afterwards.
  Status Flush();
  Status FlushPending() override { return Flush(); }
  // Records waiting in the spool.
  Result<size_t> Pending();

  Status RecordSnapshot(const SnapshotRow& row) override;
  Status RecordProvisioningAttempt(const ProvisioningAttempt& row) override;
  Status BlacklistMachine(const BlacklistEntry& entry) override;
  Status RecordFailoverEvent(const FailoverEvent& event) override;

 private:
  // Replays the spool, then applies (kind, values) or spools it behind what is pending.
  Status Write(const std::string& kind, std::vector<SqlValue> values);
  Status Apply(const std::string& kind, const std::vector<SqlValue>& values);
  Status FlushLocked();

  std::string spool_path_;
  FileSystem* fs_;
  std::mutex mu_;
};

}  // namespace standby
