#!/usr/bin/env bash
# The .deb on a new user's machine: a minimal Debian 12 root (debootstrap --variant=minbase)
# gets the package through apt, which resolves its Depends from Debian's mirror; then
# `standby version`, `standby help protect` and `standby doctor` run there, and the service's
# user, unit and private credentials file exist. Needs root and Debian's mirror.
#
#   sudo bash scripts/deb-root-check.sh BUILD_DIR     (builds BUILD_DIR/standby_*.deb first)
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(readlink -f "$1")
source scripts/minimal-root.sh
root=$base/deb

(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls -t "$build"/standby_*.deb | head -1)
echo "installing $(basename "$deb") ($(du -h "$deb" | cut -f1)) into a fresh minimal root"
rm -rf "$root"
cp -a "$pristine" "$root"
prepare_root "$root"
# As slim images do: no /usr/share/doc (the package must not need it).
mkdir -p "$root/etc/dpkg/dpkg.cfg.d"
printf 'path-exclude=/usr/share/doc/*\n' >"$root/etc/dpkg/dpkg.cfg.d/excludes"
cp "$deb" "$root/tmp/standby.deb"
in_root() {
  chroot "$root" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 "$@"
}
in_root apt-get update -qq
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  /tmp/standby.deb >/dev/null

fail() { echo "FAIL: $*" >&2; exit 1; }
version=$(in_root standby version)
[ "$version" = "standby 0.1.0" ] || fail "standby version said '$version'"
in_root standby help protect | grep -q -- '--drill-kind KIND' || fail "help protect lists no --drill-kind"
in_root test -x /usr/libexec/standby/standby-agent || fail "no agent under /usr/libexec/standby"
in_root getent passwd standby >/dev/null || fail "no user standby"
in_root test -f /usr/lib/systemd/system/standby.service || fail "no systemd unit"
[ "$(in_root stat -c %U:%G:%a /etc/standby/standby.env)" = root:standby:640 ] ||
  fail "standby.env is not root:standby 0640"
[ "$(in_root stat -c %U:%a /var/lib/standby)" = standby:700 ] || fail "/var/lib/standby not private"
in_root test -f /usr/share/man/man1/standby.1 || fail "no man page"
in_root test -f /usr/share/bash-completion/completions/standby || fail "no bash completion"

# doctor on a deployment that is sound: every check passes (time sync may be unknown in a root).
mkdir -p "$root/tmp/repo"
set +e
report=$(in_root env STANDBY_STATE_DIR=/tmp/state STANDBY_REPO=/tmp/repo standby doctor 2>&1)
status=$?
set -e
echo "$report"
[ "$status" -eq 0 ] || fail "standby doctor exited $status"
echo "$report" | grep -q "✓ agent: /usr/libexec/standby/standby-agent" || fail "doctor found no installed agent"
echo "OK: the .deb installs on a minimal Debian 12 with its dependencies and runs"
