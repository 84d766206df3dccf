#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace standby {

// The exact Content-Type of the text exposition format 0.0.4 (Prometheus 3 refuses a
// scrape whose type is missing or malformed).
inline constexpr char kPrometheusContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// A histogram's state without its observations: counts per bucket of `bounds` (not
// cumulative; the last one is +Inf), their sum and count.
struct HistogramCounts {
  std::vector<double> per_bucket;
  double sum = 0;
  double count = 0;
  void Observe(const std::vector<double>& bounds, double value);
};

// Writes the Prometheus text format 0.0.4: each family once, HELP and TYPE before its
// samples, label values escaped (\\, \" and \n), HELP text escaped (\\ and \n), no
// timestamps. Names are the caller's constants (never user input).
class PrometheusText {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;

  // A counter, gauge or untyped family and its samples.
  void Family(const std::string& name, const std::string& type, const std::string& help,
              const std::vector<std::pair<Labels, double>>& samples);
  // A histogram family: for each series (its labels and its observations), cumulative
  // `_bucket` lines for every upper bound in `bounds` and +Inf, then `_sum` and `_count`.
  void Histogram(const std::string& name, const std::string& help,
                 const std::vector<double>& bounds,
                 const std::vector<std::pair<Labels, std::vector<double>>>& series);
  void Histogram(const std::string& name, const std::string& help,
                 const std::vector<double>& bounds,
                 const std::vector<std::pair<Labels, HistogramCounts>>& series);
  const std::string& text() const { return text_; }

  static std::string EscapeLabelValue(std::string_view value);
  static std::string EscapeHelp(std::string_view help);
  // Shortest round-tripping text; +Inf, -Inf and NaN as Prometheus spells them.
  static std::string Number(double value);

 private:
  void Sample(const std::string& name, const Labels& labels, double value);
  std::string text_;
};

}  // namespace standby
