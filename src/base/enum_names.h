#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace standby {

// One table per enum names each value once; Name and Parse read the same table, so a
// vocabulary (race outcomes, instance and failover states, validation results) cannot be
// spelled two ways between layers.
//
//   constexpr EnumName<Color> kColors[] = {{Color::kRed, "red"}, {Color::kBlue, "blue"}};
//   std::string_view ColorName(Color c) { return NameIn(kColors, c); }
//   std::optional<Color> ParseColor(std::string_view s) { return ParseIn(kColors, s); }
template <typename E>
struct EnumName {
  E value;
  std::string_view name;
};

template <typename E>
constexpr std::string_view NameIn(std::span<const EnumName<E>> table, E value) {
  for (const EnumName<E>& entry : table) {
    if (entry.value == value) return entry.name;
  }
  return "unknown";
}

template <typename E>
constexpr std::optional<E> ParseIn(std::span<const EnumName<E>> table, std::string_view name) {
  for (const EnumName<E>& entry : table) {
    if (entry.name == name) return entry.value;
  }
  return std::nullopt;
}

}  // namespace standby
