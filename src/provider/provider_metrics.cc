#include "provider/provider_metrics.h"

#include <mutex>

namespace standby {
namespace {

std::mutex& CountsMutex() {
  static std::mutex mu;
  return mu;
}

std::map<ProviderRequestKey, double>& Counts() {
  static auto* counts = new std::map<ProviderRequestKey, double>();  // never destroyed
  return *counts;
}

}  // namespace

void CountProviderRequest(std::string_view provider, std::string_view method, int status) {
  std::string operation(method);
  for (char& c : operation) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string code_class = status == 0     ? "error"
                           : status == 429 ? "429"
                                           : std::to_string(status / 100) + "xx";
  std::lock_guard<std::mutex> lock(CountsMutex());
  Counts()[{std::string(provider), operation, code_class}] += 1;
}

std::map<ProviderRequestKey, double> ProviderRequestCounts() {
  std::lock_guard<std::mutex> lock(CountsMutex());
  return Counts();
}

}  // namespace standby
