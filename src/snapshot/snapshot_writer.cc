#include "snapshot/snapshot_writer.h"

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "base/log.h"
#include "base/parallel.h"
#include "base/strings.h"
#include "env/host_info.h"
#include "snapshot/chunk_reader.h"
#include "snapshot/chunker.h"
#include "snapshot/lock.h"
#include "snapshot/pack.h"
#include "snapshot/repository.h"
#include "snapshot/scanner.h"

namespace standby {
namespace {

constexpr int kReadAttempts = 3;

bool SameFile(const FileStat& stat, const ManifestEntry& parent) {
  return parent.type == FileType::kRegular && stat.size == parent.size &&
         stat.mtime_ns == parent.mtime_ns && stat.ctime_ns == parent.ctime_ns &&
         stat.inode == parent.inode && stat.dev == parent.dev;
}

// Chunks, hashes and stores new chunks of changed files; collects packs for the index.
class ChunkSink {
 public:
  ChunkSink(ObjectStore* store, std::string instance_id, ChunkIndex* known, Compression compression,
            size_t pack_size, size_t max_chunk)
      : store_(store),
        instance_id_(std::move(instance_id)),
        known_(known),
        compression_(compression),
        pack_size_(pack_size),
        max_chunk_(max_chunk),
        uploads_(std::max<size_t>(1, std::min<size_t>(store->PreferredConcurrency(), 8)), 1) {}

  // Returns the chunk's id; stores it unless the repository or this snapshot has it.
  Result<Hash256> Add(std::string_view raw) {
    Hash256 id = Sha256(raw);
    {
      std::lock_guard<std::mutex> lock(known_mu_);
      if (known_->contains(id) || !claimed_.insert(id).second) return id;
    }
    thread_local std::string scratch;
    Compression used = CompressChunk(raw, compression_, &scratch);
    std::string_view stored = used == Compression::kNone ? raw : std::string_view(scratch);
    std::optional<std::pair<FinishedPack, std::vector<PackBlob>>> full;
    {
      std::lock_guard<std::mutex> lock(pack_mu_);
      if (builder_.empty()) {
        if (!spare_packs_.empty()) {
          builder_.Recycle(std::move(spare_packs_.back()));
          spare_packs_.pop_back();
        }
        builder_.Reserve(pack_size_ + max_chunk_ + (pack_size_ / 1024 + 1) * 64);
      }
      builder_.Add(id, used, stored, static_cast<uint32_t>(raw.size()));
      ++chunks_uploaded_;
      if (builder_.size() >= pack_size_) full = TakePack();
    }
    if (full) RETURN_IF_ERROR(Upload(std::move(full->first), std::move(full->second)));
    return id;
  }

  // Uploads the last partial pack (dropped unless `upload_last`: the snapshot failed) and
  // waits for every upload.
  Status Finish(bool upload_last) {
    std::optional<std::pair<FinishedPack, std::vector<PackBlob>>> last;
    {
      std::lock_guard<std::mutex> lock(pack_mu_);
      if (!builder_.empty() && upload_last) last = TakePack();
    }
    if (last) RETURN_IF_ERROR(Upload(std::move(last->first), std::move(last->second)));
    return uploads_.Wait();
  }

  const std::vector<PackRecord>& packs() const { return packs_; }
  const ChunkIndex& uploaded() const { return uploaded_; }
  uint64_t bytes_uploaded() const { return bytes_uploaded_; }
  uint64_t chunks_uploaded() const { return chunks_uploaded_; }

 private:
  std::pair<FinishedPack, std::vector<PackBlob>> TakePack() {
    std::vector<PackBlob> blobs = builder_.blobs();
    return {builder_.Finish(), std::move(blobs)};
  }

