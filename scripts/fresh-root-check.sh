#!/usr/bin/env bash
# What a new user meets: a minimal Debian 12 (debootstrap --variant=minbase) with nothing
# added, where scripts/setup.sh must install every program scripts/programs.txt lists.
# Runs setup.sh inside such a root and checks the list there. It checks presence; it does
# not build the project inside the root. Needs root and Debian's and npm's registries.
#
#   sudo bash scripts/fresh-root-check.sh
#
# The pristine root is kept under $FRESH_ROOT (default /var/tmp/standby-bookworm) and the
# downloaded packages under $FRESH_ROOT.apt-cache. The set-up root is kept as well and
# reused while setup.sh, programs.txt and package.json are unchanged; any change to them
# starts again from the pristine root, so a missing install step cannot hide behind an
# earlier run.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/minimal-root.sh
work=$base/work
inputs=$(cat scripts/setup.sh scripts/programs.txt package.json package-lock.json | sha256sum | cut -c1-16)

if [ "$(cat "$work/.standby-inputs" 2>/dev/null)" != "$inputs" ]; then
  echo "fresh copy of the minimal root for these set-up inputs ($inputs)"
  rm -rf "$work"
  cp -a "$pristine" "$work"
fi
mkdir -p "$work/opt/standby/scripts"
prepare_root "$work"
# The root trusts what this machine trusts (a TLS-inspecting egress proxy's CA, say): that is
# the network's set-up, not an install step a new user would have to do.
ca_env=()
for bundle in "${NODE_EXTRA_CA_CERTS:-}" /etc/ssl/certs/ca-certificates.crt; do
  if [ -n "$bundle" ] && [ -f "$bundle" ]; then
    mkdir -p "$work/etc/standby-host-ca"
    cp "$bundle" "$work/etc/standby-host-ca/bundle.crt"
    ca_env=(NODE_EXTRA_CA_CERTS=/etc/standby-host-ca/bundle.crt)
    break
  fi
done
cp scripts/setup.sh scripts/programs.txt scripts/check-programs.py "$work/opt/standby/scripts/"
cp package.json package-lock.json "$work/opt/standby/"

echo "running scripts/setup.sh in the minimal root"
start=$(date +%s)
chroot "$work" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root "${ca_env[@]}" bash /opt/standby/scripts/setup.sh
echo "setup.sh took $(($(date +%s) - start)) s"
echo "$inputs" >"$work/.standby-inputs"
chroot "$work" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root python3 /opt/standby/scripts/check-programs.py --presence-only
# The libraries the build links, as setup.sh lists them, are installed too.
libraries=$(sed -n '/^libraries=(/,/^)/p' scripts/setup.sh | sed '1d;$d')
for package in $libraries; do
  chroot "$work" dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' ||
    { echo "FAIL: setup.sh left library package $package uninstalled" >&2; exit 1; }
done
test -x "$work/opt/standby/node_modules/.bin/s3rver" || { echo "FAIL: s3rver not installed" >&2; exit 1; }
test -f "$work/opt/standby/node_modules/playwright-core/package.json" ||
  { echo "FAIL: playwright-core not installed" >&2; exit 1; }
echo "OK: a minimal Debian 12 has every listed program after scripts/setup.sh"
