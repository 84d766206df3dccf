#include "base/error.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "base/result.h"

namespace standby {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgumentError(std::to_string(x) + " is odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int half, Half(x));
  ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

Status CheckEven(int x) {
  RETURN_IF_ERROR(Half(x));
  return OkStatus();
}

TEST(ErrorTest, ErrnoMapsToCodesUsersCanActOn) {
  EXPECT_EQ(ErrnoError(ENOENT, "open x").code, ErrorCode::kNotFound);
  EXPECT_EQ(ErrnoError(EACCES, "open x").code, ErrorCode::kPermissionDenied);
  Error full = ErrnoError(ENOSPC, "write /mnt/f");
  EXPECT_EQ(full.code, ErrorCode::kResourceExhausted);
  EXPECT_NE(full.message.find("write /mnt/f"), std::string::npos);
  EXPECT_NE(full.message.find("No space left"), std::string::npos);
  EXPECT_TRUE(ErrnoError(ECONNRESET, "send").retryable);
  EXPECT_FALSE(ErrnoError(EACCES, "open").retryable);
}

TEST(ErrorTest, WithContextPrefixesTheMessage) {
  Error e = NotFoundError("object a not found").WithContext("restore");
  EXPECT_EQ(e.message, "restore: object a not found");
  EXPECT_EQ(e.code, ErrorCode::kNotFound);
}

TEST(ResultTest, MacrosPropagateErrorsAndValues) {
  auto ok = Quarter(8);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(*ok, 2);
  auto bad = Quarter(6);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message, "3 is odd");
  EXPECT_TRUE(CheckEven(4).has_value());
  EXPECT_EQ(CheckEven(5).error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace standby
