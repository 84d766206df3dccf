#include "snapshot/manifest.h"

#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "base/json_fields.h"
#include "base/json_text.h"
#include "base/strings.h"

namespace standby {
namespace {

using nlohmann::json;

std::string_view TypeName(FileType type) {
  switch (type) {
    case FileType::kRegular:
      return "file";
    case FileType::kDirectory:
      return "dir";
    case FileType::kSymlink:
      return "symlink";
    case FileType::kOther:
      break;
  }
  return "other";
}

Result<FileType> ParseType(const std::string& name) {
  if (name == "file") return FileType::kRegular;
  if (name == "dir") return FileType::kDirectory;
  if (name == "symlink") return FileType::kSymlink;
  return CorruptionError("manifest entry has unknown type \"" + name + "\"");
}

Hash256 HashField(const json& j) {
  auto hash = Hash256::FromHex(j.get<std::string>());
  if (!hash) throw std::invalid_argument("bad hash " + j.get<std::string>());
  return *hash;
}

json HeaderToJson(const SnapshotHeader& h) {
  json j;
  j["snapshot_id"] = h.snapshot_id;
  j["instance_id"] = h.instance_id;
  j["snapshot_type"] = h.snapshot_type;
  j["base_snapshot_id"] = h.base_snapshot_id ? json(*h.base_snapshot_id) : json(nullptr);
  j["files_total"] = h.files_total;
  j["files_changed"] = h.files_changed;
  j["bytes_total"] = h.bytes_total;
  j["bytes_uploaded"] = h.bytes_uploaded;
  j["created_at"] = FormatRfc3339(h.created_at);
  j["created_at_ns"] = h.created_at;
  j["compression"] = CompressionName(h.compression);
  j["hostname"] = h.hostname;
  j["workspace"] = h.workspace;
  j["duration_ms"] = h.duration_ms;
  return j;
}

SnapshotHeader HeaderFromJson(const json& j) {
  SnapshotHeader h;
  h.snapshot_id = j.at("snapshot_id").get<std::string>();
  h.instance_id = j.at("instance_id").get<std::string>();
  h.snapshot_type = j.at("snapshot_type").get<std::string>();
  if (!j.at("base_snapshot_id").is_null())
    h.base_snapshot_id = j["base_snapshot_id"].get<std::string>();
  h.files_total = j.at("files_total").get<uint64_t>();
  h.files_changed = j.at("files_changed").get<uint64_t>();
  h.bytes_total = j.at("bytes_total").get<uint64_t>();
  h.bytes_uploaded = j.at("bytes_uploaded").get<uint64_t>();
  h.created_at = j.at("created_at_ns").get<int64_t>();
  auto compression = ParseCompression(j.at("compression").get<std::string>());
  if (!compression) throw std::invalid_argument(compression.error().message);
  h.compression = *compression;
  h.hostname = j.value("hostname", "");
  h.workspace = j.value("workspace", "");
  h.duration_ms = j.value("duration_ms", int64_t{0});
  return h;
}

}  // namespace

Hash256 ContentHash(const std::vector<Hash256>& chunk_ids) {
  Sha256Stream stream;
  for (const Hash256& id : chunk_ids) stream.Update(id.View());
  return stream.Finish();
}

std::string SerializeHeader(const SnapshotHeader& header) { return DumpJson(HeaderToJson(header)); }

Result<SnapshotHeader> ParseHeader(std::string_view text) {
  try {
    return HeaderFromJson(ParseUntrustedJson(text));
  } catch (const std::exception& e) {
    return CorruptionError(std::string("snapshot header is not valid: ") + e.what());
  }
}

namespace {

// A path or link target: a JSON string when it is UTF-8, else its bytes in hex under
// "<name>_hex" (Linux names are bytes; JSON strings are Unicode).
void AppendName(std::string* out, std::string_view field, std::string_view value) {
  *out += '"';
  *out += field;
  if (IsValidUtf8(value)) {
    *out += "\":";
    AppendJsonString(out, value);
  } else {
    *out += "_hex\":\"" + HexEncode(value) + '"';
  }
}

template <class T>
void AppendField(std::string* out, std::string_view name, T value) {
  *out += ",\"";
  *out += name;
  *out += "\":" + std::to_string(value);
}

std::string NameField(const json& j, const std::string& field) {
  if (auto it = j.find(field); it != j.end()) return it->get<std::string>();
  auto hex = HexDecode(j.at(field + "_hex").get<std::string>());
  if (!hex) throw std::invalid_argument(field + "_hex is not hex");
  return *hex;
}

}  // namespace

// Written by hand, not through a JSON DOM: a manifest of 100,000 files would otherwise
// hold hundreds of MiB of DOM nodes.
std::string SerializeManifest(const Manifest& m) {
  json header = HeaderToJson(m.header);
  header["format"] = "standby-manifest";
  header["version"] = 1;
  header["chunker"] = {{"min_size", m.chunker.min_size},
                       {"avg_size", m.chunker.avg_size},
                       {"max_size", m.chunker.max_size}};
  std::string out = DumpJson(header);
  out.pop_back();  // the closing brace; entries and chunks follow
  out.reserve(out.size() + m.entries.size() * 200 + m.chunks.size() * 180);
  out += ",\"entries\":[";
  for (size_t i = 0; i < m.entries.size(); ++i) {
    const ManifestEntry& e = m.entries[i];
    out += i ? ",{" : "{";
    AppendName(&out, "path", e.path);
    out += ",\"type\":\"";
    out += TypeName(e.type);
    out += '"';
    AppendField(&out, "mode", e.mode);
    AppendField(&out, "mtime_ns", e.mtime_ns);
    if (e.type == FileType::kRegular) {
      AppendField(&out, "size", e.size);
      AppendField(&out, "ctime_ns", e.ctime_ns);
      AppendField(&out, "inode", e.inode);
      AppendField(&out, "dev", e.dev);
      out += ",\"content_hash\":\"" + e.content_hash.Hex() + "\",\"chunks\":[";
      for (size_t k = 0; k < e.chunks.size(); ++k) {
        if (k) out += ',';
        out += std::to_string(e.chunks[k]);
      }
      out += ']';
    } else if (e.type == FileType::kSymlink) {
      out += ',';
      AppendName(&out, "target", e.symlink_target);
    }
    out += '}';
  }
  out += "],\"chunks\":[";
  for (size_t i = 0; i < m.chunks.size(); ++i) {
    const ChunkRef& c = m.chunks[i];
    out += i ? ",[\"" : "[\"";
    out += c.id.Hex() + "\",\"" + c.pack.Hex() + "\"," + std::to_string(c.offset) + "," +
           std::to_string(c.stored_length) + "," + std::to_string(c.raw_length) + ",\"";
    out += CompressionName(c.compression);
    out += "\"]";
  }
  out += "]}";
  return out;
}

namespace {

Result<ManifestEntry> EntryFromJson(const json& je) {
  ManifestEntry e;
  e.path = NameField(je, "path");
  ASSIGN_OR_RETURN(e.type, ParseType(je.at("type").get<std::string>()));
  e.mode = je.at("mode").get<uint32_t>();
  e.mtime_ns = je.at("mtime_ns").get<int64_t>();
  if (e.type == FileType::kRegular) {
    e.size = je.at("size").get<uint64_t>();
    e.ctime_ns = je.value("ctime_ns", int64_t{0});
    e.inode = je.value("inode", uint64_t{0});
    e.dev = je.value("dev", uint64_t{0});
    e.content_hash = HashField(je.at("content_hash"));
    e.chunks = je.at("chunks").get<std::vector<uint32_t>>();
  } else if (e.type == FileType::kSymlink) {
    e.symlink_target = NameField(je, "target");
  }
  return e;
}

Result<ChunkRef> ChunkFromJson(const json& jc) {
  ChunkRef c;
  c.id = HashField(jc.at(0));
  c.pack = HashField(jc.at(1));
  c.offset = jc.at(2).get<uint64_t>();
  c.stored_length = jc.at(3).get<uint32_t>();
  c.raw_length = jc.at(4).get<uint32_t>();
  auto compression = ParseCompression(jc.at(5).get<std::string>());
  if (!compression) return CorruptionError("manifest chunk: " + compression.error().message);
  c.compression = *compression;
  return c;
}

}  // namespace

// Entries and chunks are converted as the parser finishes each one and then dropped from
// the DOM, so a manifest of millions of files never exists as a JSON tree in memory.
Result<Manifest> ParseManifest(std::string_view text) {
  Manifest m;
  std::optional<Error> failure;
  std::string section;  // the top-level key being parsed
  // Chunk references are counted as they are parsed, before an entry's DOM can grow: a few
  // compressed bytes of "0,0,0,..." must not expand to gigabytes (a reference bomb).
  uint64_t entry_references = 0, references = 0;
  auto on_event = [&](int depth, json::parse_event_t event, json& parsed) -> bool {
    if (depth > kMaxJsonDepth) throw std::runtime_error("manifest nested too deeply");
    if (depth == 4 && event == json::parse_event_t::value && section == "entries") {
      if (++entry_references > kMaxChunksPerFile) {
        throw std::runtime_error("a file lists more than " + std::to_string(kMaxChunksPerFile) +
                                 " chunks");
      }
      if (++references > kMaxChunkReferences) {
        throw std::runtime_error("the files list more than " + std::to_string(kMaxChunkReferences) +
                                 " chunks in all");
      }
    }
    if (event == json::parse_event_t::key && depth == 1) {
      section = parsed.get<std::string>();
    } else if (depth == 2 && section == "entries" && event == json::parse_event_t::object_end) {
      entry_references = 0;
      auto entry = EntryFromJson(parsed);
      if (entry) {
        m.entries.push_back(std::move(*entry));
      } else if (!failure) {
        failure = entry.error();
      }
      return false;
    } else if (depth == 2 && section == "chunks" && event == json::parse_event_t::array_end) {
      auto chunk = ChunkFromJson(parsed);
      if (chunk) {
        m.chunks.push_back(*chunk);
      } else if (!failure) {
        failure = chunk.error();
      }
      return false;
    }
    return true;
  };
  try {
    json j = json::parse(text.begin(), text.end(), on_event);
    if (failure) return *failure;
    if (j.value("format", "") != "standby-manifest") {
      return CorruptionError("object is not a standby manifest");
    }
    if (j.at("version").get<int>() != 1) {
      return CorruptionError("manifest version " + j["version"].dump() +
                             " is newer than this standby understands; upgrade standby");
    }
    if (!j.contains("entries") || !j.contains("chunks")) {
      return CorruptionError("manifest has no entries or chunks");
    }
    m.header = HeaderFromJson(j);
    const json& chunker = j.at("chunker");
    m.chunker.min_size = chunker.at("min_size").get<uint32_t>();
    m.chunker.avg_size = chunker.at("avg_size").get<uint32_t>();
    m.chunker.max_size = chunker.at("max_size").get<uint32_t>();
    return m;
  } catch (const std::exception& e) {
    return CorruptionError(std::string("manifest is not valid (truncated or damaged): ") +
                           e.what());
  }
}

std::string SeedMetadataJson(const Manifest& m) {
  json files = json::object();
  for (const ManifestEntry& e : m.entries) {
    if (e.type == FileType::kRegular) files[e.path] = static_cast<double>(e.mtime_ns) / 1e9;
  }
  json j = {{"snapshot_id", m.header.snapshot_id},
            {"timestamp", FormatRfc3339(m.header.created_at)},
            {"files", std::move(files)},
            {"total_size", m.header.bytes_total},
            {"compression", CompressionName(m.header.compression)},
            {"snapshot_type", m.header.snapshot_type},
            {"base_snapshot_id",
             m.header.base_snapshot_id ? json(*m.header.base_snapshot_id) : json(nullptr)}};
  return DumpJson(j, 2);
}

Status ValidateManifest(const Manifest& m) {
  RETURN_IF_ERROR(m.chunker.Validate());
  // Every claimed length is bounded before anything is allocated for it.
  constexpr uint64_t kMaxPackOffset = uint64_t{1} << 40;
  for (const ChunkRef& c : m.chunks) {
    if (c.raw_length == 0 || c.raw_length > m.chunker.max_size) {
      return CorruptionError("manifest chunk " + c.id.Hex() + " claims " +
                             std::to_string(c.raw_length) + " bytes, outside 1–" +
                             std::to_string(m.chunker.max_size) + " (the chunker's maximum)");
    }
    const uint64_t stored_bound =
        c.compression == Compression::kNone ? c.raw_length : c.raw_length + c.raw_length / 128 + 64;
    if (c.stored_length == 0 || c.stored_length > stored_bound || c.offset > kMaxPackOffset) {
      return CorruptionError("manifest chunk " + c.id.Hex() +
                             " has an impossible stored length or pack offset");
    }
  }
  std::unordered_map<std::string_view, FileType> types;
  for (const ManifestEntry& e : m.entries) {
    const std::string& p = e.path;
    auto bad = [&](std::string_view why) {
      return CorruptionError("manifest entry \"" + p + "\" " + std::string(why) +
                             "; refusing to restore it");
    };
    if (p.empty() || p.front() == '/') return bad("is an absolute or empty path");
    if (p.find('\0') != std::string::npos) return bad("contains NUL");
    for (const std::string& segment : SplitString(p, '/')) {
      if (segment.empty() || segment == "." || segment == "..") {
        return bad("has an empty, '.' or '..' segment");
      }
    }
    std::string_view parent = ParentPath(p);
    if (!parent.empty()) {
      auto it = types.find(parent);
      if (it == types.end() || it->second != FileType::kDirectory) {
        return bad("is not inside a directory listed before it");
      }
    }
    if (!types.emplace(p, e.type).second) return bad("appears twice");
    if (e.type == FileType::kRegular) {
      uint64_t total = 0;
      for (uint32_t index : e.chunks) {
        if (index >= m.chunks.size()) return bad("references a chunk that is not in the manifest");
        total += m.chunks[index].raw_length;
      }
      if (total != e.size) return bad("has chunks that do not add up to its size");
    } else if (e.type == FileType::kSymlink && e.symlink_target.empty()) {
      return bad("is a symlink without a target");
    }
  }
  return OkStatus();
}

bool SymlinkStaysInside(std::string_view link_path, std::string_view target,
                        const std::unordered_set<std::string_view>& links) {
  if (target.empty() || target.front() == '/') return false;
  std::vector<std::string> path;  // where the walk is, from the workspace root
  for (const std::string& segment : SplitString(ParentPath(link_path), '/')) {
    if (!segment.empty()) path.push_back(segment);
  }
  std::vector<std::string> segments;
  for (const std::string& segment : SplitString(target, '/')) {
    if (!segment.empty() && segment != ".") segments.push_back(segment);
  }
  std::string joined;
  for (size_t i = 0; i < segments.size(); ++i) {
    if (segments[i] == "..") {
      if (path.empty()) return false;
      path.pop_back();
      continue;
    }
    path.push_back(segments[i]);
    if (i + 1 == segments.size() || links.empty()) continue;
    joined.clear();
    for (const std::string& p : path) joined += (joined.empty() ? "" : "/") + p;
    if (links.count(joined)) return false;  // through another link
  }
  return true;
}

}  // namespace standby
