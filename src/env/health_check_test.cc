#include "env/health_check.h"

#include <gtest/gtest.h>

namespace standby {
namespace {

TEST(HealthCheckTest, UrlsSplitIntoHostPortAndTarget) {
  auto full = ParseHealthUrl("http://127.0.0.1:8000/v1/health?deep=1");
  ASSERT_TRUE(full.has_value());
  EXPECT_EQ(full->host, "127.0.0.1");
  EXPECT_EQ(full->port, 8000);
  EXPECT_EQ(full->target, "/v1/health?deep=1");
  auto bare = ParseHealthUrl("http://localhost");
  ASSERT_TRUE(bare.has_value());
  EXPECT_EQ(bare->port, 80);
  EXPECT_EQ(bare->target, "/");
  for (const char* bad : {"https://h/x", "ftp://h", "http://:80/", "http://h:0/", "http://h:99999/",
                          "http://h:x/", "h:80/x"}) {
    EXPECT_FALSE(ParseHealthUrl(bad).has_value()) << bad;
  }
}

TEST(HealthCheckTest, AnAnswerIsHealthyOnlyWithTheStatusAndTheExpectedBody) {
  HttpResponse r;
  r.status = 200;
  r.body = R"({"status":"ready"})";
  EXPECT_TRUE(HealthAnswerOk(r, {200, ""}));
  EXPECT_TRUE(HealthAnswerOk(r, {200, "ready"}));
  EXPECT_FALSE(HealthAnswerOk(r, {200, "loading"}));
  EXPECT_FALSE(HealthAnswerOk(r, {204, ""}));
  r.status = 503;
  EXPECT_FALSE(HealthAnswerOk(r, {200, "ready"}));
}

}  // namespace
}  // namespace standby
