#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "base/result.h"
#include "base/time.h"
#include "env/file_system.h"
#include "snapshot/chunker.h"
#include "snapshot/compression.h"
#include "snapshot/hash.h"

namespace standby {

// Where a chunk's stored bytes live.
struct ChunkRef {
  Hash256 id;
  Hash256 pack;
  uint64_t offset = 0;
  uint32_t stored_length = 0;
  uint32_t raw_length = 0;
  Compression compression = Compression::kNone;
};

// The permission bits a restore gives an entry unless asked to keep setuid and setgid
// (RestoreOptions::keep_special_bits): the stored mode & this. Validation accepts both.
inline constexpr uint32_t kModeRestoredByDefault = 01777;

// Bounds on what a manifest may expand to (a host writes it): chunk references per file
// (2^20 chunks of at least the chunker's minimum: terabytes) and in all.
inline constexpr uint64_t kMaxChunksPerFile = 1 << 20;
inline constexpr uint64_t kMaxChunkReferences = 1 << 24;

// One workspace entry. Paths are relative to the workspace root, '/'-separated.
struct ManifestEntry {
  std::string path;
  FileType type = FileType::kRegular;  // kRegular, kDirectory or kSymlink
  uint32_t mode = 0;
  int64_t mtime_ns = 0;
  uint64_t size = 0;  // regular files only
  // Change detection against the next snapshot on the same machine.
  int64_t ctime_ns = 0;
  uint64_t inode = 0;
  uint64_t dev = 0;
  std::string symlink_target;    // symlinks only
  Hash256 content_hash;          // regular files: ContentHash() of their chunk ids
  std::vector<uint32_t> chunks;  // indices into Manifest::chunks, in file order
};

struct SnapshotHeader {
  std::string snapshot_id;
  std::string instance_id;
  std::string snapshot_type;  // "full" | "incremental"
  std::optional<std::string> base_snapshot_id;
  uint64_t files_total = 0;
  uint64_t files_changed = 0;
  uint64_t bytes_total = 0;
  uint64_t bytes_uploaded = 0;
  UnixNanos created_at = 0;
  Compression compression = Compression::kLz4;
  std::string hostname;
  std::string workspace;
  int64_t duration_ms = 0;
};

struct Manifest {
  SnapshotHeader header;
  ChunkerParams chunker;
  std::vector<ManifestEntry> entries;  // sorted by path; parents before children
  std::vector<ChunkRef> chunks;        // each chunk once
};

// SHA-256 over the concatenated 32-byte chunk ids of a file (the empty file: SHA-256 of "").
// Equal content hashes mean equal content, as chunk ids are SHA-256 of the chunk bytes.
Hash256 ContentHash(const std::vector<Hash256>& chunk_ids);

// JSON forms (docs/formats/repository.md). The manifest object is stored zstd-compressed.
std::string SerializeManifest(const Manifest& manifest);
Result<Manifest> ParseManifest(std::string_view json);
std::string SerializeHeader(const SnapshotHeader& header);
Result<SnapshotHeader> ParseHeader(std::string_view json);
// The seed-compatible metadata.json: {snapshot_id, timestamp, files{path: mtime}, total_size,
// compression}, mtime in seconds (float).
std::string SeedMetadataJson(const Manifest& manifest);

// Checks everything a restore relies on before it touches the target: safe relative paths
// (no "..", "." or empty segments, not absolute, no NUL), unique paths, parents that are
// directories in the manifest, chunk indices in range, chunk sizes adding up to file sizes.
Status ValidateManifest(const Manifest& manifest);

// True when a relative symlink target, resolved from the link's directory, stays inside the
// workspace root; absolute targets are outside. A target that passes through one of
// `links` (the snapshot's other symlinks, as "esc -> self/.." with "self -> .") counts as
// outside: a lexical walk cannot see where that leads.
bool SymlinkStaysInside(std::string_view link_path, std::string_view target,
                        const std::unordered_set<std::string_view>& links = {});

}  // namespace standby
