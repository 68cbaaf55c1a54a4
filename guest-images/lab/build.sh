#!/usr/bin/env bash
# Builds the arm64 lab and the guest images into $LAB (the repo's .lab/) from Debian packages only.
#   $LAB/images/      Image (trixie's arm64 kernel), initramfs.gz, hello.img, spin.img, reset.img, ...,
#                     cmdline-raw.bin (a raw binary: guest-images/baremetal/*-raw.S)
#   $LAB/images/Image-new  the newer L1 kernel (LAB_KERNEL=new): the newest linux-image-arm64 of
#                     $SUITE-backports (7.x, with KVM_REG_ARM_VENDOR_HYP_BMAP_2); L1 only, never a guest
#   $LAB/l1.cpio      the L1 root: busybox init, OpenJDK 25, qemu-system-arm (the peer VMM), and the
#                     L1 modules of both kernels (/lib/modules-lab/<release>/)
#   $LAB/images/debian-root.img, debian-initrd.img  a real Debian system for the guest kernel: ext4 root
#                     image and Debian's own initrd (guest-images/debian/build.sh, in the background
#                     from step 2 on, cached in $LAB/build/debian under its own key)
#   $LAB/build/       extracted package roots (cached by package list) and logs; build/modroot is an
#                     arm64 root with gcc-14 and the kernel's headers, where L1 builds test modules
#                     (guest-images/modules/build-in-l1.sh) for exactly the guest kernel
# Called by ./lab when the stamp (a hash of these scripts and package lists) is out of date.
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
repo=$(cd "$here/../.." && pwd)
LAB=${LAB:-$repo/.lab}
B=$LAB/build
SUITE=trixie
KERNEL_PKGS=linux-image-arm64
# the second L1 kernel: the same meta package from backports (its Image and modules are in
# linux-binary-* / linux-modules-*, which it depends on). Extracted into its own root with its own
# key, in parallel with the others, so adding or changing it re-extracts nothing else.
NEW_KERNEL_SUITE=$SUITE-backports
NEW_KERNEL_PKGS=linux-image-arm64
L1_PKGS=busybox-static,openjdk-25-jre-headless,qemu-system-arm
# the compiler Debian built the kernel with, its headers and what kbuild runs (make, sh, sed, awk, ...)
MOD_PKGS=linux-headers-arm64,gcc-14,make,libc6-dev,binutils,dash,sed,grep,mawk,findutils,diffutils,coreutils
# modules L1 loads: the 9p share, and tun + bridge for guests' tap networking (boot tier, virtio-net).
# The test initramfs ships the virtio-mmio transport and devices (virtio_console is built in, but
# like the rest it only appears once virtio_mmio is loaded) and ext4, which also mounts ext2.
L1_MODULES="netfs 9pnet 9pnet_virtio 9p tun bridge"
GUEST_MODULES="virtio_mmio virtio_blk virtio_net virtio_rng arm_smccc_trng ext4"
# dependencies modinfo does not list (the kernel asks for them by alias at run time, through a
# modprobe the initramfs does not have): ext4 mounts only with the crc32c crypto driver loaded
GUEST_SOFTDEPS="ext4:crc32c_generic"

fail() { echo "lab build: FAILED: $*" >&2; exit 1; }
t0=$(date +%s.%N)
step() { printf 'lab build: %-44s (%5.1f s)\n' "$1" "$(echo "$(date +%s.%N) - $t0" | bc)" >&2; }

mkdir -p "$B" "$LAB/images"
free_kib=$(df -Pk "$LAB" | awk 'NR==2 {print $4}')
[ "$free_kib" -ge $((2 * 1024 * 1024)) ] || fail "not enough disk space in $LAB (need 2 GiB, have $((free_kib / 1024)) MiB)"

if [ "$(uname -m)" = aarch64 ]; then CROSS=; else CROSS=aarch64-linux-gnu-; fi
for tool in mmdebstrap xz "${CROSS}gcc" "${CROSS}ld" "${CROSS}objcopy" python3 bc; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (run scripts/setup-host.sh)"
done

