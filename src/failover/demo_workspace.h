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

// The demo's workload, written into the workspace as src/serve.py: a stand-in for an
// inference server. It loads the weights (hashes every safetensors shard, as a server reads
// its weights), then listens on 127.0.0.1:PORT: /health answers "ok" once loaded, /infer
// answers the SHA-256 of each shard — so a wrong or partial restore answers differently.
extern const char kDemoServer[];

}  // namespace standby
