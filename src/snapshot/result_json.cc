#include "snapshot/result_json.h"

#include "base/strings.h"
#include "base/time.h"

namespace standby {

using nlohmann::json;

json HeaderJson(const SnapshotHeader& h) {
  return {{"snapshot_id", h.snapshot_id},
          {"instance_id", h.instance_id},
          {"snapshot_type", h.snapshot_type},
          {"base_snapshot_id", h.base_snapshot_id ? json(*h.base_snapshot_id) : json(nullptr)},
          {"files_total", h.files_total},
          {"files_changed", h.files_changed},
          {"bytes_total", h.bytes_total},
          {"bytes_uploaded", h.bytes_uploaded},
          {"created_at", FormatRfc3339(h.created_at)},
          {"created_at_ms", h.created_at / 1'000'000},
          {"compression", CompressionName(h.compression)},
          {"hostname", h.hostname},
          {"duration_ms", h.duration_ms}};
}

json SnapshotJson(const SnapshotResult& result, ObjectStore* store) {
  json j = HeaderJson(result.header);
  j["chunks_total"] = result.chunks_total;
  j["chunks_uploaded"] = result.chunks_uploaded;
  j["packs_uploaded"] = result.packs_uploaded;
  j["skipped"] = result.skipped;
  j["repo"] = store->Url();
  j["store_requests"] = store->RequestCounters().requests;
  j["store_retries"] = store->RequestCounters().retries;
  return j;
}

std::string SnapshotSummary(const json& s) {
  return "✓ Snapshot " + s.value("snapshot_id", "") + " (" + s.value("snapshot_type", "") +
         "): " + std::to_string(s.value("files_total", uint64_t{0})) + " files, " +
         HumanBytes(s.value("bytes_total", uint64_t{0})) + ", " +
         std::to_string(s.value("files_changed", uint64_t{0})) + " changed, " +
         HumanBytes(s.value("bytes_uploaded", uint64_t{0})) + " uploaded in " +
         std::to_string(s.value("duration_ms", int64_t{0})) + " ms";
}

json RestoreJson(const Manifest& manifest, const std::string& target, const RestoreResult& r,
                 ObjectStore* store) {
  return {{"snapshot_id", r.snapshot_id},
          {"instance_id", manifest.header.instance_id},
          {"snapshot_type", manifest.header.snapshot_type},
          {"target", target},
          {"files_restored", r.files_restored},
          {"files_expected", r.files_expected},
          {"files_unchanged", r.files_unchanged},
          {"files_removed", r.files_removed},
          {"bytes_restored", r.bytes_restored},
          {"bytes_downloaded", r.bytes_downloaded},
          {"bytes_reused", r.bytes_reused},
          {"duration_ms", r.duration_ms},
          {"validation", ValidationName(r.validation)},
          {"store_requests", store->RequestCounters().requests},
          {"store_retries", store->RequestCounters().retries}};
}

json VerifyJson(const Manifest& manifest, const std::string& dir, const DirectoryVerification& v) {
  json mismatches = json::array();
  for (const Mismatch& m : v.mismatches) {
    mismatches.push_back({{"path", m.path}, {"problem", m.problem}, {"detail", m.detail}});
  }
  return {{"validation", ValidationName(v.validation)},
          {"files_restored", v.files_restored},
          {"files_expected", v.files_expected},
          {"snapshot_id", manifest.header.snapshot_id},
          {"dir", dir},
          {"entries_checked", v.entries_checked},
          {"bytes_verified", v.bytes_verified},
          {"mismatches", std::move(mismatches)},
          {"extra", v.extra}};
}

std::vector<std::string> VerifyReport(const json& v) {
  std::vector<std::string> lines;
  for (const json& m : v.value("mismatches", json::array())) {
    lines.push_back("mismatch: " + m.value("path", "") + ": " + m.value("problem", "") + " (" +
                    m.value("detail", "") + ")");
  }
  for (const json& extra : v.value("extra", json::array())) {
    lines.push_back("extra: " + extra.get<std::string>() + " (not in the snapshot)");
  }
  std::string validation = v.value("validation", "");
  lines.push_back(std::string(validation == "ok" ? "✓" : "✗") + " validation " + validation + ": " +
                  std::to_string(v.value("files_restored", uint64_t{0})) + "/" +
                  std::to_string(v.value("files_expected", uint64_t{0})) +
                  " files match snapshot " + v.value("snapshot_id", "") + " (" +
                  HumanBytes(v.value("bytes_verified", uint64_t{0})) + " hashed)");
  return lines;
}

std::string VerifyFailure(const json& v) {
  const json& mismatches = v.value("mismatches", json::array());
  std::string first =
      mismatches.empty() ? std::string("extra entries") : mismatches.front().value("path", "");
  return v.value("dir", "") + " does not match snapshot " + v.value("snapshot_id", "") + " (" +
         std::to_string(mismatches.size()) + " mismatches, first: " + first + ")";
}

}  // namespace standby
