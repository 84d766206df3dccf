#include "state/state_rows.h"

#include <cstdlib>

namespace standby {
namespace {

// Reads columns in order, remembering the first that does not parse.
class RowReader {
 public:
  explicit RowReader(const SqlRow& row) : row_(row) {}
  std::string Text() { return Next().value_or(""); }
  int64_t Int() {
    std::string text = Text();
    char* end = nullptr;
    long long value = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0') bad_ = true;
    return value;
  }
  double Real() {
    std::string text = Text();
    char* end = nullptr;
    double value = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0') bad_ = true;
    return value;
  }
  bool Bool() {
    std::string text = Text();
    if (text == "t" || text == "true" || text == "1") return true;
    if (text == "f" || text == "false" || text == "0") return false;
    bad_ = true;
    return false;
  }
  template <class T>
  Result<T> Done(T value, const char* what) {
    if (bad_ || index_ != row_.size()) {
      return CorruptionError(std::string("a stored ") + what + " row does not parse (column " +
                             std::to_string(index_) + ")");
    }
    return value;
  }

 private:
  SqlValue Next() {
    if (index_ >= row_.size()) {
      bad_ = true;
      return std::nullopt;
    }
    return row_[index_++];
  }
  const SqlRow& row_;
  size_t index_ = 0;
  bool bad_ = false;
};

std::string Num(int64_t v) { return std::to_string(v); }

}  // namespace

const std::vector<std::string> kProtectedInstanceColumns = {
    "instance_id",      "spec_json",        "provider_instance_id",
    "ssh_host",         "ssh_port",         "status",
    "last_snapshot_id", "last_snapshot_at", "consecutive_snapshot_failures",
    "version",          "updated_at"};
const std::vector<std::string> kProviderInstanceColumns = {
    "provider", "provider_instance_id", "machine_id", "label",    "purpose",
    "gpu_name", "price_per_hour",       "created_at", "ready_at", "destroyed_at"};
const std::vector<std::string> kSnapshotColumns = {
    "snapshot_id", "instance_id",   "snapshot_type", "base_snapshot_id",
    "files_total", "files_changed", "bytes_total",   "bytes_uploaded",
    "created_at",  "compression",   "duration_ms"};
const std::vector<std::string> kProvisioningAttemptColumns = {
    "attempt_id",           "failover_id", "provider", "offer_id",    "machine_id",
    "provider_instance_id", "launched_at", "ready_ms", "censored_ms", "outcome",
    "rate_limit_hits"};
const std::vector<std::string> kFailoverEventColumns = {
    "failover_id",         "instance_id",
    "\"trigger\"",         "started_at",
    "completed_at",        "success",
    "failure_phase",       "failure_reason",
    "detection_ms",        "gpu_provisioning_time_ms",
    "snapshot_ms",         "restore_ms",
    "validation_ms",       "workload_start_ms",
    "health_check_ms",     "total_ms",
    "original_ssh_host",   "original_ssh_port",
    "snapshot_id",         "snapshot_type",
    "base_snapshot_id",    "files_changed",
    "new_instance_id",     "new_ssh_host",
    "new_ssh_port",        "gpu_name",
    "candidates_launched", "rounds",
    "rate_limit_hits",     "files_restored",
    "files_expected",      "bytes_restored",
    "phase_timings"};

std::string ColumnList(const std::vector<std::string>& columns) {
  std::string out;
  for (size_t i = 0; i < columns.size(); ++i) out += (i ? ", " : "") + columns[i];
  return out;
}

std::string Placeholders(size_t count) {
  std::string out;
  for (size_t i = 1; i <= count; ++i) out += (i > 1 ? ", $" : "$") + std::to_string(i);
  return out;
}

std::vector<SqlValue> ProtectedInstanceValues(const ProtectedInstance& p) {
  return {p.instance_id,
          p.spec_json,
          p.provider_instance_id,
          p.ssh_host,
          Num(p.ssh_port),
          p.status,
          p.last_snapshot_id,
          Num(p.last_snapshot_at),
          Num(p.consecutive_snapshot_failures),
          Num(p.version),
          Num(p.updated_at)};
}

Result<ProtectedInstance> ProtectedInstanceFromRow(const SqlRow& row) {
  RowReader r(row);
  ProtectedInstance p;
  p.instance_id = r.Text();
  p.spec_json = r.Text();
  p.provider_instance_id = r.Text();
  p.ssh_host = r.Text();
  p.ssh_port = static_cast<int>(r.Int());
  p.status = r.Text();
  p.last_snapshot_id = r.Text();
  p.last_snapshot_at = r.Int();
  p.consecutive_snapshot_failures = static_cast<int>(r.Int());
  p.version = r.Int();
  p.updated_at = r.Int();
  return r.Done(std::move(p), "protected_instances");
}

std::vector<SqlValue> ProviderInstanceValues(const ProviderInstanceRow& p) {
  char price[32];
  std::snprintf(price, sizeof(price), "%.6f", p.price_per_hour);
  return {
      p.provider, p.provider_instance_id, p.machine_id,      p.label,         p.purpose,
      p.gpu_name, std::string(price),     Num(p.created_at), Num(p.ready_at), Num(p.destroyed_at)};
}

Result<ProviderInstanceRow> ProviderInstanceFromRow(const SqlRow& row) {
  RowReader r(row);
  ProviderInstanceRow p;
  p.provider = r.Text();
  p.provider_instance_id = r.Text();
  p.machine_id = r.Text();
  p.label = r.Text();
  p.purpose = r.Text();
  p.gpu_name = r.Text();
  p.price_per_hour = r.Real();
  p.created_at = r.Int();
  p.ready_at = r.Int();
  p.destroyed_at = r.Int();
  return r.Done(std::move(p), "provider_instances");
}

std::vector<SqlValue> SnapshotValues(const SnapshotRow& s) {
  return {s.snapshot_id,      s.instance_id,        s.snapshot_type,    s.base_snapshot_id,
          Num(s.files_total), Num(s.files_changed), Num(s.bytes_total), Num(s.bytes_uploaded),
          Num(s.created_at),  s.compression,        Num(s.duration_ms)};
}

Result<SnapshotRow> SnapshotFromRow(const SqlRow& row) {
  RowReader r(row);
  SnapshotRow s;
  s.snapshot_id = r.Text();
  s.instance_id = r.Text();
  s.snapshot_type = r.Text();
  s.base_snapshot_id = r.Text();
  s.files_total = r.Int();
  s.files_changed = r.Int();
  s.bytes_total = r.Int();
  s.bytes_uploaded = r.Int();
  s.created_at = r.Int();
  s.compression = r.Text();
  s.duration_ms = r.Int();
  return r.Done(std::move(s), "snapshots");
}

std::vector<SqlValue> ProvisioningAttemptValues(const ProvisioningAttempt& a) {
  return {a.attempt_id,       a.failover_id,         a.provider,
          a.offer_id,         a.machine_id,          a.provider_instance_id,
          Num(a.launched_at), Num(a.ready_ms),       Num(a.censored_ms),
          a.outcome,          Num(a.rate_limit_hits)};
}

Result<ProvisioningAttempt> ProvisioningAttemptFromRow(const SqlRow& row) {
  RowReader r(row);
  ProvisioningAttempt a;
  a.attempt_id = r.Text();
  a.failover_id = r.Text();
  a.provider = r.Text();
  a.offer_id = r.Text();
  a.machine_id = r.Text();
  a.provider_instance_id = r.Text();
  a.launched_at = r.Int();
  a.ready_ms = r.Int();
  a.censored_ms = r.Int();
  a.outcome = r.Text();
  a.rate_limit_hits = static_cast<int>(r.Int());
  return r.Done(std::move(a), "provisioning_attempts");
}

std::vector<SqlValue> FailoverEventValues(const FailoverEvent& e) {
  return {e.failover_id,
          e.instance_id,
          e.trigger,
          Num(e.started_at),
          Num(e.completed_at),
          e.success ? "1" : "0",
          e.failure_phase,
          e.failure_reason,
          Num(e.detection_ms),
          Num(e.gpu_provisioning_time_ms),
          Num(e.snapshot_ms),
          Num(e.restore_ms),
          Num(e.validation_ms),
          Num(e.workload_start_ms),
          Num(e.health_check_ms),
          Num(e.total_ms),
          e.original_ssh_host,
          Num(e.original_ssh_port),
          e.snapshot_id,
          e.snapshot_type,
          e.base_snapshot_id,
          Num(e.files_changed),
          e.new_instance_id,
          e.new_ssh_host,
          Num(e.new_ssh_port),
          e.gpu_name,
          Num(e.candidates_launched),
          Num(e.rounds),
          Num(e.rate_limit_hits),
          Num(e.files_restored),
          Num(e.files_expected),
          Num(e.bytes_restored),
          e.phase_timings_json};
}

Result<FailoverEvent> FailoverEventFromRow(const SqlRow& row) {
  RowReader r(row);
  FailoverEvent e;
  e.failover_id = r.Text();
  e.instance_id = r.Text();
  e.trigger = r.Text();
  e.started_at = r.Int();
  e.completed_at = r.Int();
  e.success = r.Bool();
  e.failure_phase = r.Text();
  e.failure_reason = r.Text();
  e.detection_ms = r.Int();
  e.gpu_provisioning_time_ms = r.Int();
  e.snapshot_ms = r.Int();
  e.restore_ms = r.Int();
  e.validation_ms = r.Int();
  e.workload_start_ms = r.Int();
  e.health_check_ms = r.Int();
  e.total_ms = r.Int();
  e.original_ssh_host = r.Text();
  e.original_ssh_port = static_cast<int>(r.Int());
  e.snapshot_id = r.Text();
  e.snapshot_type = r.Text();
  e.base_snapshot_id = r.Text();
  e.files_changed = r.Int();
  e.new_instance_id = r.Text();
  e.new_ssh_host = r.Text();
  e.new_ssh_port = static_cast<int>(r.Int());
  e.gpu_name = r.Text();
  e.candidates_launched = static_cast<int>(r.Int());
  e.rounds = static_cast<int>(r.Int());
  e.rate_limit_hits = static_cast<int>(r.Int());
  e.files_restored = r.Int();
  e.files_expected = r.Int();
  e.bytes_restored = r.Int();
  e.phase_timings_json = r.Text();
  return r.Done(std::move(e), "failover_events");
}

}  // namespace standby
