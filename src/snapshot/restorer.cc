#include "snapshot/restorer.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "base/log.h"
#include "base/parallel.h"
#include "base/strings.h"
#include "snapshot/chunk_reader.h"
#include "snapshot/fetch_plan.h"
#include "snapshot/pack.h"
#include "snapshot/progress.h"
#include "snapshot/scanner.h"

namespace standby {
namespace {

struct ChunkTarget {
  size_t file;  // index into Plan::files
  uint64_t offset;
};

// A regular file being assembled.
struct FileJob {
  const ManifestEntry* entry = nullptr;
  std::string final_path;
  std::string temp_path;
  std::mutex mu;
  bool created = false;
  std::atomic<size_t> remaining{0};  // chunk writes still to do
};

// A chunk present in the old tree (overwrite mode), usable instead of a download.
struct LocalChunk {
  std::string path;
  uint64_t offset;
  uint32_t length;
  Hash256 id;  // what the bytes hashed to when indexed; checked again when copied
};

class Restore {
 public:
  Restore(ObjectStore* store, const Manifest& manifest, const RestoreOptions& options)
      : store_(store), m_(manifest), o_(options), fs_(options.fs) {}

  Result<RestoreResult> Run();

 private:
  Status CheckSymlinks();
  Status PrepareTarget(std::unordered_map<std::string, ScannedEntry>* existing);
  Status RemoveExtraneous(const std::unordered_map<std::string, ScannedEntry>& existing);
  Status IndexLocalChunks(const std::unordered_map<std::string, ScannedEntry>& existing);
  Status MakeDirectories();
  Status MakeSymlinks();
  // Writes one chunk; with `finish`, the write that completes the file renames it into place.
  Status WriteChunk(FileJob* job, uint64_t offset, std::string_view data, bool finish);
  Status FinishFile(FileJob* job);
  Status Fetch(const FetchRange& range, ProgressReporter* progress);
  bool Cancelled() const { return o_.cancel != nullptr && o_.cancel->IsSet(); }
  // The error a failed restore returns: what failed and how to go on.
  Error Failed(const Error& error);
  Status ApplyDirectoryAttributes();
  bool Validate();
  void Cleanup();
  // The mode to give `e`: setuid/setgid cleared unless kept on request.
  uint32_t ModeOf(const ManifestEntry& e) const {
    return o_.keep_special_bits ? e.mode & 07777 : e.mode & kModeRestoredByDefault;
  }

