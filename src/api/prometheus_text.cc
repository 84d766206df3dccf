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

void PrometheusText::Histogram(const std::string& name, const std::string& help,
                               const std::vector<double>& bounds,
                               const std::vector<std::pair<Labels, std::vector<double>>>& series) {
  text_ += "# HELP " + name + " " + EscapeHelp(help) + "\n";
  text_ += "# TYPE " + name + " histogram\n";
  for (const auto& [labels, observations] : series) {
    double sum = 0;
    for (double v : observations) sum += v;
    for (double bound : bounds) {
      size_t below = 0;
      for (double v : observations) below += v <= bound ? 1 : 0;
      Labels with = labels;
      with.emplace_back("le", Number(bound));
      Sample(name + "_bucket", with, static_cast<double>(below));
    }
    Labels inf = labels;
    inf.emplace_back("le", "+Inf");
    Sample(name + "_bucket", inf, static_cast<double>(observations.size()));
    Sample(name + "_sum", labels, sum);
    Sample(name + "_count", labels, static_cast<double>(observations.size()));
  }
}

}  // namespace standby
