#pragma once

#include "base/result.h"
#include "config/config.h"
#include "env/clock.h"
#include "store/open_store.h"

namespace standby {

// How to reach the store, from the configuration: the s3.* settings and the credentials
// (B2_KEY_ID/B2_APPLICATION_KEY win over AWS_*, as the seed's deployments use them).
Result<StoreSettings> StoreSettingsFromConfig(const Config& config, Clock* clock);

// The repository the `repo` setting names, opened with those settings. kInvalidArgument
// when no repository is configured.
Result<std::unique_ptr<ObjectStore>> OpenConfiguredStore(const Config& config, Clock* clock);

}  // namespace standby
