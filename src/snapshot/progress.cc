#include "snapshot/progress.h"

#include "base/strings.h"

namespace standby {

ProgressReporter::ProgressReporter(std::string label, uint64_t total_bytes, Clock* clock,
                                   std::function<void(const std::string&)> sink,
                                   std::function<void(const ProgressEvent&)> events)
    : label_(std::move(label)),
      total_(total_bytes),
      clock_(clock),
      sink_(std::move(sink)),
      events_(std::move(events)),
      start_nanos_(clock->MonotonicNanos()) {}

void ProgressReporter::Add(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  done_ += bytes;
  if (total_ == 0 || (!sink_ && !events_)) return;
  int percent = static_cast<int>(done_ * 100 / total_);
  if (percent < next_decile_ * 10) return;
  next_decile_ = percent / 10 + 1;
  double seconds = static_cast<double>(clock_->MonotonicNanos() - start_nanos_) / 1e9;
  double rate = seconds > 0 ? static_cast<double>(done_) / seconds : 0;
  if (sink_) {
    sink_(label_ + ": " + std::to_string(percent) + "% (" + HumanBytes(done_) + "/" +
          HumanBytes(total_) + ") - " + HumanRate(rate));
  }
  if (events_) events_({percent, done_, total_, rate});
}

uint64_t ProgressReporter::done() const {
  std::lock_guard<std::mutex> lock(mu_);
  return done_;
}

}  // namespace standby
