#include "cli/command.h"
#include "cli/provider_access.h"
#include "failover/runtime.h"

namespace standby {

nlohmann::json OfferJson(const Offer& o) {
  return {{"offer_id", o.offer_id},
          {"machine_id", o.machine_id},
          {"gpu_name", o.gpu_name},
          {"gpu_count", o.gpu_count},
          {"gpu_ram_gb", o.gpu_ram_gb},
          {"price_per_hour", o.price_per_hour},
          {"reliability", o.reliability},
          {"download_mbps", o.download_mbps},
          {"region", o.region}};
}

int RunOffers(const std::vector<std::string>& args) {
  const std::string command = "offers";
  auto inv = Prepare(command, args);
  if (!inv) return UsageError(command, inv.error().message, WantsJson(args));
  auto filter = OfferFilterFrom(*inv);
  if (!filter) return UsageError(command, filter.error().message, inv->json);
  auto opened = OpenControllerRuntime(inv->config, RuntimeParts::kFleet);
  if (!opened) return Fail(opened.error(), inv->json);
  auto offers = (*opened)->fleet->Offers(*filter);
  if (!offers) return Fail(offers.error(), inv->json);
  if (offers->empty()) return Fail((*opened)->fleet->NoOfferMatches(*filter), inv->json);
  if (inv->json) {
    nlohmann::json list = nlohmann::json::array();
    for (const Offer& o : *offers) list.push_back(OfferJson(o));
    PrintJson({{"provider", (*opened)->fleet->provider()->Name()}, {"offers", list}});
    return kExitOk;
  }
  std::printf("%-10s %-10s %-12s %5s %8s %7s %8s %s\n", "OFFER", "MACHINE", "GPU", "RAM", "$/h",
              "RELIAB", "DOWN", "REGION");
  for (const Offer& o : *offers) {
    std::printf("%-10s %-10s %-12s %5.0f %8.3f %7.3f %8.0f %s\n", o.offer_id.c_str(),
                o.machine_id.c_str(), o.gpu_name.c_str(), o.gpu_ram_gb, o.price_per_hour,
                o.reliability, o.download_mbps, o.region.c_str());
  }
  return kExitOk;
}

}  // namespace standby
