#pragma once

#include <string>

#include "base/error.h"

namespace standby {

// What a PostgreSQL error means to a caller, from its SQLSTATE class (PostgreSQL's
// "Appendix A. Error Codes"): the database is away or cannot serve writes for now —
// connection exceptions (08), insufficient resources (53: disk full, out of memory, too many
// connections), operator intervention (57: shutting down, starting up, query cancelled), a
// read-only transaction during a managed failover (25006), serialization failures and
// deadlocks (40001, 40P01) — is kUnavailable and retryable (spooled, retried, waited out);
// a unique violation (23505) is kConflict; anything else is a permanent kInternal error.
// The SQLSTATE is part of every message. `connection_lost` (libpq's status) overrides.
Error SqlStateError(const std::string& sqlstate, const std::string& message, bool connection_lost);

}  // namespace standby
