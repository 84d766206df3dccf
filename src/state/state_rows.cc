#include "state/state_rows.h"

#include <cstdio>
#include <cstdlib>

namespace standby {
namespace {

bool ParseInt(const std::string& text, int64_t* out) {
  char* end = nullptr;
  long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0') return false;
  *out = value;
  return true;
}

template <class T>
std::string Format(const T& row, const typename TableMap<T>::Member& member) {
  return std::visit(
      [&](auto m) -> std::string {
        using V = std::remove_cvref_t<decltype(row.*m)>;
        if constexpr (std::is_same_v<V, std::string>) {
          return row.*m;
        } else if constexpr (std::is_same_v<V, bool>) {
          return row.*m ? "1" : "0";
        } else if constexpr (std::is_same_v<V, double>) {
          char text[40];
          std::snprintf(text, sizeof(text), "%.6f", row.*m);
          return text;
        } else {
          return std::to_string(row.*m);
        }
      },
      member);
}

template <class T>
bool Assign(T& row, const typename TableMap<T>::Member& member, const std::string& text) {
  return std::visit(
      [&](auto m) -> bool {
        using V = std::remove_cvref_t<decltype(row.*m)>;
        if constexpr (std::is_same_v<V, std::string>) {
          row.*m = text;
          return true;
        } else if constexpr (std::is_same_v<V, bool>) {
          if (text == "t" || text == "true" || text == "1") {
            row.*m = true;
          } else if (text == "f" || text == "false" || text == "0") {
            row.*m = false;
          } else {
            return false;
          }
          return true;
        } else if constexpr (std::is_same_v<V, double>) {
          char* end = nullptr;
          double value = std::strtod(text.c_str(), &end);
          if (text.empty() || *end != '\0') return false;
          row.*m = value;
          return true;
        } else {
          int64_t value = 0;
          if (!ParseInt(text, &value)) return false;
          row.*m = static_cast<V>(value);
          return true;
        }
      },
      member);
}

}  // namespace

template <class T>
TableMap<T>::TableMap(std::string table, std::vector<Column> columns)
    : table_(std::move(table)), columns_(std::move(columns)) {
  for (size_t i = 0; i < columns_.size(); ++i) {
    names_.push_back(columns_[i].name);
    list_ += (i ? ", " : "") + columns_[i].name;
  }
}

template <class T>
std::vector<SqlValue> TableMap<T>::Values(const T& row) const {
  std::vector<SqlValue> out;
  for (const Column& c : columns_) out.push_back(Format<T>(row, c.member));
  return out;
}

template <class T>
nlohmann::json TableMap<T>::ToJson(const T& row) const {
  nlohmann::json out = nlohmann::json::object();
  for (const Column& c : columns_) {
    std::string name = c.name;
    if (name.size() > 2 && name.front() == '"') name = name.substr(1, name.size() - 2);
    std::visit([&](auto m) { out[name] = row.*m; }, c.member);
  }
  return out;
}

template <class T>
Result<T> TableMap<T>::FromRow(const SqlRow& row, bool allow_short) const {
  T out;
  if (row.size() > columns_.size() || (!allow_short && row.size() != columns_.size())) {
    return CorruptionError("a stored " + table_ + " row has " + std::to_string(row.size()) +
                           " columns, expected " + std::to_string(columns_.size()));
  }
  for (size_t i = 0; i < row.size(); ++i) {
    if (!Assign<T>(out, columns_[i].member, row[i].value_or(""))) {
      return CorruptionError("a stored " + table_ + " row does not parse (column " +
                             columns_[i].name + ")");
    }
  }
  return out;
}

template class TableMap<ProtectedInstance>;
template class TableMap<ProviderInstanceRow>;
template class TableMap<SnapshotRow>;
template class TableMap<ProvisioningAttempt>;
template class TableMap<FailoverEvent>;
template class TableMap<RequestRow>;
template class TableMap<ControllerRow>;

const TableMap<ProtectedInstance>& ProtectedInstanceTable() {
  using P = ProtectedInstance;
  static const TableMap<P> map(
      "protected_instances", {{"instance_id", &P::instance_id},
                              {"spec_json", &P::spec_json},
                              {"provider_instance_id", &P::provider_instance_id},
                              {"ssh_host", &P::ssh_host},
                              {"ssh_port", &P::ssh_port},
                              {"status", &P::status},
                              {"last_snapshot_id", &P::last_snapshot_id},
                              {"last_snapshot_at", &P::last_snapshot_at},
                              {"consecutive_snapshot_failures", &P::consecutive_snapshot_failures},
                              {"version", &P::version},
                              {"updated_at", &P::updated_at},
                              {"provider", &P::provider},
                              {"ssh_user", &P::ssh_user},
                              {"machine_id", &P::machine_id},
                              {"gpu_name", &P::gpu_name},
                              {"price_per_hour", &P::price_per_hour},
                              {"failovers", &P::failovers},
                              {"last_failover_id", &P::last_failover_id},
                              {"last_mttr_ms", &P::last_mttr_ms},
                              {"health_detail", &P::health_detail},
                              {"created_at", &P::created_at},
                              {"owner", &P::owner},
                              {"lease_expires_at", &P::lease_expires_at},
                              {"epoch", &P::epoch}});
  return map;
}

const TableMap<ProviderInstanceRow>& ProviderInstanceTable() {
  using P = ProviderInstanceRow;
  static const TableMap<P> map("provider_instances",
                               {{"provider", &P::provider},
                                {"provider_instance_id", &P::provider_instance_id},
                                {"machine_id", &P::machine_id},
                                {"label", &P::label},
                                {"purpose", &P::purpose},
                                {"gpu_name", &P::gpu_name},
                                {"price_per_hour", &P::price_per_hour},
                                {"created_at", &P::created_at},
                                {"ready_at", &P::ready_at},
                                {"destroyed_at", &P::destroyed_at},
                                {"instance_id", &P::instance_id},
                                {"controller", &P::controller},
                                {"destroy_pending_at", &P::destroy_pending_at},
                                {"destroy_error", &P::destroy_error}});
  return map;
}

const TableMap<SnapshotRow>& SnapshotTable() {
  using S = SnapshotRow;
  static const TableMap<S> map("snapshots", {{"snapshot_id", &S::snapshot_id},
                                             {"instance_id", &S::instance_id},
                                             {"snapshot_type", &S::snapshot_type},
                                             {"base_snapshot_id", &S::base_snapshot_id},
                                             {"files_total", &S::files_total},
                                             {"files_changed", &S::files_changed},
                                             {"bytes_total", &S::bytes_total},
                                             {"bytes_uploaded", &S::bytes_uploaded},
                                             {"created_at", &S::created_at},
                                             {"compression", &S::compression},
                                             {"duration_ms", &S::duration_ms}});
  return map;
}

const TableMap<ProvisioningAttempt>& ProvisioningAttemptTable() {
  using A = ProvisioningAttempt;
  static const TableMap<A> map("provisioning_attempts",
                               {{"attempt_id", &A::attempt_id},
                                {"failover_id", &A::failover_id},
                                {"provider", &A::provider},
                                {"offer_id", &A::offer_id},
                                {"machine_id", &A::machine_id},
                                {"provider_instance_id", &A::provider_instance_id},
                                {"launched_at", &A::launched_at},
                                {"ready_ms", &A::ready_ms},
                                {"censored_ms", &A::censored_ms},
                                {"outcome", &A::outcome},
                                {"rate_limit_hits", &A::rate_limit_hits}});
  return map;
}

const TableMap<FailoverEvent>& FailoverEventTable() {
  using E = FailoverEvent;
  static const TableMap<E> map("failover_events",
                               {{"failover_id", &E::failover_id},
                                {"instance_id", &E::instance_id},
                                {"\"trigger\"", &E::trigger},
                                {"started_at", &E::started_at},
                                {"completed_at", &E::completed_at},
                                {"success", &E::success},
                                {"failure_phase", &E::failure_phase},
                                {"failure_reason", &E::failure_reason},
                                {"detection_ms", &E::detection_ms},
                                {"gpu_provisioning_time_ms", &E::gpu_provisioning_time_ms},
                                {"snapshot_ms", &E::snapshot_ms},
                                {"restore_ms", &E::restore_ms},
                                {"validation_ms", &E::validation_ms},
                                {"workload_start_ms", &E::workload_start_ms},
                                {"health_check_ms", &E::health_check_ms},
                                {"total_ms", &E::total_ms},
                                {"original_ssh_host", &E::original_ssh_host},
                                {"original_ssh_port", &E::original_ssh_port},
                                {"snapshot_id", &E::snapshot_id},
                                {"snapshot_type", &E::snapshot_type},
                                {"base_snapshot_id", &E::base_snapshot_id},
                                {"files_changed", &E::files_changed},
                                {"new_instance_id", &E::new_instance_id},
                                {"new_ssh_host", &E::new_ssh_host},
                                {"new_ssh_port", &E::new_ssh_port},
                                {"gpu_name", &E::gpu_name},
                                {"candidates_launched", &E::candidates_launched},
                                {"rounds", &E::rounds},
                                {"rate_limit_hits", &E::rate_limit_hits},
                                {"files_restored", &E::files_restored},
                                {"files_expected", &E::files_expected},
                                {"bytes_restored", &E::bytes_restored},
                                {"phase_timings", &E::phase_timings_json},
                                {"phase", &E::phase},
                                {"progress", &E::progress},
                                {"attempts", &E::attempts},
                                {"planned", &E::planned},
                                {"provider", &E::provider},
                                {"original_instance_id", &E::original_instance_id},
                                {"original_machine_id", &E::original_machine_id},
                                {"first_failure_at", &E::first_failure_at},
                                {"detected_at", &E::detected_at},
                                {"fence", &E::fence},
                                {"new_machine_id", &E::new_machine_id},
                                {"new_ssh_user", &E::new_ssh_user},
                                {"note", &E::note},
                                {"updated_at", &E::updated_at},
                                {"controller", &E::controller},
                                {"original_ssh_user", &E::original_ssh_user},
                                {"fenced_at", &E::fenced_at},
                                {"fence_detail", &E::fence_detail},
                                {"no_stop", &E::no_stop},
                                {"workload_stopped_at", &E::workload_stopped_at},
                                {"pause_ms", &E::pause_ms},
                                {"retry_of", &E::retry_of},
                                {"leftovers_pending", &E::leftovers_pending},
                                // Written only by ClaimFailover (and a new row's insert).
                                {"claimed_by", &E::claimed_by},
                                {"claim_expires_at", &E::claim_expires_at}});
  return map;
}

const TableMap<RequestRow>& RequestTable() {
  using R = RequestRow;
  static const TableMap<R> map("requests", {{"request_id", &R::request_id},
                                            {"instance_id", &R::instance_id},
                                            {"kind", &R::kind},
                                            {"planned", &R::planned},
                                            {"\"trigger\"", &R::trigger},
                                            {"created_at", &R::created_at},
                                            {"taken_at", &R::taken_at},
                                            {"taken_by", &R::taken_by},
                                            {"failover_id", &R::failover_id},
                                            {"result", &R::result},
                                            {"no_stop", &R::no_stop}});
  return map;
}

const TableMap<ControllerRow>& ControllerTable() {
  using C = ControllerRow;
  static const TableMap<C> map("controllers", {{"controller", &C::controller},
                                               {"pid", &C::pid},
                                               {"hostname", &C::hostname},
                                               {"started_at", &C::started_at},
                                               {"heartbeat_at", &C::heartbeat_at},
                                               {"probe_interval_ms", &C::probe_interval_ms},
                                               {"api_url", &C::api_url}});
  return map;
}

std::string Placeholders(size_t count) {
  std::string out;
  for (size_t i = 1; i <= count; ++i) out += (i > 1 ? ", $" : "$") + std::to_string(i);
  return out;
}

}  // namespace standby
