#include "api/serve.h"

#include "api/api_server.h"
#include "api/api_token.h"
#include "api/webhooks.h"
#include "base/strings.h"
#include "failover/controller.h"
#include "failover/event_recorder.h"
#include "failover/runtime.h"
#include "provision/provider_settings.h"

namespace standby {

Status Serve(const Config& config, const ServeOptions& options, const std::atomic<bool>& stop) {
  ASSIGN_OR_RETURN(auto runtime, OpenControllerRuntime(config));
  runtime->ctx.log = options.log;
  ASSIGN_OR_RETURN(uint64_t interval, config.GetUint("failover.probe_interval_ms"));
  ControllerOptions controller_options;
  controller_options.interval = std::chrono::milliseconds(std::max<uint64_t>(100, interval));
  // Observers outlive the controller (declared before it), which calls them.
  EventRecorder events(runtime->ctx.state, runtime->ctx.clock, runtime->ctx.executor);
  LiveMetrics live;
  runtime->ctx.observers = {&events, &live};
  std::unique_ptr<ApiServer> api;
  const std::string listen = config.GetOr("api.listen", "127.0.0.1:7788");
  if (listen != "off") {
    ApiOptions api_options;
    api_options.listen = listen;
    ASSIGN_OR_RETURN(api_options.insecure_listen, config.GetBool("api.insecure_listen"));
    api_options.tls_cert = config.GetOr("api.tls_cert", "");
    api_options.tls_key = config.GetOr("api.tls_key", "");
    api_options.state_dir = StateDirFromConfig(config);
    api_options.live = &live;
    ASSIGN_OR_RETURN(api, ApiServer::Start(&runtime->ctx, api_options));
    controller_options.api_url = api->url();
    if (options.on_listening) {
      options.on_listening(api->url(), ApiTokenPath(api_options.state_dir), api->token());
    }
  }
  std::unique_ptr<WebhookNotifier> webhooks;
  if (auto urls = config.GetOr("api.webhooks", ""); !urls.empty()) {
    WebhookOptions hook_options;
    for (const std::string& url : SplitString(urls, ',')) {
      if (!TrimWhitespace(url).empty()) hook_options.urls.emplace_back(TrimWhitespace(url));
    }
    hook_options.secret = config.GetOr("webhook_secret", "");
    ASSIGN_OR_RETURN(webhooks,
                     WebhookNotifier::Start(hook_options, runtime->ctx.clock, MakeHttpClient()));
    runtime->ctx.observers.push_back(webhooks.get());
  }
  Controller controller(&runtime->ctx, controller_options);
  RETURN_IF_ERROR(controller.Start());
  return controller.Run(stop);
}

}  // namespace standby
