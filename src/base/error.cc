#include "base/error.h"

#include <cerrno>
#include <cstring>

namespace standby {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kDeadlineExceeded:
      return "deadline_exceeded";
    case ErrorCode::kPermissionDenied:
      return "permission_denied";
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kCorruption:
      return "corruption";
    case ErrorCode::kResourceExhausted:
      return "resource_exhausted";
    case ErrorCode::kInternal:
      return "internal";
    case ErrorCode::kCancelled:
      return "cancelled";
  }
  return "internal";
}

Error Error::WithContext(std::string_view context) const {
  Error copy = *this;
  copy.message = std::string(context) + ": " + message;
  return copy;
}

Error NotFoundError(std::string message) { return {ErrorCode::kNotFound, std::move(message)}; }
Error InvalidArgumentError(std::string message) {
  return {ErrorCode::kInvalidArgument, std::move(message)};
}
Error UnavailableError(std::string message) {
  return {ErrorCode::kUnavailable, std::move(message), true};
}
Error DeadlineExceededError(std::string message) {
  return {ErrorCode::kDeadlineExceeded, std::move(message), true};
}
Error PermissionDeniedError(std::string message) {
  return {ErrorCode::kPermissionDenied, std::move(message)};
}
Error ConflictError(std::string message, bool retryable) {
  return {ErrorCode::kConflict, std::move(message), retryable};
}
Error CorruptionError(std::string message) { return {ErrorCode::kCorruption, std::move(message)}; }
Error ResourceExhaustedError(std::string message) {
  return {ErrorCode::kResourceExhausted, std::move(message)};
}
Error InternalError(std::string message) { return {ErrorCode::kInternal, std::move(message)}; }
Error CancelledError(std::string message) { return {ErrorCode::kCancelled, std::move(message)}; }

Error ErrnoError(int err, std::string_view what) {
  std::string message = std::string(what) + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return NotFoundError(std::move(message));
    case EACCES:
    case EPERM:
    case EROFS:
      return PermissionDeniedError(std::move(message));
    case ENOSPC:
    case EDQUOT:
      return ResourceExhaustedError(message + " (free some space and retry)");
    case EEXIST:
    case ENOTEMPTY:
      return ConflictError(std::move(message));
    case EINTR:
    case EAGAIN:
    case ETIMEDOUT:
    case ECONNRESET:
    case ECONNREFUSED:
      return UnavailableError(std::move(message));
    case EINVAL:
    case ENAMETOOLONG:
    case ELOOP:
    case EISDIR:
      return InvalidArgumentError(std::move(message));
    case EIO:
      return UnavailableError(std::move(message));
    default:
      return InternalError(std::move(message));
  }
}

}  // namespace standby
