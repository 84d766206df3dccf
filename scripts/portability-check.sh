#!/usr/bin/env bash
# Checks that standby-agent runs on a foreign system: inspects its dynamic needs, then runs
# it inside a minimal Debian 11 (glibc 2.31) root made with debootstrap, where it takes a
# snapshot and restores it through its own protocol. Needs root and Debian's mirror.
#
#   sudo bash scripts/portability-check.sh [AGENT]      (default build/standby-agent)
#
# The root is kept under $PORTABILITY_ROOT (default /var/tmp/standby-bullseye) for re-runs.
set -euo pipefail

agent=$(realpath "${1:-build/standby-agent}")
root=${PORTABILITY_ROOT:-/var/tmp/standby-bullseye}
suite=${PORTABILITY_SUITE:-bullseye}

echo "agent: $agent ($(stat -c %s "$agent") bytes)"
readelf -h "$agent" | grep -E 'Class|Type|Machine' | sed 's/^ */  /'
if readelf -l "$agent" 2>/dev/null | grep -q 'INTERP'; then
  echo "FAIL: the agent names a dynamic loader:" >&2
  readelf -l "$agent" | grep -A1 INTERP >&2
  exit 1
fi
if readelf -d "$agent" 2>/dev/null | grep -q NEEDED; then
  echo "FAIL: the agent needs shared libraries:" >&2
  readelf -d "$agent" | grep NEEDED >&2
  exit 1
fi
echo "dynamic needs: none (no NEEDED entries, no interpreter)"

if [ ! -x "$root/bin/sh" ]; then
  command -v debootstrap >/dev/null || apt-get install -y --no-install-recommends debootstrap >/dev/null
  echo "debootstrap $suite into $root (once)"
  debootstrap --variant=minbase "$suite" "$root" http://deb.debian.org/debian >/dev/null
fi
echo "guest: $(chroot "$root" /bin/sh -c '. /etc/os-release; echo $PRETTY_NAME'), $(chroot "$root" ldd --version | head -1)"

mkdir -p "$root/opt/standby" "$root/work/ws/sub"
cp "$agent" "$root/opt/standby/standby-agent"
head -c 3000000 /dev/urandom >"$root/work/ws/weights.bin"
echo '{"step": 1}' >"$root/work/ws/sub/state.json"
rm -rf "$root/work/repo" "$root/work/out"

driver=$(dirname "$0")/agent-driver.py
run_job() {  # run_job JSON [S3 OPTIONS]: hello, the job, grants on request; the result line
  local job=$1
  shift
  python3 "$driver" "$job" "$@" -- chroot "$root" /opt/standby/standby-agent
}
run_job '{"protocol":3,"command":"snapshot","repo":"/work/repo","instance_id":"p","workspace":"/work/ws"}' |
  grep -q '"ok":true' || { echo "FAIL: snapshot in the $suite root" >&2; exit 1; }
run_job '{"protocol":3,"command":"restore","repo":"/work/repo","instance_id":"p","target":"/work/out"}' |
  grep -q '"validation":"ok"' || { echo "FAIL: restore in the $suite root" >&2; exit 1; }
run_job '{"protocol":3,"command":"health","workspace":"/work/out"}' | grep -q '"no GPU"' ||
  { echo "FAIL: health in the $suite root" >&2; exit 1; }
cmp "$root/work/ws/weights.bin" "$root/work/out/weights.bin"
echo "OK: snapshot, restore (validated) and health ran in the $suite root"

# Through S3 (s3rver on loopback, reachable from the chroot): the static HTTP client, with
# the endpoint given by name and the addresses in the job, as the controller sends them.
s3rver=$(dirname "$0")/../node_modules/s3rver/bin/s3rver.js
if [ -f "$s3rver" ] && command -v node >/dev/null; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  data=$(mktemp -d)
  node --openssl-legacy-provider "$s3rver" -d "$data" -a 127.0.0.1 -p "$port" --silent \
    --configure-bucket portable >/dev/null 2>&1 &
  s3pid=$!
  trap 'kill $s3pid 2>/dev/null; rm -rf "$data"' EXIT
  for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
  # The agent holds no credential: every request it makes is granted by the driver.
  s3='"s3":{"endpoint":"http://localhost:'$port'","host":"localhost","addresses":["127.0.0.1"]}'
  grants=(--endpoint "http://localhost:$port" --bucket portable --key-id S3RVER --secret-env S3_SECRET)
  export S3_SECRET=S3RVER
  rm -rf "$root/work/out"
  run_job '{"protocol":3,"command":"snapshot","repo":"s3://portable/p",'"$s3"',"instance_id":"p","workspace":"/work/ws"}' "${grants[@]}" |
    grep -q '"ok":true' || { echo "FAIL: snapshot to S3 in the $suite root" >&2; exit 1; }
  run_job '{"protocol":3,"command":"restore","repo":"s3://portable/p",'"$s3"',"instance_id":"p","target":"/work/out"}' "${grants[@]}" |
    grep -q '"validation":"ok"' || { echo "FAIL: restore from S3 in the $suite root" >&2; exit 1; }
  cmp "$root/work/ws/weights.bin" "$root/work/out/weights.bin"
  echo "OK: snapshot to and validated restore from S3 (s3rver) in the $suite root"
fi
