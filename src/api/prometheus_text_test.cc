// The exposition format's escaping and histogram shape, as Prometheus parses them.
#include "api/prometheus_text.h"

#include <gtest/gtest.h>

#include <limits>

namespace standby {
namespace {

TEST(PrometheusTextTest, LabelValuesAndHelpAreEscaped) {
  EXPECT_EQ(PrometheusText::EscapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(PrometheusText::EscapeHelp("line\\one\nline \"two\""), "line\\\\one\\nline \"two\"");
  PrometheusText t;
  t.Family("standby_instance_state", "gauge", "State of each protected instance (one-hot).\nX",
           {{{{"protected", "llm\"1\n"}, {"state", "healthy"}}, 1}, {{}, 0}});
  EXPECT_EQ(t.text(),
            "# HELP standby_instance_state State of each protected instance (one-hot).\\nX\n"
            "# TYPE standby_instance_state gauge\n"
            "standby_instance_state{protected=\"llm\\\"1\\n\",state=\"healthy\"} 1\n"
            "standby_instance_state 0\n");
}

TEST(PrometheusTextTest, NumbersAreWrittenAsPrometheusReadsThem) {
  EXPECT_EQ(PrometheusText::Number(3), "3");
  EXPECT_EQ(PrometheusText::Number(-2), "-2");
  EXPECT_EQ(PrometheusText::Number(0.25), "0.25");
  EXPECT_EQ(PrometheusText::Number(1764547200.5), "1764547200.5");
  EXPECT_EQ(PrometheusText::Number(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(PrometheusText::Number(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(PrometheusText::Number(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(PrometheusTextTest, HistogramBucketsAreCumulativeWithInfEqualToCount) {
  PrometheusText t;
  t.Histogram("standby_failover_duration_seconds", "MTTR.", {10, 60, 120},
              {{{{"trigger", "host_dead"}}, {5, 61, 70, 500}}});
  EXPECT_EQ(t.text(),
            "# HELP standby_failover_duration_seconds MTTR.\n"
            "# TYPE standby_failover_duration_seconds histogram\n"
            "standby_failover_duration_seconds_bucket{trigger=\"host_dead\",le=\"10\"} 1\n"
            "standby_failover_duration_seconds_bucket{trigger=\"host_dead\",le=\"60\"} 1\n"
            "standby_failover_duration_seconds_bucket{trigger=\"host_dead\",le=\"120\"} 3\n"
            "standby_failover_duration_seconds_bucket{trigger=\"host_dead\",le=\"+Inf\"} 4\n"
            "standby_failover_duration_seconds_sum{trigger=\"host_dead\"} 636\n"
            "standby_failover_duration_seconds_count{trigger=\"host_dead\"} 4\n");
  EXPECT_STREQ(kPrometheusContentType, "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace
}  // namespace standby
