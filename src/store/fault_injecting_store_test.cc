#include "store/fault_injecting_store.h"

#include <gtest/gtest.h>

#include "store/mem_object_store.h"
#include "testing/test_util.h"

namespace standby {
namespace {

TEST(FaultInjectingStoreTest, FailsTheNthCallOnce) {
  MemObjectStore base(Clock::Real());
  FaultInjectingStore store(&base);
  store.FailCall(StoreOp::kPut, 2, UnavailableError("injected 503"));
  EXPECT_OK(store.Put("a", "1"));
  auto failed = store.Put("b", "2");
  ASSERT_FALSE(failed.has_value());
  EXPECT_TRUE(failed.error().retryable);
  EXPECT_OK(store.Put("c", "3"));
  EXPECT_EQ(base.Get("b").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store.CallCount(StoreOp::kPut), 3);
}

TEST(FaultInjectingStoreTest, StickyFailuresKeepFailing) {
  MemObjectStore base(Clock::Real());
  FaultInjectingStore store(&base);
  store.FailCall(StoreOp::kGet, 1, UnavailableError("down"), /*sticky=*/true);
  ASSERT_OK(store.Put("a", "1"));
  EXPECT_FALSE(store.Get("a").has_value());
  EXPECT_FALSE(store.Get("a").has_value());
}

TEST(FaultInjectingStoreTest, CorruptsMatchingReads) {
  MemObjectStore base(Clock::Real());
  FaultInjectingStore store(&base);
  ASSERT_OK(store.Put("packs/x", "abcdef"));
  ASSERT_OK(store.Put("index/y", "abcdef"));
  store.CorruptGets("packs/");
  ASSERT_OK_AND_ASSIGN(std::string bad, store.Get("packs/x"));
  EXPECT_NE(bad, "abcdef");
  EXPECT_EQ(bad.size(), 6u);
  ASSERT_OK_AND_ASSIGN(std::string good, store.Get("index/y"));
  EXPECT_EQ(good, "abcdef");
}

}  // namespace
}  // namespace standby
