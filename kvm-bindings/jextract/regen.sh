#!/bin/sh
# Regenerates the committed arm64 KVM uapi bindings in
# kvm-bindings/src/main/java/dev/jvmm/kvm/uapi/ (package dev.jvmm.kvm.uapi, header class KvmUapi).
#
# Needs:
#   * `jextract` on PATH, built against libclang 13, 14 or 15 (Debian bookworm's libclang1-13..15).
#     libclang 16 and newer crash on linux/kvm.h ("TypeLayoutError: InvalidFieldName ... anonymous").
#     jextract is not packaged anywhere reachable; build it locally from openjdk/jextract
#     (see README.md). Neither jextract nor a recipe that builds it belongs in this repository.
#   * the pinned arm64 uapi headers: taken from scripts/fetch-uapi-headers.sh's cache when it holds
#     exactly that version (JVMM_UAPI_DIR as there), else fetched with mmdebstrap (Debian package)
#     without touching apt sources.
#
# Constants and struct layouts only: no functions (generated downcalls use SymbolLookup.findOrThrow,
# which is JDK 23+, and the project compiles with --release 22).
# After regenerating, run `mvn -pl kvm-bindings test`: BindingsMatchCompilerTest re-checks every
# constant and offset against aarch64-linux-gnu-gcc.
set -eu

# Pinned header package (Debian trixie, Architecture: all, contains the arm64 asm headers).
# Keep in step with README.md and scripts/fetch-uapi-headers.sh.
LINUX_LIBC_DEV_VERSION=${LINUX_LIBC_DEV_VERSION:-6.12.117-1}
SUITE=trixie

here=$(cd "$(dirname "$0")" && pwd)
out="$here/../src/main/java/dev/jvmm/kvm/uapi"

command -v jextract >/dev/null 2>&1 || { echo "regen.sh: jextract not on PATH (needs one built against libclang 13-15)" >&2; exit 1; }
jextract --version 2>&1 | sed 's/^/regen.sh: /' >&2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# scripts/fetch-uapi-headers.sh's cache (the headers BindingsMatchCompilerTest compiles against) is
# used when it holds exactly the pinned version; otherwise the pinned package is fetched here.
cache=${JVMM_UAPI_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/jvmm/uapi-arm64}
if [ "$(cat "$cache/.linux-libc-dev-version" 2>/dev/null)" = "$LINUX_LIBC_DEV_VERSION" ] \
   && [ -f "$cache/usr/share/doc/linux-libc-dev/changelog.Debian.gz" ]; then
  echo "regen.sh: headers from $cache" >&2
  mkdir "$tmp/root"
  cp -a "$cache/usr" "$tmp/root/"
else
  command -v mmdebstrap >/dev/null 2>&1 || { echo "regen.sh: mmdebstrap not installed (apt-get install mmdebstrap)" >&2; exit 1; }
  mmdebstrap --quiet --variant=extract --mode=chrootless --arch=arm64 \
    --include="linux-libc-dev=$LINUX_LIBC_DEV_VERSION" "$SUITE" "$tmp/uapi.tar"
  mkdir "$tmp/root"
  # usr/include/<triplet>/asm are symlinks into usr/lib/linux/uapi/<arch>/asm
  tar -xf "$tmp/uapi.tar" -C "$tmp/root" ./usr/include ./usr/lib/linux ./usr/share/doc/linux-libc-dev
fi
got=$(gzip -dc "$tmp/root/usr/share/doc/linux-libc-dev/changelog.Debian.gz" | sed -n '1s/^linux (\([^)]*\)).*/\1/p')
[ "$got" = "$LINUX_LIBC_DEV_VERSION" ] || { echo "regen.sh: got linux-libc-dev $got, expected $LINUX_LIBC_DEV_VERSION" >&2; exit 1; }

# jextract reads compile_flags.txt (--target=aarch64-linux-gnu, -nostdlibinc) from the current
# directory only, so run it from a directory holding exactly our inputs. Relative paths keep
# absolute temp paths out of the generated comments.
mkdir "$tmp/run"
cp "$here/compile_flags.txt" "$here/kvm_vmm.h" "$here/kvm-includes.txt" "$tmp/run/"
ln -s "$tmp/root/usr/include" "$tmp/run/include"
cd "$tmp/run"
jextract -I include/aarch64-linux-gnu -I include \
  --target-package dev.jvmm.kvm.uapi --header-class-name KvmUapi \
  --output gen @kvm-includes.txt kvm_vmm.h

rm -rf "$out"
mkdir -p "$out"
cp gen/dev/jvmm/kvm/uapi/*.java "$out/"
echo "regen.sh: wrote $(ls "$out" | wc -l) files to $out from linux-libc-dev $LINUX_LIBC_DEV_VERSION ($SUITE, arm64)" >&2
