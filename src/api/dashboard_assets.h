#pragma once

#include <string>
#include <vector>

namespace standby {

// One file of the dashboard, compiled in from src/api/dashboard (embed_assets.cmake).
struct DashboardAsset {
  std::string path;          // "/index.html"
  std::string content_type;  // with its charset
  std::string etag;          // quoted, from the content's SHA-256
  std::string body;
};

const std::vector<DashboardAsset>& DashboardAssets();

}  // namespace standby
