#!/usr/bin/env bash
# Installs everything the build, the tests, the demo and the benchmarks need on Debian 12.
# Idempotent: packages already present are not touched, and apt-get runs only when
# something is missing. Safe to call from every make target.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libexpected-dev libspdlog-dev libfmt-dev libtomlplusplus-dev nlohmann-json3-dev
  libssl-dev liblz4-dev libzstd-dev libboost-dev libsqlite3-dev libpq-dev postgresql
  libssh-dev openssh-server openssh-client debootstrap
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-format restic rclone hyperfine time faketime python3 openssl
)
# Node.js runs the test S3 server; any node ≥ 18 on PATH will do (Debian's, or NodeSource's).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
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
fi

# Test-only npm packages (s3rver), into the project-local node_modules.
cd "$(dirname "$0")/.."
if [ ! -x node_modules/.bin/s3rver ]; then
  echo "setup: installing npm packages into ./node_modules" >&2
  npm install --no-audit --no-fund --loglevel=error >/dev/null
fi
