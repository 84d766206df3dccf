#include <algorithm>

#include "cli/command.h"

namespace standby {

// `standby config show`: every setting's effective value and where it came from (flag, env,
// .env, config file, default, unset); secrets are shown as *** when set.
int RunConfigShow(const std::vector<std::string>& args) {
  const std::string command = "config show";
  auto inv = Prepare(command, args);
  if (!inv) return UsageError(command, inv.error().message, WantsJson(args));
  std::vector<ShownSetting> settings = ShowSettings(inv->config);
  if (inv->json) {
    nlohmann::json list = nlohmann::json::array();
    for (const ShownSetting& s : settings) {
      list.push_back(
          {{"name", s.name},
           {"env", s.env},
           {"value", s.source == "unset" ? nlohmann::json(nullptr) : nlohmann::json(s.value)},
           {"source", s.source},
           {"secret", s.secret}});
    }
    PrintJson({{"settings", list}});
    return kExitOk;
  }
  int width = 0;
  for (const ShownSetting& s : settings) {
    width = std::max(width, static_cast<int>(s.name.size() + s.env.size() + 3));
  }
  std::printf("%-*s %-32s %s\n", width, "SETTING (ENV)", "VALUE", "SOURCE");
  for (const ShownSetting& s : settings) {
    std::printf("%-*s %-32s %s\n", width, (s.name + " (" + s.env + ")").c_str(),
                s.source == "unset" ? "-" : s.value.c_str(), s.source.c_str());
  }
  return kExitOk;
}

}  // namespace standby
