#include "snapshot/repository.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/json_fields.h"
#include "base/parallel.h"
#include "base/strings.h"

namespace standby {
namespace {

using nlohmann::json;

// 2: packs and indexes under their instance's name (1 shared them between instances).
constexpr int kRepoVersion = 2;

bool IdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

Status ValidateId(std::string_view id, std::string_view what) {
  if (id.empty() || id.size() > 128 || id.front() == '.' ||
      !std::all_of(id.begin(), id.end(), IdChar) || id == "latest") {
    return InvalidArgumentError(std::string(what) + " \"" + std::string(id) +
                                "\" is not valid (1–128 of A-Z a-z 0-9 . _ -, not starting "
                                "with '.')");
  }
  return OkStatus();
}

}  // namespace

bool IsUnreadableObject(const Error& e) {
  return e.code == ErrorCode::kCorruption || e.code == ErrorCode::kResourceExhausted ||
         e.code == ErrorCode::kNotFound || e.code == ErrorCode::kInvalidArgument;
}

Status ValidateInstanceId(std::string_view id) { return ValidateId(id, "instance id"); }
Status ValidateSnapshotId(std::string_view id) { return ValidateId(id, "snapshot id"); }

std::string SnapshotPrefix(const std::string& instance_id, const std::string& snapshot_id) {
  return "snapshots/" + instance_id + "/" + snapshot_id + "/";
}

Result<std::unique_ptr<Repository>> Repository::Open(ObjectStore* store, bool create) {
  auto config = store->GetBounded("config", kMaxConfigBytes);
  if (!config) {
    if (config.error().code != ErrorCode::kNotFound) {
      return config.error().WithContext("cannot read repository " + store->Url());
    }
    if (!create) {
      RETURN_IF_ERROR(store->CheckLocation());
      return NotFoundError("no standby repository at " + store->Url() +
                           " (it has no config object); check --repo, or run `standby snapshot "
                           "create` to make one there");
    }
    ChunkerParams chunker;
    json j = {{"format", "standby-repository"},
              {"version", kRepoVersion},
              {"chunker",
               {{"min_size", chunker.min_size},
                {"avg_size", chunker.avg_size},
                {"max_size", chunker.max_size}}}};
    RETURN_IF_ERROR(store->Put("config", j.dump(2)));
    return std::unique_ptr<Repository>(new Repository(store, chunker));
  }
  try {
    json j = ParseUntrustedJson(*config);
    if (j.at("format").get<std::string>() != "standby-repository") {
      return CorruptionError(store->Url() + "/config is not a standby repository config");
    }
    const int version = j.at("version").get<int>();
    if (version > kRepoVersion) {
      return InvalidArgumentError("repository " + store->Url() +
                                  " was written by a newer standby; upgrade standby");
    }
    if (version < kRepoVersion) {
      return InvalidArgumentError("repository " + store->Url() + " has format " +
                                  std::to_string(version) +
                                  " (packs shared between instances), which this standby no "
                                  "longer reads; start a new repository");
    }
    ChunkerParams chunker;
    chunker.min_size = j.at("chunker").at("min_size").get<uint32_t>();
    chunker.avg_size = j.at("chunker").at("avg_size").get<uint32_t>();
    chunker.max_size = j.at("chunker").at("max_size").get<uint32_t>();
    RETURN_IF_ERROR(chunker.Validate());
    return std::unique_ptr<Repository>(new Repository(store, chunker));
  } catch (const std::exception& e) {
    return CorruptionError(store->Url() + "/config is damaged: " + e.what());
  }
}

Result<std::optional<std::string>> Repository::ReadLatest(const std::string& instance_id) {
  RETURN_IF_ERROR(ValidateInstanceId(instance_id));
  auto pointer = store_->GetBounded("snapshots/" + instance_id + "/latest", kMaxPointerBytes);
  if (!pointer) {
    if (pointer.error().code == ErrorCode::kNotFound) return std::optional<std::string>();
    return pointer.error();
  }
  try {
    std::string id = ParseUntrustedJson(*pointer).at("snapshot_id").get<std::string>();
    RETURN_IF_ERROR(ValidateSnapshotId(id));
    return std::optional<std::string>(id);
  } catch (const std::exception& e) {
    return CorruptionError("latest pointer of instance " + instance_id +
                           " is damaged: " + e.what());
  }
}

Status Repository::WriteLatest(const std::string& instance_id, const std::string& snapshot_id) {
  json j = {{"snapshot_id", snapshot_id}};
  return store_->Put("snapshots/" + instance_id + "/latest", j.dump());
}

Status Repository::WriteSnapshot(const Manifest& manifest) {
  std::string prefix = SnapshotPrefix(manifest.header.instance_id, manifest.header.snapshot_id);
  RETURN_IF_ERROR(store_->Put(prefix + "manifest", CompressObject(SerializeManifest(manifest))));
  RETURN_IF_ERROR(store_->Put(prefix + "metadata.json", SeedMetadataJson(manifest)));
  return store_->Put(prefix + "header.json", SerializeHeader(manifest.header));
}

Result<Manifest> Repository::LoadManifest(const std::string& instance_id,
                                          const std::string& snapshot_id) {
  RETURN_IF_ERROR(ValidateInstanceId(instance_id));
  RETURN_IF_ERROR(ValidateSnapshotId(snapshot_id));
  std::string key = SnapshotPrefix(instance_id, snapshot_id) + "manifest";
  auto frame = store_->GetBounded(key, kMaxManifestFrameBytes);
  if (!frame) {
    if (frame.error().code == ErrorCode::kNotFound) {
      return NotFoundError("snapshot " + snapshot_id + " of instance " + instance_id +
                           " not found in " + store_->Url());
    }
    return frame.error();
  }
  auto text = DecompressObject(*frame);
  if (!text) return text.error().WithContext("manifest of snapshot " + snapshot_id);
  auto manifest = ParseManifest(*text);
  if (!manifest) return manifest.error().WithContext("snapshot " + snapshot_id);
  RETURN_IF_ERROR(ValidateManifest(*manifest));
  if (manifest->header.snapshot_id != snapshot_id) {
    return CorruptionError("manifest at " + key + " names snapshot " +
                           manifest->header.snapshot_id);
  }
  return manifest;
}

Result<std::string> Repository::FindInstance(const std::string& snapshot_id) {
  RETURN_IF_ERROR(ValidateSnapshotId(snapshot_id));
  ASSIGN_OR_RETURN(auto objects, ListAll(store_, "snapshots/"));
  std::string suffix = "/" + snapshot_id + "/header.json";
  for (const ObjectInfo& object : objects) {
    if (object.key.ends_with(suffix)) {
      auto parts = SplitString(object.key, '/');
      if (parts.size() == 4) return parts[1];
    }
  }
  return NotFoundError("snapshot " + snapshot_id + " not found in " + store_->Url());
}

Result<std::vector<SnapshotHeader>> Repository::ListSnapshots(
    const std::optional<std::string>& instance_id, std::vector<UnreadableObject>* unreadable) {
  std::string prefix = "snapshots/";
  if (instance_id) {
    RETURN_IF_ERROR(ValidateInstanceId(*instance_id));
    prefix += *instance_id + "/";
  }
  ASSIGN_OR_RETURN(auto objects, ListAll(store_, prefix));
  std::vector<SnapshotHeader> headers;
  for (const ObjectInfo& object : objects) {
    if (!object.key.ends_with("/header.json")) continue;
    auto text = store_->GetBounded(object.key, kMaxHeaderBytes);
    if (!text && text.error().code == ErrorCode::kNotFound) continue;  // pruned meanwhile
    Result<SnapshotHeader> header =
        text ? ParseHeader(*text) : Result<SnapshotHeader>(text.error());
    const std::vector<std::string> parts = SplitString(object.key, '/');
    const std::string owner = parts.size() == 4 ? parts[1] : "";
    if (header && (header->instance_id != owner ||
                   SnapshotPrefix(owner, header->snapshot_id) + "header.json" != object.key)) {
      header = CorruptionError("it names snapshot " + header->snapshot_id + " of instance " +
                               header->instance_id + ", not the one it is stored as");
    }
    if (header) {
      headers.push_back(std::move(*header));
      continue;
    }
    if (unreadable == nullptr || !IsUnreadableObject(header.error())) {
      return header.error().WithContext("reading " + object.key);
    }
    unreadable->push_back({owner, object.key, header.error().message});
  }
  std::sort(headers.begin(), headers.end(), [](const SnapshotHeader& a, const SnapshotHeader& b) {
    return a.created_at != b.created_at ? a.created_at < b.created_at
                                        : a.snapshot_id < b.snapshot_id;
  });
  return headers;
}

Status Repository::DeleteSnapshot(const std::string& instance_id, const std::string& snapshot_id) {
  std::string prefix = SnapshotPrefix(instance_id, snapshot_id);
  RETURN_IF_ERROR(store_->Delete(prefix + "header.json"));
  RETURN_IF_ERROR(store_->Delete(prefix + "metadata.json"));
  return store_->Delete(prefix + "manifest");
}

Result<ChunkIndex> Repository::LoadIndex(const std::string& instance_id,
                                         std::vector<std::string>* index_keys,
                                         std::vector<PackRecord>* packs) {
  RETURN_IF_ERROR(ValidateInstanceId(instance_id));
  ASSIGN_OR_RETURN(auto objects, ListAll(store_, "index/" + instance_id + "/"));
  // Fetched in parallel (many small objects: latency-bound on S3), parsed in order.
  std::vector<std::optional<std::string>> frames(objects.size());
  RETURN_IF_ERROR(
      ParallelFor(objects.size(), store_->PreferredConcurrency(), [&](size_t i) -> Status {
        auto frame = store_->GetBounded(objects[i].key, kMaxIndexFrameBytes);
        if (frame) {
          frames[i] = std::move(*frame);
        } else if (frame.error().code != ErrorCode::kNotFound) {  // absent: replaced by a prune
          return frame.error();
        }
        return OkStatus();
      }));
  ChunkIndex index;
  for (size_t i = 0; i < objects.size(); ++i) {
    const ObjectInfo& object = objects[i];
    if (!frames[i]) continue;
    auto text = DecompressObject(*frames[i]);
    if (!text) return text.error().WithContext("index " + object.key);
    try {
      json j = ParseUntrustedJson(*text);
      for (const json& jp : j.at("packs")) {
        auto pack_id = Hash256::FromHex(jp.at("id").get<std::string>());
        if (!pack_id) return CorruptionError("index " + object.key + " has a bad pack id");
        PackRecord record{*pack_id, jp.at("size").get<uint64_t>(), {}};
        for (const json& jb : jp.at("blobs")) {
          auto chunk_id = Hash256::FromHex(jb.at(0).get<std::string>());
          auto compression = ParseCompression(jb.at(4).get<std::string>());
          if (!chunk_id || !compression) {
            return CorruptionError("index " + object.key + " has a bad blob entry");
          }
          PackBlob blob{*chunk_id, *compression, jb.at(1).get<uint64_t>(), jb.at(2).get<uint32_t>(),
                        jb.at(3).get<uint32_t>()};
          index.emplace(blob.chunk_id,
                        ChunkRef{blob.chunk_id, *pack_id, blob.offset, blob.stored_length,
                                 blob.raw_length, blob.compression});
          record.blobs.push_back(blob);
        }
        if (packs) packs->push_back(std::move(record));
      }
    } catch (const std::exception& e) {
      return CorruptionError("index " + object.key + " is damaged: " + e.what());
    }
    if (index_keys) index_keys->push_back(object.key);
  }
  return index;
}

Result<std::string> Repository::WriteIndex(const std::string& instance_id,
                                           const std::vector<PackRecord>& packs) {
  RETURN_IF_ERROR(ValidateInstanceId(instance_id));
  json jpacks = json::array();
  for (const PackRecord& pack : packs) {
    json blobs = json::array();
    for (const PackBlob& b : pack.blobs) {
      blobs.push_back(json::array({b.chunk_id.Hex(), b.offset, b.stored_length, b.raw_length,
                                   CompressionName(b.compression)}));
    }
    jpacks.push_back(
        {{"id", pack.pack_id.Hex()}, {"size", pack.size}, {"blobs", std::move(blobs)}});
  }
  json j = {{"format", "standby-index"}, {"version", 1}, {"packs", std::move(jpacks)}};
  std::string frame = CompressObject(j.dump());
  std::string key = "index/" + instance_id + "/" + Sha256(frame).Hex();
  RETURN_IF_ERROR(store_->Put(key, frame));
  return key;
}

Result<Manifest> LoadSnapshot(ObjectStore* store, const std::optional<std::string>& snapshot_id,
                              const std::optional<std::string>& instance_id) {
  ASSIGN_OR_RETURN(auto repo, Repository::Open(store, /*create=*/false));
  if (snapshot_id) {
    std::string instance;
    if (instance_id) {
      instance = *instance_id;
    } else {
      ASSIGN_OR_RETURN(instance, repo->FindInstance(*snapshot_id));
    }
    return repo->LoadManifest(instance, *snapshot_id);
  }
  if (!instance_id) return InvalidArgumentError("name a SNAPSHOT_ID or pass --instance ID");
  ASSIGN_OR_RETURN(auto latest, repo->ReadLatest(*instance_id));
  if (!latest) {
    return NotFoundError("instance " + *instance_id + " has no snapshot in " + store->Url());
  }
  return repo->LoadManifest(*instance_id, *latest);
}

}  // namespace standby
