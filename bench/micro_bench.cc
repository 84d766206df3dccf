// Throughput of the snapshot engine's primitives: chunking, hashing, compression.
// Run: ./build/bench/standby_micro_bench
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <string>

#include "snapshot/chunker.h"
#include "snapshot/compression.h"
#include "snapshot/hash.h"

namespace standby {
namespace {

std::string RandomData(size_t size) {
  std::mt19937_64 rng(1);
  std::string out(size, '\0');
  for (size_t i = 0; i + 8 <= size; i += 8) {
    uint64_t v = rng();
    std::memcpy(out.data() + i, &v, 8);
  }
  return out;
}

std::string TextData(size_t size) {
  static const char* kWords[] = {"tensor", "gradient", "the", "layer", "batch", "loss", "epoch"};
  std::mt19937_64 rng(2);
  std::string out;
  while (out.size() < size) {
    out += kWords[rng() % 7];
    out += ' ';
  }
  out.resize(size);
  return out;
}

void BM_FastCdc(benchmark::State& state) {
  std::string data = RandomData(64 << 20);
  Chunker chunker{ChunkerParams{}};
  for (auto _ : state) {
    size_t pos = 0, chunks = 0;
    while (pos < data.size()) {
      pos +=
          chunker.FindCut(reinterpret_cast<const uint8_t*>(data.data()) + pos, data.size() - pos);
      ++chunks;
    }
    benchmark::DoNotOptimize(chunks);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_FastCdc)->Unit(benchmark::kMillisecond);

void BM_Sha256(benchmark::State& state) {
  std::string data = RandomData(1 << 20);
  for (auto _ : state) benchmark::DoNotOptimize(Sha256(data));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_Sha256);

void Compress(benchmark::State& state, const std::string& data, Compression c) {
  std::string out;
  Compression used = Compression::kNone;
  for (auto _ : state) used = CompressChunk(data, c, &out);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
  size_t stored = used == Compression::kNone ? data.size() : out.size();
  state.counters["ratio"] = static_cast<double>(data.size()) / static_cast<double>(stored);
  state.SetLabel(std::string(CompressionName(used)));
}

void BM_Lz4Random(benchmark::State& s) { Compress(s, RandomData(1 << 20), Compression::kLz4); }
void BM_Lz4Text(benchmark::State& s) { Compress(s, TextData(1 << 20), Compression::kLz4); }
void BM_ZstdRandom(benchmark::State& s) { Compress(s, RandomData(1 << 20), Compression::kZstd); }
void BM_ZstdText(benchmark::State& s) { Compress(s, TextData(1 << 20), Compression::kZstd); }
BENCHMARK(BM_Lz4Random);
BENCHMARK(BM_Lz4Text);
BENCHMARK(BM_ZstdRandom);
BENCHMARK(BM_ZstdText);

void BM_Lz4DecompressText(benchmark::State& state) {
  std::string text = TextData(1 << 20), stored, raw;
  Compression used = CompressChunk(text, Compression::kLz4, &stored);
  for (auto _ : state) benchmark::DoNotOptimize(DecompressChunk(stored, used, text.size(), &raw));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_Lz4DecompressText);

}  // namespace
}  // namespace standby

BENCHMARK_MAIN();