# ---- 1. package roots, re-extracted only when the package lists change --------------------------
debstrap() { # $1 out dir, $2 packages; mmdebstrap's own default mirror, nothing is executed
  rm -rf "$1"
  mmdebstrap --variant=extract --mode=chrootless --arch=arm64 --include="$2" "$SUITE" "$1" \
    >"$1.log" 2>&1
}
# $1 out dir, $2 packages taken from suite $3 (e.g. trixie-backports): the hook adds $3 on the line
# of mmdebstrap's own default mirror, so no archive host is named here; apt takes each package's
# dependencies from $3 too where their versions need it.
debstrap_from() {
  rm -rf "$1"
  mmdebstrap --variant=extract --mode=chrootless --arch=arm64 --include="$2/$3" \
    --setup-hook="sed -n 's/^\(deb .*\) $SUITE main\$/\1 $3 main/p' \"\$1/etc/apt/sources.list\" > \"\$1/etc/apt/sources.list.d/$3.list\"" \
    "$SUITE" "$1" >"$1.log" 2>&1
}
why() { grep -m1 "^E:" "$1" | cut -c1-160; }   # the first apt error names the cause
knew_key="$NEW_KERNEL_SUITE|$NEW_KERNEL_PKGS"
npid=
if [ "$(cat "$B/knew.key" 2>/dev/null)" != "$knew_key" ]; then
  rm -f "$B/knew.key"
  debstrap_from "$B/knewroot" "$NEW_KERNEL_PKGS" "$NEW_KERNEL_SUITE" & npid=$!
fi
roots_key="$SUITE|$KERNEL_PKGS|$L1_PKGS|$MOD_PKGS"
if [ "$(cat "$B/roots.key" 2>/dev/null)" != "$roots_key" ]; then
  rm -f "$B/roots.key"
  debstrap "$B/kroot" "$KERNEL_PKGS" & kpid=$!
  debstrap "$B/l1root" "$L1_PKGS" & lpid=$!
  debstrap "$B/modroot" "$MOD_PKGS" & mpid=$!
  krc=0; wait $kpid || krc=$?
  lrc=0; wait $lpid || lrc=$?
  mrc=0; wait $mpid || mrc=$?
  [ $krc = 0 ] || fail "mmdebstrap of $KERNEL_PKGS ($SUITE, arm64): $(why "$B/kroot.log") (log: $B/kroot.log)"
  [ $lrc = 0 ] || fail "mmdebstrap of $L1_PKGS ($SUITE, arm64): $(why "$B/l1root.log") (log: $B/l1root.log)"
  [ $mrc = 0 ] || fail "mmdebstrap of $MOD_PKGS ($SUITE, arm64): $(why "$B/modroot.log") (log: $B/modroot.log)"
  # extract mode makes no merged-/usr links and runs no maintainer scripts: make what chroot + kbuild need
  m=$B/modroot
  ln -sfn usr/bin "$m/bin"; ln -sfn usr/sbin "$m/sbin"; ln -sfn usr/lib "$m/lib"
  ln -sfn dash "$m/usr/bin/sh"; ln -sfn mawk "$m/usr/bin/awk"
  mkdir -p "$m/dev" "$m/proc" "$m/tmp" "$m/build"
  echo "$roots_key" > "$B/roots.key"
  step "extracted arm64 packages from $SUITE"
fi
if [ -n "$npid" ]; then
  nrc=0; wait $npid || nrc=$?
  [ $nrc = 0 ] || fail "mmdebstrap of $NEW_KERNEL_PKGS ($NEW_KERNEL_SUITE, arm64): $(why "$B/knewroot.log") (log: $B/knewroot.log)"
  echo "$knew_key" > "$B/knew.key"
  step "extracted the newer L1 kernel from $NEW_KERNEL_SUITE"
fi

