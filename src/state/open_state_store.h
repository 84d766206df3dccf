#pragma once

#include <memory>
#include <string>

#include "state/spooling_state_store.h"
#include "state/state_store.h"

namespace standby {

// Opens and migrates the database DATABASE_URL names: "postgresql://..." / "postgres://..."
// (libpq URI; TLS options such as sslmode pass through), "sqlite:///abs/path", or empty for
// SQLite at <state_dir>/standby.db. Errors are one line; the password never appears.
Result<std::unique_ptr<StateStore>> OpenStateStore(const std::string& database_url,
                                                   const std::string& state_dir);

// OpenStateStore behind the spool at <state_dir>/state.spool (state/spooling_state_store.h),
// with whatever was spooled replayed first when the database answers.
Result<std::unique_ptr<SpoolingStateStore>> OpenSpooledStateStore(const std::string& database_url,
                                                                  const std::string& state_dir);

// The URL with any password replaced by "***".
std::string RedactDatabaseUrl(const std::string& url);

}  // namespace standby
