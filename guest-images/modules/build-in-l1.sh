#!/bin/sh
# Builds an out-of-tree kernel module for the guest kernel inside the arm64 lab's L1 (run as root):
# the module build root (.lab/build/modroot, made by guest-images/lab/build.sh from Debian's arm64
# packages) holds gcc-14, make and linux-headers-<guest kernel>, so the module is built natively with
# the compiler and configuration Debian built that kernel with, and its vermagic/CRCs match.
#   build-in-l1.sh MODROOT SRCDIR OUTDIR     -> OUTDIR/<name>.ko (rebuilt only when a source changed)
set -eu
root=$1 src=$2 out=$3
name=$(basename "$src")
kdir=$(cd "$root/usr/src" && ls -d linux-headers-*-arm64 | head -n1)
[ -n "$kdir" ] || { echo "build-in-l1: no linux-headers-*-arm64 in $root/usr/src" >&2; exit 1; }
mkdir -p "$out"
ko=$out/$name.ko
if [ -f "$ko" ] && [ -z "$(find "$src" -newer "$ko" -type f)" ]; then exit 0; fi
work=$root/build/$name
rm -rf "$work"; mkdir -p "$work"
cp "$src"/* "$work"/
mount --bind /dev "$root/dev"          # make and gcc need /dev/null
trap 'umount "$root/dev"' EXIT
chroot "$root" /usr/bin/make -s -C "/usr/src/$kdir" M="/build/$name" modules >&2
cp "$work/$name.ko" "$ko"
