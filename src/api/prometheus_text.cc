#include "api/prometheus_text.h"

#include <cmath>
#include <cstdio>

namespace standby {

std::string PrometheusText::EscapeLabelValue(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string PrometheusText::EscapeHelp(std::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string PrometheusText::Number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    char text[32];
    std::snprintf(text, sizeof(text), "%.0f", value);
    return text;
  }
  char text[32];
  std::snprintf(text, sizeof(text), "%.17g", value);
  return text;
}

void PrometheusText::Sample(const std::string& name, const Labels& labels, double value) {
  text_ += name;
  if (!labels.empty()) {
    text_ += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) text_ += ',';
      text_ += labels[i].first + "=\"" + EscapeLabelValue(labels[i].second) + "\"";
    }
    text_ += '}';
  }
  text_ += ' ' + Number(value) + '\n';
}

void PrometheusText::Family(const std::string& name, const std::string& type,
                            const std::string& help,
                            const std::vector<std::pair<Labels, double>>& samples) {
  text_ += "# HELP " + name + " " + EscapeHelp(help) + "\n";
  text_ += "# TYPE " + name + " " + type + "\n";
  for (const auto& [labels, value] : samples) Sample(name, labels, value);
}

void HistogramCounts::Observe(const std::vector<double>& bounds, double value) {
  per_bucket.resize(bounds.size() + 1);
  size_t i = 0;
  while (i < bounds.size() && value > bounds[i]) ++i;
  per_bucket[i] += 1;
  sum += value;
  count += 1;
}

void PrometheusText::Histogram(const std::string& name, const std::string& help,
                               const std::vector<double>& bounds,
                               const std::vector<std::pair<Labels, std::vector<double>>>& series) {
  std::vector<std::pair<Labels, HistogramCounts>> counted;
  for (const auto& [labels, observations] : series) {
    HistogramCounts c;
    c.per_bucket.resize(bounds.size() + 1);
    for (double v : observations) c.Observe(bounds, v);
    counted.emplace_back(labels, std::move(c));
  }
  Histogram(name, help, bounds, counted);
}

void PrometheusText::Histogram(const std::string& name, const std::string& help,
                               const std::vector<double>& bounds,
                               const std::vector<std::pair<Labels, HistogramCounts>>& series) {
  text_ += "# HELP " + name + " " + EscapeHelp(help) + "\n";
  text_ += "# TYPE " + name + " histogram\n";
  for (const auto& [labels, counts] : series) {
    double below = 0;
    for (size_t i = 0; i < bounds.size(); ++i) {
      below += i < counts.per_bucket.size() ? counts.per_bucket[i] : 0;
      Labels with = labels;
      with.emplace_back("le", Number(bounds[i]));
      Sample(name + "_bucket", with, below);
    }
    Labels inf = labels;
    inf.emplace_back("le", "+Inf");
    Sample(name + "_bucket", inf, counts.count);
    Sample(name + "_sum", labels, counts.sum);
    Sample(name + "_count", labels, counts.count);
  }
}

}  // namespace standby
