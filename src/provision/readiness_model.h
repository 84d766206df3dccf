#pragma once

#include <mutex>
#include <optional>
#include <vector>

namespace standby {

// How long rented machines take to answer SSH, learned from every candidate of every race.
// A candidate destroyed or timed out before it was ready still says "it took longer than
// this": such samples are censored, and the estimate accounts for them (Kaplan–Meier), so
// losers and machines that never boot do not make the distribution look faster than it is.
class ReadinessModel {
 public:
  virtual ~ReadinessModel() = default;
  // `seconds` from create to ready; `ready` false for a censored sample.
  virtual void Record(double seconds, bool ready) = 0;
  // The q-quantile (0 < q < 1) of time-to-ready among machines that do become ready, or
  // nullopt without a ready sample. Some machines never boot (the curve's plateau, taken as
  // their share); an unconditional p90 would not exist whenever more than 10% never do.
  virtual std::optional<double> Quantile(double q) const = 0;
  virtual size_t Samples() const = 0;
};

// The Kaplan–Meier estimate in memory (the state store persists samples in
// provisioning_attempts; a later step loads them at start-up). Thread-safe.
class KaplanMeierModel : public ReadinessModel {
 public:
  void Record(double seconds, bool ready) override;
  std::optional<double> Quantile(double q) const override;
  size_t Samples() const override;
  size_t ReadySamples() const;
  // S(t): the estimated probability that a machine is still not ready after t seconds.
  double Survival(double t) const;
  // S after the last ready sample: the estimated share of machines that never become ready
  // (an upper bound while censoring is heavy).
  double NeverReadyShare() const;

 private:
  struct Sample {
    double seconds;
    bool ready;
  };
  std::vector<std::pair<double, bool>> Copy() const;
  mutable std::mutex mu_;
  std::vector<Sample> samples_;
};

// The race's timings from a model: hedge after p50, give up a round at p90 + 10 s (seed
// 2.3); the defaults until the model has `min_samples`.
struct RaceTimings {
  double hedge_after_s;
  double round_timeout_s;
};
RaceTimings TimingsFrom(const ReadinessModel& model, size_t min_samples = 20,
                        double default_p50_s = 45, double default_timeout_s = 90);

}  // namespace standby
