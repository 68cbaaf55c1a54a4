#!/usr/bin/env bash
# Installs the Debian host packages the project's builds need. Idempotent: it only calls apt-get
# for what is missing, so ./lab and CI may run it every time. Needs root (or sudo).
set -euo pipefail
repo=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive

missing() { # prints the packages among "$@" that dpkg does not have installed
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || printf '%s ' "$p"
  done
}

# ---- toolchain: arm64 cross assembler/compiler and the arm64 root builder -----------------------
# qemu-user-static, kmod, e2fsprogs: the lab's Debian system image (guest-images/debian/build.sh runs
# arm64 maintainer scripts through qemu-user in a private binfmt_misc, depmod, mke2fs -d); without
# its Recommends nothing registers a binfmt handler on this machine
tools=$(missing gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu mmdebstrap device-tree-compiler \
  qemu-user-static kmod e2fsprogs)
if [ -n "$tools" ]; then
  echo "setup-host: installing $tools" >&2
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends $tools >&2
fi

# ---- arm64 uapi headers (trixie linux-libc-dev) for kvm-bindings' BindingsMatchCompilerTest -----
# cached per user (JVMM_UAPI_DIR or ~/.cache/jvmm/uapi-arm64); a no-op once present
"$repo/scripts/fetch-uapi-headers.sh" >/dev/null

# ---- arm64 lab (./lab): QEMU 10 from bookworm-backports plus packing tools ----------------------
# bookworm-backports is not in this machine's apt sources and we must not change them, so the lab
# gets a private apt configuration under .lab/apt: the machine's own sources plus a backports entry
# whose URI and key are copied from them at run time. Only this apt invocation sees it.
lab_apt() {
  local d=$repo/.lab/apt
  mkdir -p "$d/sources.list.d" "$d/lists/partial"
  if [ ! -s "$d/sources.list.d/lab.sources" ]; then
    local src=/etc/apt/sources.list.d/debian.sources uri key
    [ -r "$src" ] || { echo "setup-host: FAILED: $src not found (cannot derive the Debian archive URI)" >&2; exit 1; }
    # the stanza that carries the main suite (not -security) gives URI and key
    uri=$(awk -v RS= '/Suites:[^\n]*bookworm( |\n|$)/ {print}' "$src" | sed -n 's/^URIs: *\([^ ]*\).*/\1/p' | head -n1)
    key=$(awk -v RS= '/Suites:[^\n]*bookworm( |\n|$)/ {print}' "$src" | sed -n 's/^Signed-By: *//p' | head -n1)
    [ -n "$uri" ] || { echo "setup-host: FAILED: no bookworm URI in $src" >&2; exit 1; }
    { cat "$src"; printf '\nTypes: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\n' "$uri"
      [ -z "$key" ] || printf 'Signed-By: %s\n' "$key"; } > "$d/sources.list.d/lab.sources.tmp"
    mv "$d/sources.list.d/lab.sources.tmp" "$d/sources.list.d/lab.sources"
  fi
  $SUDO apt-get -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$d/sources.list.d" \
    -o Dir::State::Lists="$d/lists" "$@"
}
qemu_ok() { # QEMU 10 or newer is present (bookworm's 7.2 boots L1 about 3x slower)
  command -v qemu-system-aarch64 >/dev/null || return 1
  local v; v=$(qemu-system-aarch64 --version | sed -n 's/.*version \([0-9]*\)\..*/\1/p' | head -n1)
  [ "${v:-0}" -ge 10 ]
}
native_kvm() { [ "$(uname -m)" = aarch64 ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; }
labpk=$(missing cpio xz-utils zstd gzip bc)
codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
if native_kvm; then
  # an arm64 host with KVM runs the tests natively: no emulator needed
  [ -z "$labpk" ] || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends $labpk >&2; }
elif [ -n "$labpk" ] || ! qemu_ok; then
  log=$repo/.lab/setup-host.log
  mkdir -p "$repo/.lab"
  if [ "$codename" = bookworm ]; then
    echo "setup-host: installing qemu-system-arm (bookworm-backports) $labpk" >&2
    lab_apt update -qq >"$log" 2>&1 \
      || { tail -n 5 "$log" >&2; echo "setup-host: FAILED: apt-get update for the lab's private sources (log: $log)" >&2; exit 1; }
    lab_apt install -y -qq -t bookworm-backports --no-install-recommends qemu-system-arm $labpk >>"$log" 2>&1 \
      || { tail -n 5 "$log" >&2; echo "setup-host: FAILED: apt-get install qemu-system-arm from bookworm-backports (log: $log)" >&2; exit 1; }
  else  # newer releases ship QEMU 10+ themselves
    echo "setup-host: installing qemu-system-arm $labpk" >&2
    { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends qemu-system-arm $labpk; } >"$log" 2>&1 \
      || { tail -n 5 "$log" >&2; echo "setup-host: FAILED: apt-get install qemu-system-arm (log: $log)" >&2; exit 1; }
  fi
  qemu_ok || { echo "setup-host: FAILED: qemu-system-aarch64 >= 10 not usable after install" >&2; exit 1; }
fi
