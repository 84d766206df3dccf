#include "provision/readiness_model.h"

#include <algorithm>

namespace standby {

void KaplanMeierModel::Record(double seconds, bool ready) {
  std::lock_guard<std::mutex> lock(mu_);
  samples_.push_back({std::max(0.0, seconds), ready});
}

size_t KaplanMeierModel::Samples() const {
  std::lock_guard<std::mutex> lock(mu_);
  return samples_.size();
}

size_t KaplanMeierModel::ReadySamples() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t ready = 0;
  for (const Sample& s : samples_) ready += s.ready;
  return ready;
}

namespace {

// Walks the distinct event times in order, calling step(t, S(t)) after each drop.
template <typename Step>
void WalkCurve(std::vector<std::pair<double, bool>> sorted, Step&& step) {
  // Events before censorings at equal times (the usual convention: a censored sample at t
  // was still at risk at t).
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second > b.second;
  });
  double survival = 1.0;
  size_t at_risk = sorted.size();
  size_t i = 0;
  while (i < sorted.size()) {
    double t = sorted[i].first;
    size_t events = 0, leaving = 0;
    while (i < sorted.size() && sorted[i].first == t) {
      if (sorted[i].second) ++events;
      ++leaving;
      ++i;
    }
    if (events > 0 && at_risk > 0) {
      survival *= 1.0 - static_cast<double>(events) / static_cast<double>(at_risk);
      if (!step(t, survival)) return;
    }
    at_risk -= leaving;
  }
}

}  // namespace

double KaplanMeierModel::Survival(double t) const {
  double result = 1.0;
  WalkCurve(Copy(), [&](double time, double survival) {
    if (time > t) return false;
    result = survival;
    return true;
  });
  return result;
}

std::vector<std::pair<double, bool>> KaplanMeierModel::Copy() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<double, bool>> out;
  out.reserve(samples_.size());
  for (const Sample& s : samples_) out.emplace_back(s.seconds, s.ready);
  return out;
}

double KaplanMeierModel::NeverReadyShare() const {
  double plateau = 1.0;
  WalkCurve(Copy(), [&](double, double survival) {
    plateau = survival;
    return true;
  });
  return plateau;
}

std::optional<double> KaplanMeierModel::Quantile(double q) const {
  const double plateau = NeverReadyShare();
  if (plateau >= 1.0) return std::nullopt;  // nothing was ever ready
  // Conditional on becoming ready: (S(t) - plateau) / (1 - plateau) <= 1 - q.
  const double target = plateau + (1.0 - plateau) * (1.0 - q);
  std::optional<double> found;
  WalkCurve(Copy(), [&](double time, double survival) {
    if (survival <= target + 1e-12) {
      found = time;
      return false;
    }
    return true;
  });
  return found;
}

RaceTimings TimingsFrom(const ReadinessModel& model, size_t min_samples, double default_p50_s,
                        double default_timeout_s) {
  RaceTimings timings{default_p50_s, default_timeout_s};
  if (model.Samples() < min_samples) return timings;
  if (auto p50 = model.Quantile(0.5)) timings.hedge_after_s = *p50;
  if (auto p90 = model.Quantile(0.9)) timings.round_timeout_s = *p90 + 10;
  return timings;
}

}  // namespace standby
