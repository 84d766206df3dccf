#pragma once

#include <gtest/gtest.h>

#include <string>

#include "base/result.h"

// ASSERT_OK(status_or_result) and ASSERT_OK_AND_ASSIGN(decl, result) for gtest.
#define ASSERT_OK(expr)                                                          \
  do {                                                                           \
    auto standby_assert_ = (expr);                                               \
    ASSERT_TRUE(standby_assert_.has_value()) << standby_assert_.error().message; \
  } while (0)
#define EXPECT_OK(expr)                                                          \
  do {                                                                           \
    auto standby_expect_ = (expr);                                               \
    EXPECT_TRUE(standby_expect_.has_value()) << standby_expect_.error().message; \
  } while (0)
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL(STANDBY_CONCAT(standby_assign_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr)      \
  auto tmp = (expr);                                   \
  ASSERT_TRUE(tmp.has_value()) << tmp.error().message; \
  lhs = std::move(*tmp)

namespace standby {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Test helpers over the real file system; they abort the test on failure.
void WriteFile(const std::string& path, const std::string& content, unsigned mode = 0644);
std::string ReadFile(const std::string& path);
// A binary of this build: STANDBY_BUILD_DIR (ctest sets it) or the working directory.
std::string BuiltBinary(const std::string& name);
// `size` deterministic pseudo-random bytes from `seed`.
std::string RandomBytes(size_t size, uint64_t seed);
// A private CA and a server certificate it signed, for the name localhost, written by the
// openssl command into `dir`: ca.pem, server.pem and server.key. False when openssl failed.
bool MakeTestPki(const std::string& dir);

}  // namespace standby