# ---- 2. kernel and modules -------------------------------------------------------------------
# the Debian system image needs only the kernel's modules (kroot): it builds while the rest goes on
bash "$repo/guest-images/debian/build.sh" "$B/kroot" 2>"$B/debian.log" & dpid=$!
trap 'kill $dpid 2>/dev/null' EXIT
kimage=$(ls "$B"/kroot/boot/vmlinuz-* 2>/dev/null | head -n1)
[ -n "$kimage" ] || fail "no /boot/vmlinuz-* in the extracted $KERNEL_PKGS"
kver=${kimage##*/vmlinuz-}
moddir=$B/kroot/usr/lib/modules/$kver/kernel
cp "$kimage" "$LAB/images/Image"
[ -d "$B/modroot/usr/src/linux-headers-${kimage##*/vmlinuz-}" ] \
  || fail "the module build root has no headers for ${kimage##*/vmlinuz-} (kernel and headers from different archive states?)"
echo "$kver" > "$LAB/images/kernel-version"

modpath() { # module name -> its .ko.xz ('-' and '_' are the same in module names)
  local n=$1 alt=${1//_/-}
  find "$moddir" \( -name "$n.ko*" -o -name "$alt.ko*" \) -print -quit
}
# Decompresses modules $3.. plus their dependencies (modinfo depends=, and $softdeps entries
# "module:dep") into $1 and writes $1/modules.dep ("name: dep dep") and $1/load-order
# (dependencies first) for busybox insmod.
copy_modules() {
  local dest=$1 softdeps=$2; shift 2
  rm -rf "$dest"; mkdir -p "$dest"; : > "$dest/modules.dep"; : > "$dest/load-order"
  local visit
  visit() {
    local m=$1 f deps d
    [ -f "$dest/$m.ko" ] && return 0
    f=$(modpath "$m"); [ -n "$f" ] || fail "kernel module $m not found in $kver"
    case $f in *.xz) xz -dc "$f" ;; *.zst) zstd -qdc "$f" ;; *.gz) gzip -dc "$f" ;; *) cat "$f" ;; esac > "$dest/$m.ko"
    deps=$(tr '\0' '\n' < "$dest/$m.ko" | sed -n 's/^depends=//p' | head -n1 | tr ',' ' ' | tr '-' '_')
    for d in $softdeps; do [ "${d%%:*}" = "$m" ] && deps="${d#*:} $deps"; done
    echo "$m: $deps" >> "$dest/modules.dep"
    for d in $deps; do visit "$d"; done
    echo "$m" >> "$dest/load-order"
  }
  for m in "$@"; do visit "$m"; done
}
rm -rf "$B/guest-root" "$B/l1-overlay"   # rebuilt from scratch: stale files must not linger
copy_modules "$B/guest-root/lib/modules-jvmm" "$GUEST_SOFTDEPS" $GUEST_MODULES
# L1 loads /lib/modules-lab/$(uname -r)/ (/lib is a symlink in L1): one directory per L1 kernel
copy_modules "$B/l1-overlay/usr/lib/modules-lab/$kver" "" $L1_MODULES
step "kernel $kver and modules"

