#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "snapshot/manifest.h"
#include "snapshot/restorer.h"
#include "snapshot/snapshot_writer.h"
#include "snapshot/verifier.h"
#include "store/object_store.h"

namespace standby {

// The JSON the CLI prints with --json and standby-agent returns as its result's data, built
// in one place so that a command run locally and through the agent print the same thing;
// and the human summaries, made from that JSON.

nlohmann::json HeaderJson(const SnapshotHeader& h);
nlohmann::json SnapshotJson(const SnapshotResult& result, ObjectStore* store);
std::string SnapshotSummary(const nlohmann::json& snapshot);

nlohmann::json RestoreJson(const Manifest& manifest, const std::string& target,
                           const RestoreResult& result, ObjectStore* store);

nlohmann::json VerifyJson(const Manifest& manifest, const std::string& dir,
                          const DirectoryVerification& verification);
// One line per mismatch and extra entry, then the "✓/✗ validation …" line.
std::vector<std::string> VerifyReport(const nlohmann::json& verification);
// The one-line error for a failed verification.
std::string VerifyFailure(const nlohmann::json& verification);

}  // namespace standby
