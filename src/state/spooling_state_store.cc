#include "state/spooling_state_store.h"

#include <nlohmann/json.hpp>

#include "base/json_fields.h"
#include "base/log.h"
#include "base/strings.h"
#include "state/state_rows.h"

namespace standby {
namespace {

using nlohmann::json;

std::string Line(const std::string& kind, const std::vector<SqlValue>& values) {
  json row = json::array();
  for (const SqlValue& v : values) row.push_back(v ? json(*v) : json(nullptr));
  return DumpJson(json{{"kind", kind}, {"values", row}}) + "\n";
}

}  // namespace

Status SpoolingStateStore::Apply(const std::string& kind, const std::vector<SqlValue>& values) {
  if (kind == "provider_instance") {
    ASSIGN_OR_RETURN(auto row, ProviderInstanceTable().FromRow(values, /*allow_short=*/true));
    return inner()->RecordProviderInstance(row);
  }
  if (kind == "snapshot") {
    ASSIGN_OR_RETURN(auto row, SnapshotTable().FromRow(values, /*allow_short=*/true));
    return inner()->RecordSnapshot(row);
  }
  if (kind == "provisioning_attempt") {
    ASSIGN_OR_RETURN(auto row, ProvisioningAttemptTable().FromRow(values, /*allow_short=*/true));
    return inner()->RecordProvisioningAttempt(row);
  }
  if (kind == "failover_event") {
    ASSIGN_OR_RETURN(auto row, FailoverEventTable().FromRow(values, /*allow_short=*/true));
    return inner()->RecordFailoverEvent(row);
  }
  if (kind == "blacklist" && values.size() == 3) {
    auto until = ParseUint(values[2].value_or(""));
    if (!until) return CorruptionError("spooled blacklist entry has a bad time");
    return inner()->BlacklistMachine(
        {values[0].value_or(""), values[1].value_or(""), static_cast<int64_t>(*until)});
  }
  return CorruptionError("spool line of unknown kind \"" + kind + "\"");
}

Status SpoolingStateStore::FlushLocked() {
  auto text = ReadFileToString(fs_, spool_path_);
  if (!text) {
    if (text.error().code == ErrorCode::kNotFound) return OkStatus();
    return text.error().WithContext("state spool");
  }
  auto lines = SplitString(*text, '\n');
  size_t done = 0;
  Status status = OkStatus();
  for (; done < lines.size(); ++done) {
    if (TrimWhitespace(lines[done]).empty()) continue;
    std::string kind;
    std::vector<SqlValue> values;
    try {
      json j = json::parse(lines[done]);
      kind = j.at("kind").get<std::string>();
      for (const json& v : j.at("values")) {
        values.push_back(v.is_null() ? SqlValue() : SqlValue(v.get<std::string>()));
      }
    } catch (const std::exception& e) {
      spdlog::error("dropping unreadable state spool line {}: {}", done + 1, e.what());
      continue;
    }
    status = Apply(kind, values);
    if (!status && status.error().code != ErrorCode::kUnavailable) {
      // The database answered and refused this line (a permanent error): it can never
      // replay, and must not hold back every write behind it. Kept aside for an operator.
      const std::string rejected = spool_path_ + ".rejected";
      auto before = ReadFileToString(fs_, rejected);
      Status kept = WriteFileAtomically(
          fs_, rejected, (before ? *before : std::string()) + lines[done] + "\n", 0600);
      spdlog::error("state spool: the database refused a spooled {} ({}); set it aside in {}{}",
                    kind, status.error().message, rejected,
                    kept ? "" : " (and writing that file failed: " + kept.error().message + ")");
      status = OkStatus();
      continue;
    }
    if (!status) break;
  }
  std::string rest;
  for (size_t i = done; i < lines.size(); ++i) {
    if (!TrimWhitespace(lines[i]).empty()) rest += lines[i] + "\n";
  }
  if (rest.empty()) {
    Status removed = fs_->RemoveFile(spool_path_);
    if (!removed && removed.error().code != ErrorCode::kNotFound) return removed;
  } else if (done > 0) {
    RETURN_IF_ERROR(WriteFileAtomically(fs_, spool_path_, rest, 0600));
  }
  if (done > 0 && status) spdlog::info("state database is back: replayed the spool");
  return status;
}

Status SpoolingStateStore::Flush() {
  std::lock_guard<std::mutex> lock(mu_);
  return FlushLocked();
}

Result<size_t> SpoolingStateStore::Pending() {
  std::lock_guard<std::mutex> lock(mu_);
  auto text = ReadFileToString(fs_, spool_path_);
  if (!text) return text.error().code == ErrorCode::kNotFound ? Result<size_t>(0) : text.error();
  size_t count = 0;
  for (const std::string& line : SplitString(*text, '\n')) count += !TrimWhitespace(line).empty();
  return count;
}

Status SpoolingStateStore::Write(const std::string& kind, std::vector<SqlValue> values) {
  std::lock_guard<std::mutex> lock(mu_);
  Status flushed = FlushLocked();
  Status applied = flushed ? Apply(kind, values) : flushed;
  if (applied || applied.error().code != ErrorCode::kUnavailable) return applied;
  // The database is away: keep the record, in order, behind anything already spooled.
  std::string line = Line(kind, values);
  auto existing = ReadFileToString(fs_, spool_path_);
  std::string all = existing ? *existing + line : line;
  Status spooled = WriteFileAtomically(fs_, spool_path_, all, 0600);
  if (!spooled) return spooled.error().WithContext("database unreachable and spooling failed");
  spdlog::warn("state database unreachable ({}); spooled the {} to {}", applied.error().message,
               kind, spool_path_);
  return OkStatus();
}

Status SpoolingStateStore::RecordSnapshot(const SnapshotRow& row) {
  return Write("snapshot", SnapshotTable().Values(row));
}
Status SpoolingStateStore::RecordProvisioningAttempt(const ProvisioningAttempt& row) {
  return Write("provisioning_attempt", ProvisioningAttemptTable().Values(row));
}
Status SpoolingStateStore::BlacklistMachine(const BlacklistEntry& entry) {
  return Write("blacklist", {entry.machine_id, entry.reason, std::to_string(entry.until)});
}
Status SpoolingStateStore::RecordFailoverEvent(const FailoverEvent& event) {
  return Write("failover_event", FailoverEventTable().Values(event));
}

}  // namespace standby
