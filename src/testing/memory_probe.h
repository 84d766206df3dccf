#pragma once

#include <cstdint>
#include <functional>

#include "base/result.h"

namespace standby {

// How much `fn` grows a process's resident memory at its peak: `fn` runs in a forked child
// (so the test process's own history does not count), which reports its peak resident set
// (VmHWM) less its resident set when `fn` began (VmRSS). For tests that bound what hostile
// input may cost. The child has one thread: `fn` must not need the parent's other threads.
Result<uint64_t> PeakMemoryGrowthInChild(const std::function<void()>& fn);

}  // namespace standby
