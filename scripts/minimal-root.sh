# Sourced by the ROOT_ checks (fresh-root-check.sh, deb-root-check.sh): a pristine minimal
# Debian 12 root (debootstrap --variant=minbase), made once under $pristine, and mounts that
# are undone on exit. Needs root and Debian's mirror.
base=${FRESH_ROOT:-/var/tmp/standby-bookworm}
pristine=$base/pristine
cache=$base.apt-cache

if [ ! -f "$pristine/.standby-minbase" ]; then
  command -v debootstrap >/dev/null || apt-get install -y --no-install-recommends debootstrap >/dev/null
  echo "debootstrap bookworm (minbase) into $pristine (once)"
  rm -rf "$pristine"
  mkdir -p "$pristine"
  debootstrap --variant=minbase bookworm "$pristine" http://deb.debian.org/debian >/dev/null
  touch "$pristine/.standby-minbase"
fi

mounted=()
cleanup() {
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
}
trap cleanup EXIT

# prepare_root DIR: the apt cache and /proc mounted, DNS as here, no service started.
prepare_root() {
  local root=$1
  mkdir -p "$cache" "$root/var/cache/apt/archives"
  mount --bind "$cache" "$root/var/cache/apt/archives" && mounted+=("$root/var/cache/apt/archives")
  mount -t proc proc "$root/proc" && mounted+=("$root/proc")
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 755 "$root/usr/sbin/policy-rc.d"
}