  Status Upload(FinishedPack pack, std::vector<PackBlob> blobs) {
    Hash256 pack_id = pack.id;
    auto data = std::make_shared<std::string>(std::move(pack.bytes));
    auto shared_blobs = std::make_shared<std::vector<PackBlob>>(std::move(blobs));
    bool queued = uploads_.Submit([this, pack_id, data, shared_blobs]() -> Status {
      const std::string key = PackKey(instance_id_, pack_id);
      Status put = store_->Put(key, *data);
      if (!put && put.error().code == ErrorCode::kPermissionDenied) {
        // Packs are immutable: one with this content may exist already (uploaded by a
        // snapshot that died before writing its index). Identical bytes are as good as ours.
        auto existing = store_->GetBounded(key, data->size());
        if (existing && *existing == *data) put = OkStatus();
      }
      if (!put) return put.error().WithContext("uploading pack to " + store_->Url());
      std::lock_guard<std::mutex> lock(known_mu_);
      for (const PackBlob& b : *shared_blobs) {
        uploaded_[b.chunk_id] = {b.chunk_id,      pack_id,      b.offset,
                                 b.stored_length, b.raw_length, b.compression};
      }
      packs_.push_back({pack_id, data->size(), std::move(*shared_blobs)});
      bytes_uploaded_ += data->size();
      std::lock_guard<std::mutex> pack_lock(pack_mu_);
      if (spare_packs_.size() < 6) spare_packs_.push_back(std::move(*data));
      return OkStatus();
    });
    if (!queued) return uploads_.Wait();
    return OkStatus();
  }

