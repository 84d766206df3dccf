#include <cstdlib>

#include "config/config.h"

namespace standby {

const std::vector<SettingSpec>& AllSettings() {
  static const std::vector<SettingSpec> settings = {
      {"repo", "STANDBY_REPO", "", "snapshot repository: DIR, file:///DIR or s3://BUCKET/PREFIX"},
      {"state_dir", "STANDBY_STATE_DIR", "",
       "keys, database and local market hosts "
       "(default ~/.local/state/standby)"},
      {"log_level", "STANDBY_LOG_LEVEL", "info", "debug, info, warning, error or off"},
      {"threads", "STANDBY_THREADS", "0", "worker threads for reading and fetching (0 = auto)"},
      {"snapshot.compression", "STANDBY_COMPRESSION", "lz4", "chunk compression: lz4, zstd, none"},
      {"snapshot.pack_size_mb", "STANDBY_PACK_SIZE_MB", "16", "target pack size in MiB"},
      {"snapshot.lock_wait_seconds", "STANDBY_LOCK_WAIT_SECONDS", "60",
       "how long a snapshot waits for a running prune"},
      {"snapshot.interval_minutes", "PERIODIC_SNAPSHOT_INTERVAL_MINUTES", "60",
       "periodic snapshot interval of `standby serve`"},
      {"snapshot.keep_last", "STANDBY_KEEP_LAST", "48",
       "snapshots kept per instance by `standby serve`'s pruning"},
      {"failover.probe_interval_ms", "STANDBY_PROBE_INTERVAL_MS", "2000",
       "how often `standby serve` probes each host"},
      {"failover.probe_timeout_ms", "STANDBY_PROBE_TIMEOUT_MS", "3000",
       "bound on one probe (SSH connect and the agent's health job)"},
      {"failover.dead_after", "STANDBY_DEAD_AFTER", "3",
       "failed probes in a row before a host is declared dead"},
      {"failover.max_restarts", "STANDBY_MAX_RESTARTS", "2",
       "restarts of a dead or unhealthy workload in place (within 10 minutes) before failing over"},
      {"failover.health_timeout_seconds", "STANDBY_HEALTH_TIMEOUT_SECONDS", "600",
       "how long a (re)started workload has to pass its health check"},
      {"failover.final_snapshot_timeout_seconds", "STANDBY_FINAL_SNAPSHOT_TIMEOUT_SECONDS", "120",
       "bound on a planned failover's final snapshot"},
      {"failover.max_attempts", "STANDBY_MAX_ATTEMPTS", "3",
       "replacement machines one failover may try"},
      {"failover.max_concurrent_snapshots", "STANDBY_MAX_CONCURRENT_SNAPSHOTS", "2",
       "periodic snapshots running at once across instances"},
      {"failover.speculative_race", "STANDBY_SPECULATIVE_RACE", "true",
       "rent the race's first batch at a host's first failed probe (destroyed if it recovers)"},
      {"failover.fence_unconfirmed", "STANDBY_FENCE_UNCONFIRMED", "proceed",
       "when the old host cannot be fenced: proceed (the new host serves, the fence stays "
       "pending and retried) or wait (the new workload waits until the old one is fenced)"},
      {"api.listen", "STANDBY_API_LISTEN", "127.0.0.1:7788",
       "where `standby serve` answers HTTP: ADDR:PORT (port 0: any free one), or off"},
      {"api.insecure_listen", "STANDBY_API_INSECURE_LISTEN", "false",
       "allow a non-loopback api.listen without TLS (the token crosses the network)"},
      {"api.tls_cert", "STANDBY_API_TLS_CERT", "",
       "PEM certificate chain: `standby serve` answers HTTPS (with api.tls_key)"},
      {"api.tls_key", "STANDBY_API_TLS_KEY", "",
       "PEM private key of api.tls_cert (a file only its owner reads)"},
      {"api.webhooks", "STANDBY_WEBHOOKS", "",
       "URLs (comma-separated) that `standby serve` POSTs failover and snapshot events to"},
      {"s3.endpoint", "STANDBY_S3_ENDPOINT", "", "S3 endpoint host[:port] or URL"},
      {"s3.region", "STANDBY_S3_REGION", "us-east-1", "S3 signing region"},
      {"s3.path_style", "STANDBY_S3_PATH_STYLE", "", "true/false: path-style addressing"},
      {"s3.concurrency", "STANDBY_S3_CONCURRENCY", "16", "parallel S3 requests of one transfer"},
      {"s3.request_timeout_seconds", "STANDBY_S3_REQUEST_TIMEOUT_SECONDS", "60",
       "timeout of each S3 request phase (connect, send, receive)"},
      {"s3.list_timeout_seconds", "STANDBY_S3_LIST_TIMEOUT_SECONDS", "30",
       "timeout of each S3 listing request"},
      {"ssh.key", "STANDBY_SSH_KEY", "",
       "private key for --ssh (default: the controller's own, <state_dir>/ssh/id_ed25519)"},
      {"ssh.connect_timeout_seconds", "STANDBY_SSH_CONNECT_TIMEOUT_SECONDS", "10",
       "SSH connect and handshake timeout"},
      {"agent_path", "STANDBY_AGENT", "",
       "standby-agent binary to deploy (default: beside standby, else ../libexec/standby/)"},
      {"provider", "STANDBY_PROVIDER", "local",
       "GPU provider: local (simulated market), vast, pool"},
      {"market", "STANDBY_MARKET", "fast", "local market profile: fast, vast-like or a TOML file"},
      {"market_dir", "STANDBY_MARKET_DIR", "",
       "where the local market keeps its hosts (default <state_dir>/market)"},
      {"pool_file", "STANDBY_POOL_FILE", "", "TOML list of the user's own hosts (provider pool)"},
      {"controller", "STANDBY_CONTROLLER", "",
       "this controller's name in instance labels (default: the host name)"},
      {"controller_id", "STANDBY_CONTROLLER_ID", "",
       "this process's id among those sharing the database (default: host:pid:start time)"},
      {"vast.url", "VAST_URL", "https://console.vast.ai", "Vast.ai API base URL"},
      {"vast.min_request_spacing_ms", "STANDBY_VAST_SPACING_MS", "200",
       "minimum time between two Vast.ai requests of the account"},
      {"race.initial_batch", "STANDBY_RACE_INITIAL", "3", "candidates launched at once"},
      {"race.max_in_flight", "STANDBY_RACE_MAX_IN_FLIGHT", "4", "candidates alive at most"},
      {"race.max_rounds", "STANDBY_RACE_ROUNDS", "3", "rounds before provisioning gives up"},
      {"database_url", "DATABASE_URL", "", "postgresql://... or sqlite:///path", true},
      {"b2.key_id", "B2_KEY_ID", "", "Backblaze B2 application key id", true},
      {"b2.application_key", "B2_APPLICATION_KEY", "", "Backblaze B2 application key", true},
      {"aws.access_key_id", "AWS_ACCESS_KEY_ID", "", "S3 access key id", true},
      {"aws.secret_access_key", "AWS_SECRET_ACCESS_KEY", "", "S3 secret access key", true},
      {"aws.session_token", "AWS_SESSION_TOKEN", "", "S3 session token", true},
      {"vast.api_key", "VAST_API_KEY", "", "Vast.ai API key", true},
      {"webhook_secret", "STANDBY_WEBHOOK_SECRET", "", "HMAC-SHA256 key that signs webhooks", true},
  };
  return settings;
}

const SettingSpec* FindSetting(std::string_view name) {
  for (const SettingSpec& spec : AllSettings()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

}  // namespace standby
