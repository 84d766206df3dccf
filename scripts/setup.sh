#!/usr/bin/env bash
# Installs everything the build, the tests, the demo and the benchmarks need on Debian 12.
# Idempotent: packages already present are not touched, and apt-get runs only when
# something is missing. Safe to call from every make target.
#
# Programs come from scripts/programs.txt (checked by scripts/check-programs.py); the
# libraries the build links are listed here.
set -euo pipefail
cd "$(dirname "$0")/.."

libraries=(
  build-essential libexpected-dev libspdlog-dev libfmt-dev libtomlplusplus-dev
  nlohmann-json3-dev libssl-dev liblz4-dev libzstd-dev libboost-dev libsqlite3-dev libpq-dev
  libssh-dev libgtest-dev libgmock-dev libbenchmark-dev fonts-dejavu-core
)

# The package of every program from the list that is not where the list says.
program_packages() {
  local program package where _
  while read -r program package where _; do
    case "$program" in "" | \#*) continue ;; esac
    if [ "$where" = PATH ]; then
      command -v "$program" >/dev/null 2>&1 || echo "$package"
    else
      compgen -G "$where" >/dev/null || echo "$package"
    fi
  done <scripts/programs.txt
}

missing=()
for p in "${libraries[@]}" $(program_packages | sort -u); do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; then
    "${sudo_cmd[@]}" apt-get update >/dev/null
    "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # Debian's prometheus package enables a system Prometheus on *:9090 where systemd runs;
  # the tests start their own on loopback, and this machine needs none.
  if printf '%s\n' "${missing[@]}" | grep -qx prometheus && [ -d /run/systemd/system ]; then
    "${sudo_cmd[@]}" systemctl disable --now prometheus >/dev/null 2>&1 ||
      echo "setup: could not stop the system Prometheus the package started" >&2
  fi
fi

# Test-only npm packages (s3rver, playwright-core), into the project-local node_modules, at
# the exact versions of package-lock.json.
npm_missing=$(node -e '
  const deps = require("./package.json").dependencies;
  const fs = require("fs");
  for (const [name, version] of Object.entries(deps)) {
    let have = null;
    try { have = JSON.parse(fs.readFileSync(`node_modules/${name}/package.json`)).version; } catch (e) {}
    if (have !== version) console.log(name);
  }')
if [ -n "$npm_missing" ]; then
  echo "setup: installing npm packages into ./node_modules" >&2
  npm install --no-audit --no-fund --loglevel=error >/dev/null
fi
