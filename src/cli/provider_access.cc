#include "cli/provider_access.h"

#include "base/strings.h"

namespace standby {
namespace {

// The option's number (its table default when absent), 0 without either.
Result<double> NumberFlag(const Invocation& inv, const std::string& flag) {
  auto text = inv.Flag(flag);
  if (!text) return 0;
  try {
    size_t used = 0;
    double value = std::stod(*text, &used);
    if (used != text->size() || value < 0) throw std::invalid_argument(*text);
    return value;
  } catch (const std::exception&) {
    return InvalidArgumentError("--" + flag + " wants a non-negative number, got '" + *text + "'");
  }
}

}  // namespace

Result<OfferFilter> OfferFilterFrom(const Invocation& inv) {
  OfferFilter f;
  if (auto gpus = inv.Flag("gpu")) {
    for (std::string& name : SplitString(*gpus, ',')) {
      if (!name.empty()) f.gpu_names.push_back(std::move(name));
    }
  }
  ASSIGN_OR_RETURN(double count, NumberFlag(inv, "gpus"));
  f.gpu_count = static_cast<int>(count);
  ASSIGN_OR_RETURN(f.min_gpu_ram_gb, NumberFlag(inv, "min-gpu-ram"));
  ASSIGN_OR_RETURN(f.max_price_per_hour, NumberFlag(inv, "max-price"));
  ASSIGN_OR_RETURN(f.min_reliability, NumberFlag(inv, "min-reliability"));
  if (f.min_reliability > 1) return InvalidArgumentError("--min-reliability is a share, 0..1");
  ASSIGN_OR_RETURN(f.min_download_mbps, NumberFlag(inv, "min-download"));
  f.region = inv.Flag("region").value_or("");
  ASSIGN_OR_RETURN(double limit, NumberFlag(inv, "limit"));
  f.limit = static_cast<int>(limit);
  return f;
}

}  // namespace standby
