// The event log of SqlStateStore (state_store.h, EventRow): appended by the controller's
// hooks, read by the API's event stream.
#include "base/strings.h"
#include "state/sql_state_store.h"

namespace standby {
namespace {

int64_t IntOf(const SqlValue& v) {
  return static_cast<int64_t>(ParseUint(v.value_or("0")).value_or(0));
}

}  // namespace

Result<int64_t> SqlStateStore::AppendEvent(const EventRow& event) {
  return With<int64_t>([&](SqlConnection* c) -> Result<int64_t> {
    // A PostgreSQL sequence hands out ids when rows are inserted, not when they commit: two
    // writers could commit 11 before 10, and a reader that saw 11 would never ask for 10.
    // Appends hold the table's EXCLUSIVE lock (readers are not blocked), so ids commit in
    // order. SQLite writers are serialised already.
    const bool postgres = c->dialect() == SqlDialect::kPostgres;
    if (postgres) {
      RETURN_IF_ERROR(c->Exec("BEGIN"));
      if (Status locked = c->Exec("LOCK TABLE events IN EXCLUSIVE MODE"); !locked) {
        c->Exec("ROLLBACK").IgnoreError();
        return locked.error();
      }
    }
    auto rows = c->Query(
        "INSERT INTO events (at, instance_id, type, data_json) VALUES ($1, $2, $3, $4) "
        "RETURNING id",
        {std::to_string(event.at), event.instance_id, event.type,
         event.data_json.empty() ? "{}" : event.data_json});
    if (postgres) {
      if (!rows) {
        c->Exec("ROLLBACK").IgnoreError();
        return rows.error();
      }
      RETURN_IF_ERROR(c->Exec("COMMIT"));
    }
    if (!rows) return rows.error();
    if (rows->size() != 1 || (*rows)[0].empty()) {
      return InternalError("appending an event returned no id");
    }
    return IntOf((*rows)[0][0]);
  });
}

Result<std::vector<EventRow>> SqlStateStore::ListEventsAfter(int64_t after_id, size_t limit) {
  ASSIGN_OR_RETURN(auto rows, Select("SELECT id, at, instance_id, type, data_json FROM events "
                                     "WHERE id > $1 ORDER BY id LIMIT $2",
                                     {std::to_string(after_id), std::to_string(limit)}));
  std::vector<EventRow> out;
  out.reserve(rows.size());
  for (const SqlRow& row : rows) {
    if (row.size() != 5)
      return CorruptionError("an events row has " + std::to_string(row.size()) + " columns, not 5");
    out.push_back({IntOf(row[0]), IntOf(row[1]), row[2].value_or(""), row[3].value_or(""),
                   row[4].value_or("{}")});
  }
  return out;
}

Result<int64_t> SqlStateStore::LastEventId() {
  ASSIGN_OR_RETURN(auto rows, Select("SELECT COALESCE(MAX(id), 0) FROM events", {}));
  return rows.empty() || rows[0].empty() ? 0 : IntOf(rows[0][0]);
}

Result<int64_t> SqlStateStore::PruneEvents(int64_t before_ms) {
  // The newest event always stays: the largest id is what LastEventId reports, and it must
  // not go back (a client would then be told its missed events were replayed).
  return With<int64_t>([&](SqlConnection* c) -> Result<int64_t> {
    RETURN_IF_ERROR(
        c->Exec("DELETE FROM events WHERE at < $1 AND id < (SELECT MAX(id) FROM events)",
                {std::to_string(before_ms)}));
    return c->ChangedRows();
  });
}

}  // namespace standby
