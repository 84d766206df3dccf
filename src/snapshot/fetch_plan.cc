#include "snapshot/fetch_plan.h"

#include <algorithm>
#include <map>

namespace standby {
namespace {

constexpr uint64_t kMaxRangeBytes = 8 * 1024 * 1024;
constexpr uint64_t kMaxRangeGap = 256 * 1024;

}  // namespace

std::vector<FetchRange> PlanFetchRanges(const std::vector<ChunkRef>& chunks,
                                        const std::vector<uint32_t>& wanted) {
  std::map<Hash256, std::vector<uint32_t>> by_pack;
  for (uint32_t index : wanted) by_pack[chunks[index].pack].push_back(index);
  std::vector<FetchRange> ranges;
  for (auto& [pack, indices] : by_pack) {
    std::sort(indices.begin(), indices.end(),
              [&](uint32_t a, uint32_t b) { return chunks[a].offset < chunks[b].offset; });
    bool first = true;
    for (uint32_t index : indices) {
      const ChunkRef& c = chunks[index];
      uint64_t end = c.offset + c.stored_length;
      FetchRange* last = first ? nullptr : &ranges.back();
      if (last != nullptr && c.offset <= last->offset + last->length + kMaxRangeGap &&
          end - last->offset <= kMaxRangeBytes) {
        last->length = std::max(last->length, end - last->offset);
      } else {
        ranges.push_back({pack, c.offset, c.stored_length, {}});
      }
      ranges.back().chunks.push_back(index);
      first = false;
    }
  }
  return ranges;
}

}  // namespace standby
