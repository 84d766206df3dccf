#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "snapshot/manifest.h"
#include "snapshot/pack.h"
#include "store/object_store.h"

namespace standby {

// The most the controller reads of each kind of repository object (hosts write most of them,
// through their grants; docs/design.md, "Limits"). A larger object is refused unread.
inline constexpr uint64_t kMaxConfigBytes = 64 << 10;
inline constexpr uint64_t kMaxPointerBytes = 4 << 10;  // snapshots/<instance>/latest
inline constexpr uint64_t kMaxHeaderBytes = 1 << 20;   // header.json
inline constexpr uint64_t kMaxLockBytes = 64 << 10;
inline constexpr uint64_t kMaxManifestFrameBytes = 256 << 20;  // compressed
inline constexpr uint64_t kMaxIndexFrameBytes = 256 << 20;     // compressed

// An object of the repository that could not be read or made sense of, and whose it is.
struct UnreadableObject {
  std::string instance_id;
  std::string key;
  std::string problem;
};

// Whether `e`, from reading one object, says the object itself is bad (damaged, too large,
// missing beside its header, naming what is not an id): such an object is reported and
// skipped. Any other error (the store away, a timeout, a refusal) is the store's, and ends
// the listing or the prune.
bool IsUnreadableObject(const Error& e);

// chunk id → where it is stored
using ChunkIndex = std::unordered_map<Hash256, ChunkRef, Hash256Hasher>;

struct PackRecord {
  Hash256 pack_id;
  uint64_t size = 0;
  std::vector<PackBlob> blobs;
};

// The repository layout on an ObjectStore (docs/formats/repository.md):
//   config                                   format version and chunker parameters
//   packs/<xx>/<pack id>                     chunk data
//   index/<id>                               zstd JSON: pack → blobs
//   snapshots/<instance>/<snapshot id>/manifest      zstd JSON manifest
//   snapshots/<instance>/<snapshot id>/header.json   the manifest's header alone
//   snapshots/<instance>/<snapshot id>/metadata.json seed-compatible summary
//   snapshots/<instance>/latest              {"snapshot_id": ...}: the newest complete snapshot
//   locks/<id>                               lock records (snapshot/lock.h)
// Thread-safe as far as the store is; holds no mutable state after Open().
class Repository {
 public:
  // Reads `config`; with `create`, writes a default one when the store has none.
  static Result<std::unique_ptr<Repository>> Open(ObjectStore* store, bool create);

  ObjectStore* store() const { return store_; }
  const ChunkerParams& chunker() const { return chunker_; }

  // The snapshot id `latest` names for `instance`, or nullopt when it has none.
  Result<std::optional<std::string>> ReadLatest(const std::string& instance_id);
  Status WriteLatest(const std::string& instance_id, const std::string& snapshot_id);

  // Writes manifest, header.json and metadata.json (in that order).
  Status WriteSnapshot(const Manifest& manifest);
  // Loads and validates a manifest.
  Result<Manifest> LoadManifest(const std::string& instance_id, const std::string& snapshot_id);
  // Finds the instance a snapshot id belongs to (lists snapshots/; not for the failover path).
  Result<std::string> FindInstance(const std::string& snapshot_id);
  // Headers of every complete snapshot (of one instance when given), oldest first. With
  // `unreadable`, a header that cannot be read (damaged, too large: a host may have written
  // it) is reported there and skipped, so one instance's garbage never hides the others';
  // without it, it is an error. A store that does not answer is an error either way.
  Result<std::vector<SnapshotHeader>> ListSnapshots(
      const std::optional<std::string>& instance_id,
      std::vector<UnreadableObject>* unreadable = nullptr);
  // Removes a snapshot's objects, header first so listings never show a half-deleted one.
  Status DeleteSnapshot(const std::string& instance_id, const std::string& snapshot_id);

  // Every blob of every pack named by the index files of `instance_id`, and the index keys
  // read. A snapshot deduplicates against its own instance only: another instance's index
  // is another (untrusted) host's word.
  Result<ChunkIndex> LoadIndex(const std::string& instance_id,
                               std::vector<std::string>* index_keys = nullptr,
                               std::vector<PackRecord>* packs = nullptr);
  // Writes index/<instance>/<sha256 of the object>; returns the key.
  Result<std::string> WriteIndex(const std::string& instance_id,
                                 const std::vector<PackRecord>& packs);

 private:
  Repository(ObjectStore* store, ChunkerParams chunker) : store_(store), chunker_(chunker) {}
  ObjectStore* store_;
  ChunkerParams chunker_;
};

// Loads a snapshot named by id (searching instances when `instance_id` is empty) or, without
// an id, the latest snapshot of `instance_id`.
Result<Manifest> LoadSnapshot(ObjectStore* store, const std::optional<std::string>& snapshot_id,
                              const std::optional<std::string>& instance_id);

// Instance ids name store prefixes: 1–128 of [A-Za-z0-9._-], not starting with '.'.
Status ValidateInstanceId(std::string_view instance_id);
Status ValidateSnapshotId(std::string_view snapshot_id);
std::string SnapshotPrefix(const std::string& instance_id, const std::string& snapshot_id);

}  // namespace standby
