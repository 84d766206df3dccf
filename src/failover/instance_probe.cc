// Probing one instance (instance_supervisor.h): the agent's health over a kept SSH session,
// the provider's view from the round's listing, the workload's port where the provider
// exposes it, and the store when nothing else answers (is it the controller that is cut off?).
#include "env/health_check.h"
#include "failover/instance_supervisor.h"
#include "failover/protected_rows.h"

namespace standby {
namespace {

int64_t Nanos(std::chrono::nanoseconds d) { return d.count(); }

ProviderView ViewOf(const Instance& i, std::string* detail) {
  switch (i.state) {
    case InstanceState::kRunning:
      return ProviderView::kRunning;
    case InstanceState::kLoading:
      return ProviderView::kLoading;
    case InstanceState::kExited:
    case InstanceState::kOffline:
      *detail = std::string(InstanceStateName(i.state));
      return ProviderView::kGone;
    case InstanceState::kUnknown:
      *detail = i.status_message;
      return ProviderView::kUnknown;
  }
  return ProviderView::kUnknown;
}

}  // namespace

HostAddress InstanceSupervisor::Host() const {
  HostAddress a = HostOf(row_, spec_.ssh_user);
  a.connect_timeout = spec_.policy.probe_timeout;
  return a;
}

AgentTransport* InstanceSupervisor::ProbeTransport() {
  HostAddress host = Host();
  std::string key = host.Describe() + "/" + host.pin_name;
  if (!probe_transport_ || probe_host_ != key) {
    probe_transport_ = ctx_->fleet->transports()->Connect(host);
    probe_host_ = key;
  }
  probe_transport_->SetTimeouts(spec_.policy.probe_timeout, spec_.policy.probe_timeout);
  return probe_transport_.get();
}

Observation InstanceSupervisor::Probe(const ProviderListing& listing) {
  Observation o;
  o.at_ms = NowMillis(ctx_->clock);
  o.mono_ns = ctx_->clock->MonotonicNanos();
  StoreAccess no_store;
  HostAgent agent(ProbeTransport(), &no_store);
  auto health = drill_ && drill_->host_lost
                    ? Result<HostHealth>(UnavailableError("drill: the host is treated as lost"))
                    : agent.Health(spec_.name, spec_.workspace, spec_.workload);
  if (health) {
    o.agent_ok = true;
    o.workload_alive = health->workload_alive;
    o.workload_healthy = health->workload_healthy;
    o.workload_detail = health->workload_detail;
  } else {
    o.agent_error = health.error().message;
    o.agent_timed_out = health.error().code == ErrorCode::kDeadlineExceeded;
  }
  if (row_.provider_instance_id.empty() || row_.provider != ctx_->fleet->provider()->Name()) {
    o.provider = ProviderView::kNotTracked;
  } else if (!listing.answered) {
    o.provider = ProviderView::kUnknown;
    o.provider_detail = listing.error;
  } else if (o.mono_ns - listing.taken_ns >
             std::max<int64_t>(3 * Nanos(spec_.policy.probe_interval), 5'000'000'000)) {
    // The API has not answered for a while (a listing can hang on retries): stale news.
    o.provider = ProviderView::kUnknown;
    o.provider_detail = "no provider listing for " +
                        std::to_string((o.mono_ns - listing.taken_ns) / 1'000'000'000) + " s";
  } else if (auto it = listing.by_id.find(row_.provider_instance_id); it == listing.by_id.end()) {
    o.provider = ProviderView::kGone;
    o.provider_detail = "instance " + row_.provider_instance_id + " is no longer listed";
  } else {
    o.provider = ViewOf(it->second, &o.provider_detail);
  }
  if (!o.agent_ok && !(drill_ && drill_->host_lost) && spec_.policy.direct_probe &&
      !spec_.workload.health_url.empty() &&
      (o.provider == ProviderView::kRunning || o.provider == ProviderView::kLoading)) {
    o.direct_health = DirectHealth(listing.by_id.at(row_.provider_instance_id));
  }
  if (!o.agent_ok &&
      (o.provider == ProviderView::kUnknown || o.provider == ProviderView::kNotTracked)) {
    // Is it the controller that is cut off? Any answer from the store says no.
    o.store_reachable = ctx_->StoreReachable(spec_.repo);
  }
  return o;
}

std::optional<bool> InstanceSupervisor::DirectHealth(const Instance& instance) {
  // http://HOST:PORT/PATH on the host; the provider maps PORT to a public address.
  auto url = ParseHealthUrl(spec_.workload.health_url);
  if (!url) return std::nullopt;
  auto exposed = instance.exposed.find(url->port);
  if (exposed == instance.exposed.end()) return std::nullopt;  // not reachable from here
  HttpRequest request;
  request.tls = false;
  request.host = exposed->second.host;
  request.port = exposed->second.port;
  request.target = url->target;
  request.timeout = spec_.policy.probe_timeout;
  auto response = MakeHttpClient()->Send(request);
  return response && HealthAnswerOk(*response, {spec_.workload.health_expect_status,
                                                spec_.workload.health_expect_body});
}

}  // namespace standby