# the newer L1 kernel: 7.x packages keep the Image as /usr/lib/modules/<release>/vmlinuz (an
# uncompressed arm64 Image, as trixie's), older ones as /boot/vmlinuz-<release>
nimage=$(ls "$B"/knewroot/usr/lib/modules/*/vmlinuz "$B"/knewroot/boot/vmlinuz-* 2>/dev/null | head -n1 || true)
[ -n "$nimage" ] || fail "no kernel Image in the extracted $NEW_KERNEL_PKGS ($NEW_KERNEL_SUITE)"
case $nimage in */boot/vmlinuz-*) nver=${nimage##*/vmlinuz-} ;; *) nver=$(basename "$(dirname "$nimage")") ;; esac
[ "$(dd if="$nimage" bs=1 skip=56 count=4 2>/dev/null | tr -d '\0')" = $'ARM\x64' ] \
  || fail "$nimage ($NEW_KERNEL_SUITE) is not an uncompressed arm64 Image"
cp "$nimage" "$LAB/images/Image-new"
echo "$nver" > "$LAB/images/kernel-version-new"
( kver=$nver moddir=$B/knewroot/usr/lib/modules/$nver/kernel
  copy_modules "$B/l1-overlay/usr/lib/modules-lab/$nver" "" $L1_MODULES ) || exit 1
step "newer L1 kernel $nver and its modules"

# ---- 3. the test initramfs (guest image) -----------------------------------------------------
g=$B/guest-root
mkdir -p "$g/bin" "$g/dev" "$g/proc" "$g/sys" "$g/tmp" "$g/root"
cp "$B/l1root/usr/bin/busybox" "$g/bin/busybox"
install -m 0755 "$repo/guest-images/initramfs/init" "$g/init"
python3 "$here/mkcpio.py" "$LAB/images/initramfs.gz" --gzip --dev dev/console:c:5:1 "$g"
step "initramfs.gz ($(du -k "$LAB/images/initramfs.gz" | cut -f1) KiB)"

# ---- 4. bare-metal test guests ------------------------------------------------------------------
# NAME.S -> NAME.img, an arm64 Image (image.ld, with the header); NAME-raw.S -> NAME-raw.bin, a flat
# binary without it (raw.ld), as bare-metal programs for kvmtool are: loaded at RAM + 0x80000.
bm=$repo/guest-images/baremetal
for src in "$bm"/*.S; do
  name=$(basename "$src" .S)
  [ "$name" = common ] && continue
  case $name in *-raw) ld_script=raw.ld out=$name.bin ;; *) ld_script=image.ld out=$name.img ;; esac
  "${CROSS}gcc" -c -o "$B/$name.o" "$src" || fail "assembling $src"
  # one RWX segment on purpose: the guests run with the MMU off and keep their variables in .data
  "${CROSS}ld" --no-warn-rwx-segments -T "$bm/$ld_script" -o "$B/$name.elf" "$B/$name.o" || fail "linking $name"
  "${CROSS}objcopy" -O binary "$B/$name.elf" "$LAB/images/$out"
  magic=$(dd if="$LAB/images/$out" bs=1 skip=56 count=4 2>/dev/null | tr -d '\0')
  case $out in
    *.img) [ "$magic" = $'ARM\x64' ] || fail "$out has no arm64 Image magic" ;;
    *.bin) [ "$magic" != $'ARM\x64' ] || fail "$out is raw but carries the arm64 Image magic" ;;
  esac
done
step "bare-metal guests"

# ---- 5. L1: the extracted root plus an overlay, one uncompressed cpio ------------------------------
o=$B/l1-overlay
mkdir -p "$o/usr/local/bin" "$o/usr/bin" "$o/proc" "$o/sys" "$o/dev" "$o/mnt/host" "$o/root" "$o/tmp"
ln -sfn usr/bin "$o/bin"; ln -sfn usr/sbin "$o/sbin"; ln -sfn usr/lib "$o/lib"   # merged /usr
ln -sfn busybox "$o/usr/bin/sh"
install -m 0755 "$here/l1-init" "$o/init"
for f in "$here"/l1-bin/*; do install -m 0755 "$f" "$o/usr/local/bin/"; done
jhome=$(ls -d "$B"/l1root/usr/lib/jvm/java-*-openjdk-arm64 | head -n1)
ln -sfn "/usr/lib/jvm/${jhome##*/}/bin/java" "$o/usr/local/bin/java"
python3 "$here/mkcpio.py" "$LAB/l1.cpio" --dev dev/console:c:5:1 \
  --exclude usr/share/doc --exclude usr/share/man --exclude usr/share/locale --exclude usr/share/info \
  --exclude usr/share/lintian --exclude var/cache --exclude var/lib/apt --exclude var/log \
  "$B/l1root" "$o"
step "l1.cpio ($(du -m "$LAB/l1.cpio" | cut -f1) MiB)"

# ---- 6. the Debian system (started in step 2) ----------------------------------------------------
drc=0; wait $dpid || drc=$?
trap - EXIT
[ $drc = 0 ] || fail "the Debian system image: $(grep -m1 FAILED "$B/debian.log" | cut -c1-200) (log: $B/debian.log)"
step "Debian system: $(tail -n 1 "$B/debian.log" | sed 's/^debian build: //; s/ *( *[0-9.]* s)$//')"
