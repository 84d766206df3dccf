#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "base/result.h"
#include "env/file_system.h"

namespace standby {

// A GPU-like workspace: sharded safetensors weights, tokenizer and config, a checkpoint,
// training data, logs, an empty output directory and a symlink; about `total` bytes.
Status GenerateWorkspace(FileSystem* fs, const std::string& root, uint64_t total,
                         std::mt19937_64* rng);
// One training step: a new checkpoint, a rewritten optimizer state, a longer log.
Status TrainingStep(FileSystem* fs, const std::string& root, uint64_t total, std::mt19937_64* rng);

// One line of the demo's timing table.
struct DemoStep {
  std::string name;
  int64_t ms;
  std::string detail;
};
void PrintDemoSteps(const std::vector<DemoStep>& steps);

}  // namespace standby
