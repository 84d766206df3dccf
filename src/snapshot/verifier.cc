#include "snapshot/verifier.h"

#include <algorithm>
#include <mutex>
#include <thread>
#include <unordered_set>

#include "base/enum_names.h"
#include "base/parallel.h"
#include "snapshot/fetch_plan.h"
#include "snapshot/pack.h"
#include "snapshot/scanner.h"

namespace standby {

namespace {
constexpr EnumName<Validation> kValidations[] = {{Validation::kOk, "ok"},
                                                 {Validation::kFailed, "failed"}};
}  // namespace

std::string_view ValidationName(Validation v) { return NameIn<Validation>(kValidations, v); }
std::optional<Validation> ParseValidation(std::string_view name) {
  return ParseIn<Validation>(kValidations, name);
}
namespace {

std::string_view TypeWord(FileType type) {
  switch (type) {
    case FileType::kRegular:
      return "file";
    case FileType::kDirectory:
      return "directory";
    case FileType::kSymlink:
      return "symlink";
    case FileType::kOther:
      break;
  }
  return "special file";
}

std::string Octal(uint32_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04o", mode);
  return buf;
}

// Compares one regular file's content piece by piece; returns a mismatch or nullopt.
std::optional<Mismatch> CheckContent(const Manifest& m, const ManifestEntry& e,
                                     const std::string& path, FileSystem* fs, uint64_t* bytes) {
  auto file = fs->OpenRead(path);
  if (!file) return Mismatch{e.path, "unreadable", file.error().message};
  std::string buf;
  uint64_t offset = 0;
  for (size_t k = 0; k < e.chunks.size(); ++k) {
    const ChunkRef& c = m.chunks[e.chunks[k]];
    buf.resize(c.raw_length);
    size_t have = 0;
    while (have < buf.size()) {
      auto got = (*file)->ReadAt(offset + have, buf.data() + have, buf.size() - have);
      if (!got) return Mismatch{e.path, "unreadable", got.error().message};
      if (*got == 0) break;
      have += *got;
    }
    *bytes += have;
    if (have != buf.size() || Sha256(buf) != c.id) {
      return Mismatch{e.path, "content",
                      "bytes " + std::to_string(offset) + "–" +
                          std::to_string(offset + c.raw_length) + " differ from the snapshot"};
    }
    offset += c.raw_length;
  }
  return std::nullopt;
}

}  // namespace

Result<DirectoryVerification> VerifyDirectory(const Manifest& m, const std::string& dir,
                                              FileSystem* fs, size_t threads) {
  DirectoryVerification out;
  auto root = fs->Lstat(dir);
  if (!root) return root.error().WithContext("cannot verify");
  if (root->type != FileType::kDirectory) return InvalidArgumentError(dir + " is not a directory");
  std::mutex mu;
  std::atomic<uint64_t> bytes{0};
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  Status checked = ParallelFor(m.entries.size(), threads, [&](size_t i) -> Status {
    const ManifestEntry& e = m.entries[i];
    std::string path = JoinPath(dir, e.path);
    std::optional<Mismatch> problem;
    auto stat = fs->Lstat(path);
    if (!stat) {
      problem =
          Mismatch{e.path, stat.error().code == ErrorCode::kNotFound ? "missing" : "unreadable",
                   stat.error().message};
    } else if (stat->type != e.type) {
      problem = Mismatch{e.path, "type",
                         "is a " + std::string(TypeWord(stat->type)) + ", expected a " +
                             std::string(TypeWord(e.type))};
    } else if (e.type == FileType::kSymlink) {
      auto target = fs->ReadLink(path);
      if (!target || *target != e.symlink_target) {
        problem = Mismatch{e.path, "symlink_target",
                           "points to " + (target ? *target : std::string("?")) + ", expected " +
                               e.symlink_target};
      }
    } else if (stat->mode != e.mode && stat->mode != (e.mode & kModeRestoredByDefault)) {
      problem = Mismatch{e.path, "mode", "is " + Octal(stat->mode) + ", expected " + Octal(e.mode)};
    } else if (e.type == FileType::kRegular) {
      uint64_t read = 0;
      if (stat->size != e.size) {
        problem = Mismatch{
            e.path, "size",
            "is " + std::to_string(stat->size) + " bytes, expected " + std::to_string(e.size)};
      } else if (auto content = CheckContent(m, e, path, fs, &read)) {
        problem = std::move(content);
      } else if (stat->mtime_ns != e.mtime_ns) {
        problem = Mismatch{e.path, "mtime", "modification time differs from the snapshot"};
      }
      bytes += read;
    }
    std::lock_guard<std::mutex> lock(mu);
    ++out.entries_checked;
    if (e.type == FileType::kRegular) {
      ++out.files_expected;
      if (!problem || problem->problem == "mtime") ++out.files_restored;
    }
    if (problem) out.mismatches.push_back(std::move(*problem));
    return OkStatus();
  });
  RETURN_IF_ERROR(checked);
  ASSIGN_OR_RETURN(ScanResult scan, ScanWorkspace(fs, dir));
  std::unordered_set<std::string_view> known;
  for (const ManifestEntry& e : m.entries) known.insert(e.path);
  for (const ScannedEntry& e : scan.entries) {
    if (!known.contains(e.path)) out.extra.push_back(e.path);
  }
  std::sort(out.mismatches.begin(), out.mismatches.end(),
            [](const Mismatch& a, const Mismatch& b) { return a.path < b.path; });
  out.bytes_verified = bytes;
  out.validation = out.mismatches.empty() ? Validation::kOk : Validation::kFailed;
  return out;
}

Result<DataVerification> VerifySnapshotData(ObjectStore* store, const Manifest& m, size_t threads) {
  std::vector<uint32_t> all(m.chunks.size());
  for (uint32_t i = 0; i < all.size(); ++i) all[i] = i;
  std::vector<FetchRange> ranges = PlanFetchRanges(m.chunks, all);
  DataVerification out;
  std::unordered_set<Hash256, Hash256Hasher> packs;
  for (const FetchRange& r : ranges) packs.insert(r.pack);
  out.packs = packs.size();
  std::mutex mu;
  if (threads == 0) threads = std::max<size_t>(store->PreferredConcurrency(), 2);
  Status status = ParallelFor(ranges.size(), threads, [&](size_t i) -> Status {
    const FetchRange& r = ranges[i];
    auto data = store->Get(PackKey(m.header.instance_id, r.pack), ByteRange{r.offset, r.length});
    std::vector<std::string> problems;
    uint64_t checked = 0;
    if (!data) {
      if (data.error().code != ErrorCode::kNotFound &&
          data.error().code != ErrorCode::kInvalidArgument) {
        return data.error();
      }
      problems.push_back("pack " + r.pack.Hex() + " is missing or too short (" +
                         std::to_string(r.chunks.size()) + " chunks unreadable)");
    } else {
      std::string raw;
      for (uint32_t index : r.chunks) {
        const ChunkRef& c = m.chunks[index];
        if (c.offset + c.stored_length > r.offset + data->size()) {
          problems.push_back("chunk " + c.id.Hex() + " lies past the end of pack " + r.pack.Hex());
          continue;
        }
        std::string_view stored(data->data() + (c.offset - r.offset), c.stored_length);
        Status decoded = DecompressChunk(stored, c.compression, c.raw_length, &raw);
        if (!decoded || Sha256(raw) != c.id) {
          problems.push_back("chunk " + c.id.Hex() + " in pack " + r.pack.Hex() +
                             " is damaged (hash mismatch)");
        }
        ++checked;
      }
    }
    std::lock_guard<std::mutex> lock(mu);
    out.chunks_checked += checked;
    out.bytes_checked += data ? data->size() : 0;
    for (auto& p : problems) out.problems.push_back(std::move(p));
    return OkStatus();
  });
  RETURN_IF_ERROR(status);
  std::sort(out.problems.begin(), out.problems.end());
  return out;
}

}  // namespace standby
