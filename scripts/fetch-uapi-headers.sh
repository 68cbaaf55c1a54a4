#!/usr/bin/env bash
# Extracts the arm64 Linux uapi headers that kvm-bindings' generated bindings were made from
# (Debian trixie linux-libc-dev, pinned below) into a cache dir, and prints the include dir
# (<cache>/usr/include; the arm64 asm headers are in <cache>/usr/include/aarch64-linux-gnu).
# BindingsMatchCompilerTest compiles against them. Idempotent: does nothing once the cache holds
# the pinned version. Does not touch the machine's apt sources (mmdebstrap, no chroot, no root).
#   JVMM_UAPI_DIR      cache dir (default ${XDG_CACHE_HOME:-$HOME/.cache}/jvmm/uapi-arm64)
#   JVMM_UAPI_VERSION  linux-libc-dev version (default: the one in kvm-bindings/jextract/README.md)
set -euo pipefail
version=${JVMM_UAPI_VERSION:-6.12.117-1}   # keep in step with kvm-bindings/jextract/regen.sh
suite=trixie
dir=${JVMM_UAPI_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/jvmm/uapi-arm64}

# .requested-version: what was asked for; .linux-libc-dev-version: what was actually extracted
if [ -f "$dir/.requested-version" ] && [ -f "$dir/usr/include/aarch64-linux-gnu/asm/kvm.h" ]; then
  have=$(cat "$dir/.requested-version")
  if [ "$have" = "$version" ]; then printf '%s\n' "$dir/usr/include"; exit 0; fi
  echo "fetch-uapi-headers: cache has linux-libc-dev $have, want $version: refreshing" >&2
fi

command -v mmdebstrap >/dev/null || { echo "fetch-uapi-headers: FAILED: mmdebstrap not installed (run scripts/setup-host.sh)" >&2; exit 1; }
mkdir -p "$(dirname "$dir")"
tmp=$(mktemp -d "$(dirname "$dir")/.uapi-arm64.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

echo "fetch-uapi-headers: fetching $suite arm64 linux-libc-dev=$version" >&2
if ! mmdebstrap --quiet --variant=extract --mode=chrootless --arch=arm64 \
       --include="linux-libc-dev=$version" "$suite" "$tmp/uapi.tar" 2>"$tmp/log"; then
  # The archive only keeps the newest version. uapi values do not change within a stable series,
  # so fall back to it; BindingsMatchCompilerTest still reports any real difference.
  echo "fetch-uapi-headers: linux-libc-dev=$version not available in $suite; using its current version" >&2
  mmdebstrap --quiet --variant=extract --mode=chrootless --arch=arm64 \
    --include=linux-libc-dev "$suite" "$tmp/uapi.tar" 2>"$tmp/log" \
    || { tail -n 5 "$tmp/log" >&2; echo "fetch-uapi-headers: FAILED: mmdebstrap $suite linux-libc-dev" >&2; exit 1; }
fi
mkdir "$tmp/root"
# usr/include/<triplet>/asm are symlinks into usr/lib/linux/uapi/<arch>/asm
tar -xf "$tmp/uapi.tar" -C "$tmp/root" ./usr/include ./usr/lib/linux ./usr/share/doc/linux-libc-dev
got=$(gzip -dc "$tmp/root/usr/share/doc/linux-libc-dev/changelog.Debian.gz" | sed -n '1s/^linux (\([^)]*\)).*/\1/p')
[ -f "$tmp/root/usr/include/aarch64-linux-gnu/asm/kvm.h" ] \
  || { echo "fetch-uapi-headers: FAILED: no arm64 asm/kvm.h in linux-libc-dev $got" >&2; exit 1; }
printf '%s\n' "$got" > "$tmp/root/.linux-libc-dev-version"
printf '%s\n' "$version" > "$tmp/root/.requested-version"
rm -rf "$dir"
mv "$tmp/root" "$dir"
echo "fetch-uapi-headers: linux-libc-dev $got in $dir" >&2
printf '%s\n' "$dir/usr/include"