  ObjectStore* store_;
  std::string instance_id_;
  ChunkIndex* known_;
  Compression compression_;
  size_t pack_size_;
  size_t max_chunk_;
  std::mutex known_mu_;
  std::unordered_set<Hash256, Hash256Hasher> claimed_;
  ChunkIndex uploaded_;
  std::vector<PackRecord> packs_;
  std::mutex pack_mu_;
  PackBuilder builder_;
  std::vector<std::string> spare_packs_;  // uploaded pack buffers, kept for their capacity
  std::atomic<uint64_t> bytes_uploaded_{0};
  std::atomic<uint64_t> chunks_uploaded_{0};
  TaskQueue uploads_;
};

const ChunkRef* FindChunk(const ChunkIndex& known, const ChunkIndex& uploaded, const Hash256& id) {
  if (auto it = known.find(id); it != known.end()) return &it->second;
  if (auto it = uploaded.find(id); it != uploaded.end()) return &it->second;
  return nullptr;
}

struct FileChunks {
  FileStat stat;
  std::vector<Hash256> chunks;
};

bool Cancelled(const SnapshotOptions& options) {
  return options.cancel != nullptr && options.cancel->IsSet();
}

// A repository kept in a directory inside the workspace would copy itself into every
// snapshot, growing each time: it is left out (as workspace-relative paths), with a warning.
// The workspace itself being the repository is refused.
Result<std::vector<std::string>> RepositoryInside(const ObjectStore* store,
                                                  const std::string& workspace) {
  const std::string url = store->Url();
  if (!url.starts_with("file://")) return std::vector<std::string>{};
  // Compared as the kernel resolves them: ".", ".." and symlinks do not hide one in the other.
  std::error_code ec;
  const std::string root = std::filesystem::weakly_canonical(url.substr(7), ec).string();
  if (ec) return std::vector<std::string>{};
  const std::string real_workspace = std::filesystem::weakly_canonical(workspace, ec).string();
  if (ec) return std::vector<std::string>{};
  if (root == real_workspace || real_workspace.starts_with(root + "/")) {
    return InvalidArgumentError("the repository " + root + " contains the workspace " + workspace +
                                "; keep the repository outside it");
  }
  if (!root.starts_with(real_workspace + "/")) return std::vector<std::string>{};
  spdlog::warn(
      "the repository {} is inside the workspace; leaving it out of the snapshot "
      "(keep it outside the workspace to silence this)",
      root);
  // The scan walks `workspace` as given: the repository sits at the same relative path.
  return std::vector<std::string>{root.substr(real_workspace.size() + 1)};
}

// Reads one file through the chunker. The stat recorded is the open file's, taken before
// reading; the read is repeated when the file changes meanwhile.
Result<FileChunks> ChunkFile(FileSystem* fs, const std::string& path, const std::string& name,
                             const Chunker& chunker, ChunkSink* sink,
                             const SnapshotOptions& options) {
  for (int attempt = 1; attempt <= kReadAttempts; ++attempt) {
    auto file = fs->OpenRead(path);
    if (!file) return file.error().WithContext("cannot read workspace file");
    ASSIGN_OR_RETURN(FileStat before, (*file)->Stat());
    if (before.type != FileType::kRegular) {
      return ConflictError(name + " stopped being a regular file while the snapshot ran");
    }
    FileChunks out{before, {}};
    auto read = ReadChunks(file->get(), before.size, chunker,
                           [&](uint64_t, std::string_view chunk) -> Status {
                             if (Cancelled(options)) return CancelledError("interrupted");
                             ASSIGN_OR_RETURN(Hash256 id, sink->Add(chunk));
                             out.chunks.push_back(id);
                             return OkStatus();
                           });
    if (!read) {
      if (read.error().code == ErrorCode::kCancelled) return read.error();
      return read.error().WithContext("cannot read workspace file");
    }
    ASSIGN_OR_RETURN(FileStat after, (*file)->Stat());
    if (*read == before.size && after.size == before.size && after.mtime_ns == before.mtime_ns &&
        after.ctime_ns == before.ctime_ns) {
      return out;
    }
    if (attempt == kReadAttempts) {
      return ConflictError("file " + name + " kept changing while it was read (size " +
                           std::to_string(before.size) + " -> " + std::to_string(after.size) +
                           "); stop the writer or retry the snapshot");
    }
    spdlog::warn("{} changed while it was read; reading it again", name);
  }
  return InternalError("unreachable");
}

}  // namespace

Result<SnapshotResult> CreateSnapshot(ObjectStore* store, const SnapshotOptions& options) {
  Clock* clock = options.clock;
  const int64_t start = clock->MonotonicNanos();
  RETURN_IF_ERROR(ValidateInstanceId(options.instance_id));
  // The inputs first: a snapshot of a wrong path must not leave a new repository behind.
  RETURN_IF_ERROR(CheckWorkspaceDirectory(options.fs, options.workspace));
  ASSIGN_OR_RETURN(std::vector<std::string> exclude, RepositoryInside(store, options.workspace));
  ASSIGN_OR_RETURN(auto repo, Repository::Open(store, /*create=*/true));
  std::unique_ptr<RepoLock> lock;
  if (!options.lock_held_by_caller) {
    ASSIGN_OR_RETURN(lock, RepoLock::Acquire(store, LockKind::kShared, "snapshot create", clock,
                                             options.lock_wait, options.cancel));
  }

  std::optional<Manifest> parent;
  if (!options.force_full) {
    ASSIGN_OR_RETURN(auto latest, repo->ReadLatest(options.instance_id));
    if (latest) {
      auto loaded = repo->LoadManifest(options.instance_id, *latest);
      if (loaded) {
        parent = std::move(*loaded);
      } else {
        spdlog::warn("cannot use parent snapshot {} ({}); taking a full snapshot", *latest,
                     loaded.error().message);
      }
    }
  }
  ASSIGN_OR_RETURN(ChunkIndex known, repo->LoadIndex(options.instance_id));
  std::unordered_map<std::string_view, const ManifestEntry*> parent_entries;
  if (parent) {
    for (const ChunkRef& c : parent->chunks) known.emplace(c.id, c);
    for (const ManifestEntry& e : parent->entries) parent_entries[e.path] = &e;
  }

  ASSIGN_OR_RETURN(ScanResult scan, ScanWorkspace(options.fs, options.workspace, exclude));
  const bool same_chunker = !parent || parent->chunker == repo->chunker();
  std::vector<std::vector<Hash256>> file_chunks(scan.entries.size());
  std::vector<size_t> to_read;
  for (size_t i = 0; i < scan.entries.size(); ++i) {
    const ScannedEntry& e = scan.entries[i];
    if (e.stat.type != FileType::kRegular) continue;
    auto it = parent_entries.find(e.path);
    if (same_chunker && it != parent_entries.end() && SameFile(e.stat, *it->second)) {
      for (uint32_t index : it->second->chunks) file_chunks[i].push_back(parent->chunks[index].id);
    } else {
      to_read.push_back(i);
    }
  }

  Chunker chunker(repo->chunker());
  ChunkSink sink(store, options.instance_id, &known, options.compression, options.pack_size,
                 repo->chunker().max_size);
  size_t threads =
      options.threads ? options.threads : 2 * std::max(1u, std::thread::hardware_concurrency());
  Status read = ParallelFor(to_read.size(), threads, [&](size_t k) -> Status {
    if (Cancelled(options)) return CancelledError("interrupted");
    ScannedEntry& e = scan.entries[to_read[k]];
    ASSIGN_OR_RETURN(FileChunks got, ChunkFile(options.fs, JoinPath(options.workspace, e.path),
                                               e.path, chunker, &sink, options));
    e.stat = got.stat;
    file_chunks[to_read[k]] = std::move(got.chunks);
    return OkStatus();
  });
  Status finished = sink.Finish(/*upload_last=*/read.has_value());
  if (!read && read.error().code == ErrorCode::kCancelled) {
    return CancelledError("interrupted: no snapshot was taken; the latest snapshot of " +
                          options.instance_id +
                          " is unchanged and the repository lock is released (packs uploaded "
                          "so far are removed by the next prune)");
  }
  if (!read) return read.error().WithContext("snapshot failed, latest unchanged");
  if (!finished) return finished.error().WithContext("snapshot failed, latest unchanged");

  Manifest manifest;
  manifest.chunker = repo->chunker();
  SnapshotHeader& h = manifest.header;
  h.created_at = clock->Now();
  h.snapshot_id = FormatCompactUtc(h.created_at) + "-" + RandomHex(4);
  h.instance_id = options.instance_id;
  h.snapshot_type = parent ? "incremental" : "full";
  if (parent) h.base_snapshot_id = parent->header.snapshot_id;
  h.compression = options.compression;
  h.hostname = LocalHostname();
  h.workspace = options.workspace;
  h.files_changed = to_read.size();
  h.bytes_uploaded = sink.bytes_uploaded();
  std::unordered_map<Hash256, uint32_t, Hash256Hasher> chunk_slot;
  for (size_t i = 0; i < scan.entries.size(); ++i) {
    const ScannedEntry& s = scan.entries[i];
    ManifestEntry e;
    e.path = s.path;
    e.type = s.stat.type;
    e.mode = s.stat.mode;
    e.mtime_ns = s.stat.mtime_ns;
    if (e.type == FileType::kSymlink) e.symlink_target = s.symlink_target;
    if (e.type == FileType::kRegular) {
      e.size = s.stat.size;
      e.ctime_ns = s.stat.ctime_ns;
      e.inode = s.stat.inode;
      e.dev = s.stat.dev;
      e.content_hash = ContentHash(file_chunks[i]);
      for (const Hash256& id : file_chunks[i]) {
        auto [slot, inserted] = chunk_slot.emplace(id, manifest.chunks.size());
        if (inserted) {
          const ChunkRef* ref = FindChunk(known, sink.uploaded(), id);
          if (ref == nullptr) {
            return InternalError("chunk " + id.Hex() + " of " + e.path + " was not stored");
          }
          manifest.chunks.push_back(*ref);
        }
        e.chunks.push_back(slot->second);
      }
      ++h.files_total;
      h.bytes_total += e.size;
    }
    manifest.entries.push_back(std::move(e));
  }
  h.duration_ms = ElapsedMillis(clock, start);
  RETURN_IF_ERROR(ValidateManifest(manifest));

  if (!sink.packs().empty()) {
    auto index_key = repo->WriteIndex(options.instance_id, sink.packs());
    if (!index_key)
      return index_key.error().WithContext("snapshot failed writing the index, latest unchanged");
  }
  Status wrote = repo->WriteSnapshot(manifest);
  if (!wrote)
    return wrote.error().WithContext("snapshot failed writing the manifest, latest unchanged");
  Status pointed = repo->WriteLatest(h.instance_id, h.snapshot_id);
  if (!pointed) return pointed.error().WithContext("snapshot written but latest not moved");
  if (lock) RETURN_IF_ERROR(lock->Release());

  if (parent) {
    spdlog::info("Incremental: {} files changed out of {} total", h.files_changed, h.files_total);
  } else {
    spdlog::info("Full: {} files, {}", h.files_total, HumanBytes(h.bytes_total));
  }
  SnapshotResult result;
  result.header = h;
  result.header.duration_ms = ElapsedMillis(clock, start);
  result.chunks_total = manifest.chunks.size();
  result.chunks_uploaded = sink.chunks_uploaded();
  result.packs_uploaded = sink.packs().size();
  result.skipped = std::move(scan.skipped);
  return result;
}

}  // namespace standby
