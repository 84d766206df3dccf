#include "failover/demo_workspace.h"

#include <cstdio>
#include <cstring>

namespace standby {

const char kDemoServer[] = R"(#!/usr/bin/env python3
# Inference stand-in (standby demo): loads the weights, then answers /health and /infer.
import glob, hashlib, http.server, json, os, sys

port = int(sys.argv[1])
answer = {}
for shard in sorted(glob.glob("models/llama-mini/*.safetensors")):
    digest = hashlib.sha256()
    with open(shard, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    answer[os.path.basename(shard)] = digest.hexdigest()
body = json.dumps(answer, sort_keys=True).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        reply = {"/health": b"ok", "/infer": body}.get(self.path)
        if reply is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
)";

namespace {

// Writes `size` bytes: random (like model weights) or word text (like data and configs).
Status WriteGenerated(FileSystem* fs, const std::string& path, uint64_t size, bool random,
                      std::mt19937_64* rng) {
  static const char* kWords[] = {"the",   "model",     "gradient", "tensor", "batch",  "token",
                                 "layer", "attention", "loss",     "epoch",  "weight", "cuda"};
  ASSIGN_OR_RETURN(auto file, fs->OpenWrite(path, 0644));
  std::string block;
  uint64_t offset = 0;
  while (offset < size) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(size - offset, 1 << 20));
    block.clear();
    if (random) {
      block.resize(n);
      for (size_t i = 0; i + 8 <= n; i += 8) {
        uint64_t v = (*rng)();
        std::memcpy(block.data() + i, &v, 8);
      }
    } else {
      while (block.size() < n) {
        block += kWords[(*rng)() % std::size(kWords)];
        block += ((*rng)() % 13 == 0) ? '\n' : ' ';
      }
      block.resize(n);
    }
    RETURN_IF_ERROR(file->WriteAt(offset, block));
    offset += n;
  }
  return file->Close();
}

}  // namespace

Status GenerateWorkspace(FileSystem* fs, const std::string& root, uint64_t total,
                         std::mt19937_64* rng) {
  for (const char* dir :
       {"models/llama-mini", "checkpoints/step-000100", "data", "logs", "outputs", "src"}) {
    RETURN_IF_ERROR(MakeDirs(fs, JoinPath(root, dir)));
  }
  const int shards = 4;
  for (int i = 1; i <= shards; ++i) {
    char name[64];
    std::snprintf(name, sizeof(name), "models/llama-mini/model-%05d-of-%05d.safetensors", i,
                  shards);
    RETURN_IF_ERROR(WriteGenerated(fs, JoinPath(root, name), total * 6 / 10 / shards, true, rng));
  }
  RETURN_IF_ERROR(
      WriteGenerated(fs, JoinPath(root, "models/llama-mini/tokenizer.json"), 2 << 20, false, rng));
  RETURN_IF_ERROR(WriteFileAtomically(fs, JoinPath(root, "models/llama-mini/config.json"),
                                      R"({"hidden_size": 2048, "num_layers": 16})"));
  RETURN_IF_ERROR(WriteGenerated(fs, JoinPath(root, "checkpoints/step-000100/optimizer.pt"),
                                 total / 5, true, rng));
  RETURN_IF_ERROR(WriteGenerated(fs, JoinPath(root, "data/train.jsonl"), total / 6, false, rng));
  RETURN_IF_ERROR(WriteGenerated(fs, JoinPath(root, "logs/train.log"), 256 << 10, false, rng));
  RETURN_IF_ERROR(WriteFileAtomically(fs, JoinPath(root, "src/serve.py"), kDemoServer, 0755));
  return fs->Symlink("llama-mini", JoinPath(root, "models/current"));
}

Status TrainingStep(FileSystem* fs, const std::string& root, uint64_t total, std::mt19937_64* rng) {
  RETURN_IF_ERROR(MakeDirs(fs, JoinPath(root, "checkpoints/step-000200")));
  RETURN_IF_ERROR(WriteGenerated(fs, JoinPath(root, "checkpoints/step-000200/optimizer.pt"),
                                 total / 20, true, rng));
  RETURN_IF_ERROR(WriteGenerated(fs, JoinPath(root, "logs/train.log"), 300 << 10, false, rng));
  return WriteFileAtomically(fs, JoinPath(root, "outputs/eval.json"), R"({"loss": 1.234})");
}

}  // namespace standby
