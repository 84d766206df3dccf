#pragma once

#include <tl/expected.hpp>
#include <utility>

#include "base/error.h"

namespace standby {

// Result<T> holds a T or an Error. Defined once here so it can become std::expected later.
// Ignoring a Result is a compile error; to drop an error on purpose call IgnoreError(),
// which grep can find.
template <class T>
class [[nodiscard]] Result : public tl::expected<T, Error> {
 public:
  using tl::expected<T, Error>::expected;
  Result(Error error) : tl::expected<T, Error>(tl::unexpect, std::move(error)) {}     // NOLINT
  Result(tl::expected<T, Error> other) : tl::expected<T, Error>(std::move(other)) {}  // NOLINT

  void IgnoreError() const {}
};

using Status = Result<void>;

inline Status OkStatus() { return Status(); }

}  // namespace standby

#define STANDBY_CONCAT_INNER(a, b) a##b
#define STANDBY_CONCAT(a, b) STANDBY_CONCAT_INNER(a, b)

// Returns the error of `expr` (a Status or Result) from the enclosing function.
#define RETURN_IF_ERROR(expr)                             \
  do {                                                    \
    auto standby_status_ = (expr);                        \
    if (!standby_status_) return standby_status_.error(); \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, Compute());` declares x from the value or returns the error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(STANDBY_CONCAT(standby_result_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp) return std::move(tmp).error();    \
  lhs = std::move(*tmp)
