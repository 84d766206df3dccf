// The controller's side of the agent protocol against scripted agents: what it does with a
// wrong protocol, silence, garbage and an agent that ends early.
#include <gtest/gtest.h>

#include <deque>

#include "remote/agent_channel.h"
#include "testing/test_util.h"

namespace standby {
namespace {

// An agent whose output is a script: each Read returns the next chunk (after sleeping the
// read's timeout on the clock when there is none), then end of file if `ends`.
class ScriptedChannel : public AgentChannel {
 public:
  ScriptedChannel(Clock* clock, std::deque<std::string> chunks, bool ends, std::string ending,
                  std::chrono::seconds gap = std::chrono::seconds(0))
      : clock_(clock),
        chunks_(std::move(chunks)),
        ends_(ends),
        ending_(std::move(ending)),
        gap_(gap) {}
  Status Write(std::string_view data) override {
    written += data;
    return OkStatus();
  }
  Status CloseStdin() override {
    stdin_closed = true;
    return OkStatus();
  }
  Result<ChannelOutput> Read(std::chrono::milliseconds timeout) override {
    ChannelOutput out;
    if (!chunks_.empty()) {
      clock_->SleepFor(gap_);  // the agent takes this long to send its next line
      out.out = chunks_.front();
      chunks_.pop_front();
      return out;
    }
    if (ends_) {
      out.eof = true;
      return out;
    }
    clock_->SleepFor(timeout);
    return out;
  }
  std::string Ending() override { return ending_; }
  void Terminate() override { terminated = true; }

  std::string written;
  bool stdin_closed = false;
  bool terminated = false;

 private:
  Clock* clock_;
  std::deque<std::string> chunks_;
  bool ends_;
  std::string ending_;
  std::chrono::seconds gap_;
};

class AgentConversationTest : public ::testing::Test {
 protected:
  AgentConversationTest()
      : clock_(0, {.auto_advance = true, .quiet = std::chrono::microseconds(0)}) {
    job_.command = "restore";
    job_.secret_access_key = "secret-that-must-stay-home";
    options_.clock = &clock_;
  }
  Result<nlohmann::json> Talk(ScriptedChannel& channel) {
    return RunAgentConversation(channel, job_, nullptr, options_);
  }
  FakeClock clock_;
  AgentJob job_;
  ConversationOptions options_;
};

constexpr const char* kHello = "{\"type\":\"hello\",\"protocol\":1}\n";

TEST_F(AgentConversationTest, TheJobGoesOutOnlyAfterTheHelloAndTheResultComesBack) {
  ScriptedChannel channel(&clock_,
                          {kHello, "{\"type\":\"progress\",\"percent\":50}\n",
                           "{\"type\":\"result\",\"ok\":true,\"data\":{\"x\":1}}\n"},
                          true, "exited with status 0");
  ASSERT_OK_AND_ASSIGN(auto data, Talk(channel));
  EXPECT_EQ(data["x"], 1);
  EXPECT_NE(channel.written.find("secret-that-must-stay-home"), std::string::npos);
  EXPECT_TRUE(channel.stdin_closed);
}

TEST_F(AgentConversationTest, AnotherProtocolIsRefusedBeforeTheJobIsSent) {
  ScriptedChannel channel(&clock_, {"{\"type\":\"hello\",\"protocol\":2}\n"}, false, "");
  auto result = Talk(channel);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(result.error().message.find("speaks protocol 2"), std::string::npos);
  EXPECT_TRUE(channel.written.empty()) << "credentials went to an agent we do not speak with";
  EXPECT_TRUE(channel.terminated);
}

TEST_F(AgentConversationTest, SilenceEndsAtTheHelloTimeoutOnTheInjectedClock) {
  options_.hello_timeout = std::chrono::seconds(30);
  ScriptedChannel channel(&clock_, {}, false, "");
  const int64_t start = clock_.MonotonicNanos();
  auto result = Talk(channel);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_TRUE(channel.terminated);
  EXPECT_TRUE(channel.written.empty());
  int64_t waited = ElapsedMillis(&clock_, start);
  EXPECT_GE(waited, 30000);
  EXPECT_LE(waited, 30500);
}

TEST_F(AgentConversationTest, AnAgentSilentAfterItsHelloEndsAtTheJobTimeout) {
  options_.job_timeout = std::chrono::seconds(3);
  ScriptedChannel channel(&clock_, {kHello}, false, "");
  const int64_t start = clock_.MonotonicNanos();
  auto result = Talk(channel);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_TRUE(channel.terminated);
  EXPECT_LE(ElapsedMillis(&clock_, start), 3500);
}

TEST_F(AgentConversationTest, HeartbeatsKeepALongJobAliveAndSilenceEndsIt) {
  options_.idle_timeout = std::chrono::seconds(30);
  std::deque<std::string> beats = {kHello};
  for (int i = 0; i < 12; ++i) beats.push_back("{\"type\":\"heartbeat\"}\n");
  // A line every 5 s for a minute (twice the idle timeout), then silence.
  ScriptedChannel alive(&clock_, beats, false, "", std::chrono::seconds(5));
  const int64_t start = clock_.MonotonicNanos();
  auto result = Talk(alive);
  EXPECT_GE(ElapsedMillis(&clock_, start), 65 * 1000 + 30 * 1000);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_NE(result.error().message.find("sent nothing for 30 s"), std::string::npos)
      << result.error().message;
  EXPECT_TRUE(alive.terminated);
}

TEST_F(AgentConversationTest, AMalformedLineIsAnErrorNotASuccess) {
  ScriptedChannel channel(&clock_, {kHello, "this is not json\n"}, true, "exited with status 0");
  auto result = Talk(channel);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kCorruption);
  EXPECT_NE(result.error().message.find("not an event"), std::string::npos);
}

TEST_F(AgentConversationTest, AnAgentThatEndsBeforeItsResultFailsTheJob) {
  ScriptedChannel channel(&clock_, {kHello, "{\"type\":\"progress\",\"percent\":10}\n"}, true,
                          "was killed by signal 9");
  auto result = Talk(channel);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(result.error().message.find("killed by signal 9 before reporting a result"),
            std::string::npos);
}

TEST_F(AgentConversationTest, AnAgentThatNeverStartedSaysWhy) {
  ScriptedChannel channel(&clock_, {}, true, "exited with status 127");
  AgentDidNotStart why;
  auto result = RunAgentConversation(channel, job_, nullptr, options_, &why);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(why.ending, "exited with status 127");
}

TEST_F(AgentConversationTest, AFailedResultCarriesTheAgentsErrorAndData) {
  nlohmann::json found;
  options_.failure_data = &found;
  ScriptedChannel channel(
      &clock_,
      {kHello,
       "{\"type\":\"result\",\"ok\":false,\"error\":{\"code\":\"corruption\",\"message\":\"bad "
       "chunk\",\"retryable\":false},\"data\":{\"validation\":\"failed\"}}\n"},
      true, "exited with status 1");
  auto result = Talk(channel);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kCorruption);
  EXPECT_EQ(result.error().message, "agent: bad chunk");
  EXPECT_EQ(found["validation"], "failed");
}

}  // namespace
}  // namespace standby
