// The agent's side of grants against a scripted controller: answers matched by id, kept for
// the job, asked again on renewal, and every bad answer an error rather than a crash.
#include "agent/grant_client.h"

#include <gtest/gtest.h>

#include <deque>

#include "testing/test_util.h"

namespace standby {
namespace {

class GrantClientTest : public ::testing::Test {
 protected:
  GrantClient Client(std::vector<ObjectGrant> grants = {}) {
    return GrantClient(
        grants, [this](const nlohmann::json& event) { sent_.push_back(event); },
        [this]() -> Result<std::string> {
          if (answers_.empty()) return UnavailableError("the controller closed the agent's input");
          std::string line = answers_.front();
          answers_.pop_front();
          return line;
        });
  }
  std::vector<nlohmann::json> sent_;
  std::deque<std::string> answers_;
  const S3Operation put_{"PUT", "packs/gpu-1/ab/ab01", false, {}};
};

TEST_F(GrantClientTest, AnAnswerIsKeptForTheJobAndRenewedOnRequest) {
  answers_ = {R"({"type":"grant","id":1,"query":[["X-Amz-Signature","one"]]})",
              R"({"type":"grant","id":2,"query":[["X-Amz-Signature","two"]]})"};
  GrantClient client = Client();
  ASSERT_OK_AND_ASSIGN(QueryParams first, client.Authorize(put_, false));
  EXPECT_EQ(first.back().second, "one");
  ASSERT_OK_AND_ASSIGN(QueryParams again, client.Authorize(put_, false));
  EXPECT_EQ(again.back().second, "one");
  ASSERT_EQ(sent_.size(), 1u) << "a kept grant was asked for again";
  EXPECT_EQ(sent_[0]["type"], "authorize");
  EXPECT_EQ(sent_[0]["key"], "packs/gpu-1/ab/ab01");
  ASSERT_OK_AND_ASSIGN(QueryParams renewed, client.Authorize(put_, true));
  EXPECT_EQ(renewed.back().second, "two");
  EXPECT_EQ(sent_.size(), 2u);
}

TEST_F(GrantClientTest, GrantsSentWithTheJobCostNoExchange) {
  GrantClient client = Client({{{"GET", "config", false, {}}, {{"X-Amz-Signature", "s"}}}});
  ASSERT_OK_AND_ASSIGN(QueryParams query, client.Authorize({"GET", "config", false, {}}, false));
  EXPECT_EQ(query.back().second, "s");
  EXPECT_TRUE(sent_.empty());
}

TEST_F(GrantClientTest, RefusalsAndBadAnswersAreErrors) {
  struct Case {
    std::string answer;
    ErrorCode code;
  };
  const std::vector<Case> cases = {
      {R"({"type":"grant","id":1,"error":{"code":"permission_denied","message":"not yours"}})",
       ErrorCode::kPermissionDenied},
      {R"({"type":"grant","id":7,"query":[]})", ErrorCode::kInternal},
      {"not json", ErrorCode::kCorruption},
      {R"({"type":"grant","id":1,"query":"x"})", ErrorCode::kCorruption},
      {R"({"type":"grant","id":"1","query":[]})", ErrorCode::kCorruption},
  };
  for (const Case& c : cases) {
    answers_ = {c.answer};
    GrantClient client = Client();
    auto query = client.Authorize(put_, false);
    ASSERT_FALSE(query.has_value()) << c.answer;
    EXPECT_EQ(query.error().code, c.code) << c.answer << " -> " << query.error().message;
  }
  answers_.clear();
  GrantClient closed = Client();
  EXPECT_EQ(closed.Authorize(put_, false).error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace standby