  ObjectStore* store_;
  const Manifest& m_;
  const RestoreOptions& o_;
  FileSystem* fs_;
  RestoreResult result_;
  std::vector<std::unique_ptr<FileJob>> files_;
  std::vector<std::vector<ChunkTarget>> targets_;  // per manifest chunk
  std::unordered_map<Hash256, LocalChunk, Hash256Hasher> local_;
  std::unordered_set<std::string> unchanged_;  // overwrite: files already right
  std::atomic<uint64_t> bytes_downloaded_{0};
  std::atomic<uint64_t> bytes_reused_{0};
  std::atomic<uint64_t> files_done_{0};  // renamed into place by this restore
};

std::string TempPathFor(const std::string& final_path) {
  std::string dir(ParentPath(final_path));
  std::string name = final_path.substr(dir.size() + 1);
  return JoinPath(dir, ".standby-restore-" + RandomHex(4) + "-" + name.substr(0, 64));
}

Status Restore::CheckSymlinks() {
  if (o_.allow_external_symlinks) return OkStatus();
  std::unordered_set<std::string_view> links;
  for (const ManifestEntry& e : m_.entries) {
    if (e.type == FileType::kSymlink) links.insert(e.path);
  }
  for (const ManifestEntry& e : m_.entries) {
    if (e.type == FileType::kSymlink && !SymlinkStaysInside(e.path, e.symlink_target, links)) {
      return InvalidArgumentError("snapshot " + m_.header.snapshot_id + " has symlink " + e.path +
                                  " -> " + e.symlink_target +
                                  " pointing outside the target; refusing to restore "
                                  "(--allow-external-symlinks restores it as is)");
    }
  }
  return OkStatus();
}

Status Restore::PrepareTarget(std::unordered_map<std::string, ScannedEntry>* existing) {
  auto stat = fs_->Lstat(o_.target);
  if (!stat) {
    if (stat.error().code != ErrorCode::kNotFound) return stat.error();
    return MakeDirs(fs_, o_.target);
  }
  if (stat->type != FileType::kDirectory) {
    return InvalidArgumentError("restore target " + o_.target + " exists and is not a directory");
  }
  ASSIGN_OR_RETURN(ScanResult scan, ScanWorkspace(fs_, o_.target));
  if (!o_.overwrite && !scan.entries.empty()) {
    return InvalidArgumentError("restore target " + o_.target +
                                " is not empty; pass --overwrite to make it equal to the snapshot");
  }
  for (ScannedEntry& e : scan.entries) existing->emplace(e.path, std::move(e));
  return OkStatus();
}

Status Restore::RemoveExtraneous(const std::unordered_map<std::string, ScannedEntry>& existing) {
  std::unordered_map<std::string_view, const ManifestEntry*> wanted;
  for (const ManifestEntry& e : m_.entries) wanted[e.path] = &e;
  std::vector<std::string> doomed;
  for (const auto& [path, entry] : existing) {
    auto it = wanted.find(path);
    if (it == wanted.end() || it->second->type != entry.stat.type) doomed.push_back(path);
  }
  std::sort(doomed.begin(), doomed.end());
  for (const std::string& path : doomed) {
    std::string full = JoinPath(o_.target, path);
    if (!fs_->Lstat(full)) continue;  // inside a directory removed before it
    RETURN_IF_ERROR(RemoveAll(fs_, full));
    ++result_.files_removed;
  }
  return OkStatus();
}

Status Restore::IndexLocalChunks(const std::unordered_map<std::string, ScannedEntry>& existing) {
  std::vector<const ManifestEntry*> candidates;
  for (const ManifestEntry& e : m_.entries) {
    auto it = existing.find(e.path);
    if (e.type == FileType::kRegular && it != existing.end() &&
        it->second.stat.type == FileType::kRegular) {
      candidates.push_back(&e);
    }
  }
  Chunker chunker(m_.chunker);
  std::mutex mu;
  size_t threads = std::max(1u, std::thread::hardware_concurrency());
  return ParallelFor(candidates.size(), threads, [&](size_t i) -> Status {
    if (Cancelled()) {
      return CancelledError("interrupted: restore of snapshot " + m_.header.snapshot_id +
                            " stopped while comparing the files already in " + o_.target +
                            "; re-run with --overwrite to resume");
    }
    const ManifestEntry& e = *candidates[i];
    std::string path = JoinPath(o_.target, e.path);
    ASSIGN_OR_RETURN(auto file, fs_->OpenRead(path));
    ASSIGN_OR_RETURN(FileStat stat, file->Stat());
    std::vector<Hash256> ids;
    std::vector<LocalChunk> pieces;
    auto read =
        ReadChunks(file.get(), stat.size, chunker, [&](uint64_t offset, std::string_view chunk) {
          ids.push_back(Sha256(chunk));
          pieces.push_back({path, offset, static_cast<uint32_t>(chunk.size()), ids.back()});
          return OkStatus();
        });
    if (!read) return read.error();
    std::lock_guard<std::mutex> lock(mu);
    if (*read == e.size && ContentHash(ids) == e.content_hash) unchanged_.insert(e.path);
    for (size_t k = 0; k < ids.size(); ++k) local_.emplace(ids[k], pieces[k]);
    return OkStatus();
  });
}

Status Restore::MakeDirectories() {
  for (const ManifestEntry& e : m_.entries) {
    if (e.type != FileType::kDirectory) continue;
    Status made = fs_->MakeDir(JoinPath(o_.target, e.path), 0700);
    if (!made && made.error().code != ErrorCode::kConflict) return made;
  }
  return OkStatus();
}

Status Restore::MakeSymlinks() {
  for (const ManifestEntry& e : m_.entries) {
    if (e.type != FileType::kSymlink) continue;
    std::string path = JoinPath(o_.target, e.path);
    auto current = fs_->ReadLink(path);
    if (current && *current == e.symlink_target) continue;
    std::string temp = TempPathFor(path);
    RETURN_IF_ERROR(fs_->Symlink(e.symlink_target, temp));
    Status renamed = fs_->Rename(temp, path);
    if (!renamed) {
      fs_->RemoveFile(temp).IgnoreError();  // best effort cleanup of our own temp link
      return renamed;
    }
    RETURN_IF_ERROR(fs_->SetMtime(path, e.mtime_ns));
  }
  return OkStatus();
}

Status Restore::WriteChunk(FileJob* job, uint64_t offset, std::string_view data, bool finish) {
  std::unique_ptr<WritableFile> file;
  {
    std::lock_guard<std::mutex> lock(job->mu);
    if (!job->created) {
      ASSIGN_OR_RETURN(file, fs_->OpenWrite(job->temp_path, 0600));
      job->created = true;
    }
  }
  if (!file) {
    ASSIGN_OR_RETURN(file, fs_->OpenForUpdate(job->temp_path));
  }
  RETURN_IF_ERROR(file->WriteAt(offset, data));
  RETURN_IF_ERROR(file->Close());
  if (job->remaining.fetch_sub(1) == 1 && finish) return FinishFile(job);
  return OkStatus();
}

Status Restore::FinishFile(FileJob* job) {
  {
    std::lock_guard<std::mutex> lock(job->mu);
    if (!job->created) {  // an empty file
      ASSIGN_OR_RETURN(auto file, fs_->OpenWrite(job->temp_path, 0600));
      RETURN_IF_ERROR(file->Close());
      job->created = true;
    }
  }
  RETURN_IF_ERROR(fs_->Chmod(job->temp_path, ModeOf(*job->entry)));
  RETURN_IF_ERROR(fs_->SetMtime(job->temp_path, job->entry->mtime_ns));
  RETURN_IF_ERROR(fs_->Rename(job->temp_path, job->final_path));
  ++files_done_;
  std::lock_guard<std::mutex> lock(job->mu);
  job->created = false;  // nothing left to clean up
  return OkStatus();
}

Status Restore::Fetch(const FetchRange& range, ProgressReporter* progress) {
  if (Cancelled()) return CancelledError("interrupted");
  auto data = store_->Get(PackKey(m_.header.instance_id, range.pack),
                          ByteRange{range.offset, range.length});
  if (!data) {
    return data.error().WithContext("fetching pack " + range.pack.Hex().substr(0, 12));
  }
  if (data->size() != range.length) {
    return CorruptionError("pack " + range.pack.Hex() + " is shorter than the index says");
  }
  bytes_downloaded_ += data->size();
  std::string raw;
  for (uint32_t index : range.chunks) {
    const ChunkRef& c = m_.chunks[index];
    std::string_view stored(data->data() + (c.offset - range.offset), c.stored_length);
    Status decoded = DecompressChunk(stored, c.compression, c.raw_length, &raw);
    if (!decoded || Sha256(raw) != c.id) {
      const ChunkTarget& where = targets_[index].front();
      return CorruptionError(
          "chunk " + c.id.Hex().substr(0, 12) + " of " + files_[where.file]->entry->path +
          " (at byte " + std::to_string(where.offset) + ", pack " + range.pack.Hex().substr(0, 12) +
          ") is damaged in the repository; `standby snapshot " + "verify " + m_.header.snapshot_id +
          "` lists every damaged file, and an earlier " +
          "snapshot (`standby snapshot list`) may hold an intact copy");
    }
    for (const ChunkTarget& t : targets_[index]) {
      RETURN_IF_ERROR(WriteChunk(files_[t.file].get(), t.offset, raw, /*finish=*/true));
      progress->Add(raw.size());
    }
  }
  return OkStatus();
}

Status Restore::ApplyDirectoryAttributes() {
  for (auto it = m_.entries.rbegin(); it != m_.entries.rend(); ++it) {
    if (it->type != FileType::kDirectory) continue;
    std::string path = JoinPath(o_.target, it->path);
    RETURN_IF_ERROR(fs_->Chmod(path, ModeOf(*it)));
    RETURN_IF_ERROR(fs_->SetMtime(path, it->mtime_ns));
  }
  return OkStatus();
}

bool Restore::Validate() {
  for (const ManifestEntry& e : m_.entries) {
    auto stat = fs_->Lstat(JoinPath(o_.target, e.path));
    if (!stat || stat->type != e.type) return false;
    if (e.type == FileType::kSymlink) continue;
    if (stat->mode != ModeOf(e) || (e.type == FileType::kRegular && stat->size != e.size))
      return false;
    if (e.type == FileType::kRegular) ++result_.files_restored;
  }
  return true;
}

void Restore::Cleanup() {
  for (auto& job : files_) {
    std::lock_guard<std::mutex> lock(job->mu);
    if (job->created) fs_->RemoveFile(job->temp_path).IgnoreError();  // our own temp file
  }
  ApplyDirectoryAttributes().IgnoreError();  // not left 0700; best effort on a failed restore
}

Error Restore::Failed(const Error& error) {
  Cleanup();
  const uint64_t in_place = files_done_ + result_.files_unchanged;
  std::string state = std::to_string(in_place) + " of " + std::to_string(result_.files_expected) +
                      " files are in place in " + o_.target +
                      ", temporary files removed; re-run with --overwrite to resume (files in "
                      "place are reused)";
  if (error.code == ErrorCode::kCancelled) {
    return CancelledError("interrupted: restore of snapshot " + m_.header.snapshot_id +
                          " stopped; " + state);
  }
  Error failed = error.WithContext("restore of snapshot " + m_.header.snapshot_id + " failed");
  if (error.code != ErrorCode::kCorruption) failed.message += "; " + state;
  return failed;
}

Result<RestoreResult> Restore::Run() {
  const int64_t start = o_.clock->MonotonicNanos();
  result_.snapshot_id = m_.header.snapshot_id;
  RETURN_IF_ERROR(ValidateManifest(m_));
  RETURN_IF_ERROR(CheckSymlinks());
  std::unordered_map<std::string, ScannedEntry> existing;
  RETURN_IF_ERROR(PrepareTarget(&existing));
  if (o_.overwrite && !existing.empty()) {
    RETURN_IF_ERROR(RemoveExtraneous(existing));
    RETURN_IF_ERROR(IndexLocalChunks(existing));
  }
  RETURN_IF_ERROR(MakeDirectories());
  RETURN_IF_ERROR(MakeSymlinks());

  // Plan: which chunk goes where, and which must be downloaded.
  targets_.resize(m_.chunks.size());
  uint64_t download_bytes = 0;
  uint64_t need_space = 0;
  std::vector<std::pair<FileJob*, std::pair<LocalChunk, uint64_t>>> local_copies;
  for (const ManifestEntry& e : m_.entries) {
    if (e.type != FileType::kRegular) continue;
    ++result_.files_expected;
    result_.bytes_restored += e.size;
    std::string final_path = JoinPath(o_.target, e.path);
    if (unchanged_.contains(e.path)) {
      ++result_.files_unchanged;
      RETURN_IF_ERROR(fs_->Chmod(final_path, ModeOf(e)));
      RETURN_IF_ERROR(fs_->SetMtime(final_path, e.mtime_ns));
      continue;
    }
    auto job = std::make_unique<FileJob>();
    job->entry = &e;
    job->final_path = final_path;
    job->temp_path = TempPathFor(final_path);
    job->remaining = e.chunks.size();
    need_space += e.size;
    uint64_t offset = 0;
    for (uint32_t index : e.chunks) {
      const ChunkRef& c = m_.chunks[index];
      if (auto local = local_.find(c.id); local != local_.end()) {
        local_copies.push_back({job.get(), {local->second, offset}});
      } else {
        if (targets_[index].empty()) download_bytes += c.raw_length;
        targets_[index].push_back({files_.size(), offset});
      }
      offset += c.raw_length;
    }
    files_.push_back(std::move(job));
  }
  auto free_bytes = fs_->FreeBytes(o_.target);
  if (free_bytes && *free_bytes < need_space) {
    return ResourceExhaustedError("restore target " + o_.target + " has " +
                                  HumanBytes(*free_bytes) + " free but the restore writes " +
                                  HumanBytes(need_space) + "; free space or pick another target");
  }

  std::vector<uint32_t> wanted;
  for (uint32_t i = 0; i < m_.chunks.size(); ++i) {
    if (!targets_[i].empty()) wanted.push_back(i);
  }
  std::vector<FetchRange> ranges = PlanFetchRanges(m_.chunks, wanted);

  ProgressReporter progress("Downloading", download_bytes, o_.clock, o_.progress,
                            o_.progress_events);
  size_t cores = std::max(1u, std::thread::hardware_concurrency());
  // Enough fetches in flight to hide store latency, but not so many that decompression,
  // hashing and writes of the fetched ranges thrash the cores (measured: 4-8 on 2 cores).
  size_t threads = o_.threads ? o_.threads : std::min(store_->PreferredConcurrency(), 4 * cores);
  Status status = ParallelFor(local_copies.size(), cores, [&](size_t i) -> Status {
    if (Cancelled()) return CancelledError("interrupted");
    auto& [job, copy] = local_copies[i];
    const LocalChunk& src = copy.first;
    ASSIGN_OR_RETURN(auto file, fs_->OpenRead(src.path));
    std::string data(src.length, '\0');
    ASSIGN_OR_RETURN(size_t got, file->ReadAt(src.offset, data.data(), data.size()));
    if (got != src.length || Sha256(data) != src.id) {
      return CorruptionError(src.path + " changed during the restore");
    }
    bytes_reused_ += src.length;
    // Not finished here: renaming now could replace a file another copy still reads from.
    return WriteChunk(job, copy.second, data, /*finish=*/false);
  });
  if (status) {
    for (auto& job : files_) {
      if (job->remaining == 0 && (status = FinishFile(job.get()), !status)) break;
    }
  }
  if (status) {
    status =
        ParallelFor(ranges.size(), threads, [&](size_t i) { return Fetch(ranges[i], &progress); });
  }
  if (status) status = ApplyDirectoryAttributes();
  if (!status) return Failed(status.error());
  result_.validation = Validate() ? Validation::kOk : Validation::kFailed;
  result_.bytes_downloaded = bytes_downloaded_;
  result_.bytes_reused = bytes_reused_;
  result_.duration_ms = ElapsedMillis(o_.clock, start);
  if (o_.progress) {
    char seconds[32];
    std::snprintf(seconds, sizeof(seconds), "%.1f",
                  static_cast<double>(result_.duration_ms) / 1000);
    // The mark tells the truth: a tree that failed validation is no success line.
    const bool valid = result_.validation == Validation::kOk;
    o_.progress(std::string(valid ? "\u2713" : "\u2717") + " Restored " +
                std::to_string(result_.files_restored) + " files (" +
                HumanBytes(result_.bytes_restored) + ") in " + seconds + " seconds" +
                (valid ? "" : "; the tree does not match the snapshot"));
  }
  return result_;
}

}  // namespace

Result<RestoreResult> RestoreSnapshot(ObjectStore* store, const Manifest& manifest,
                                      const RestoreOptions& options) {
  Restore restore(store, manifest, options);
  return restore.Run();
}

}  // namespace standby
