#pragma once

namespace standby {

// `standby version`, the API's build info and the standby_build_info metric.
inline constexpr char kStandbyVersion[] = "0.1.0";

}  // namespace standby
