#include "failover/serve.h"

#include "failover/controller.h"
#include "failover/runtime.h"

namespace standby {

Status Serve(const Config& config, const ServeOptions& options, const std::atomic<bool>& stop) {
  ASSIGN_OR_RETURN(auto runtime, OpenControllerRuntime(config));
  runtime->ctx.log = options.log;
  ASSIGN_OR_RETURN(uint64_t interval, config.GetUint("failover.probe_interval_ms"));
  ControllerOptions controller_options;
  controller_options.interval = std::chrono::milliseconds(std::max<uint64_t>(100, interval));
  Controller controller(&runtime->ctx, controller_options);
  RETURN_IF_ERROR(controller.Start());
  return controller.Run(stop);
}

}  // namespace standby
