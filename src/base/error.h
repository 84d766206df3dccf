#pragma once

#include <string>
#include <string_view>

namespace standby {

// The few error codes callers branch on. Anything else belongs in the message.
enum class ErrorCode {
  kNotFound,           // the named thing does not exist
  kInvalidArgument,    // the caller asked for something malformed
  kUnavailable,        // a dependency did not answer; usually retryable
  kDeadlineExceeded,   // a time budget ran out
  kPermissionDenied,   // credentials or file permissions refused the operation
  kConflict,           // another writer holds or changed the resource
  kCorruption,         // stored data failed a hash, size or format check
  kResourceExhausted,  // disk full, quota, rate limit
  kInternal,           // a bug or an impossible state
  kCancelled,          // the caller asked the operation to stop (Ctrl-C, shutdown)
};

std::string_view ErrorCodeName(ErrorCode code);

// An error: what failed, in one line a user can act on, and whether retrying can help.
struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  bool retryable = false;

  // Returns a copy whose message is "<context>: <message>".
  Error WithContext(std::string_view context) const;
  std::string ToString() const { return message; }
};

Error NotFoundError(std::string message);
Error InvalidArgumentError(std::string message);
Error UnavailableError(std::string message);  // retryable
Error DeadlineExceededError(std::string message);
Error PermissionDeniedError(std::string message);
Error ConflictError(std::string message, bool retryable = false);
Error CorruptionError(std::string message);
Error ResourceExhaustedError(std::string message);
Error InternalError(std::string message);
Error CancelledError(std::string message);

// Maps an errno value from a system call on `what` to an Error with a fitting code.
Error ErrnoError(int err, std::string_view what);

}  // namespace standby
