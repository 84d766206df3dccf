#include "state/sql_errors.h"

namespace standby {

Error SqlStateError(const std::string& sqlstate, const std::string& message, bool connection_lost) {
  const std::string text =
      message + (sqlstate.empty() ? std::string() : " (SQLSTATE " + sqlstate + ")");
  const std::string cls = sqlstate.substr(0, 2);
  const bool retryable = connection_lost || cls == "08" || cls == "53" || cls == "57" ||
                         sqlstate == "25006" || sqlstate == "40001" || sqlstate == "40P01";
  if (retryable) return UnavailableError(text);
  if (sqlstate == "23505") return ConflictError(text);
  return InternalError(text);
}

}  // namespace standby
