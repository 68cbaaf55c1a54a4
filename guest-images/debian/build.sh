#!/usr/bin/env bash
# Builds a real arm64 Debian system for jvmm guests from Debian packages only (called by
# guest-images/lab/build.sh, in parallel with its other steps):
#   $LAB/images/debian-root.img    raw ext4 on the whole device (2 GiB, sparse): trixie's essential
#                                  set, systemd + systemd-sysv, udev, initramfs-tools, iproute2, and
#                                  the modules of the guest kernel ($LAB/images/Image)
#   $LAB/images/debian-initrd.img  Debian's own initrd, made by its mkinitramfs for that kernel
# Usage: build.sh KROOT   (KROOT: the extracted linux-image-arm64 root, /usr/lib/modules/<release>)
# Cached in $LAB/build/debian/ under a key (package list, these scripts, kernel release): a rebuild
# of the other lab parts does not redo it.
#
# How, and why this way (measured on a 2-core x86_64 host; see guest-images/README.md):
#  1. mmdebstrap --variant=extract (host-native, nothing executed) resolves, downloads and lays out
#     the packages.
#  2. The host's own dpkg installs them with --root: unpacking is native, only the maintainer
#     scripts run chrooted as arm64 binaries through qemu-user, registered in a private
#     binfmt_misc of a user namespace (arm64-ns.py), so the host's binfmt_misc is untouched.
#     (mmdebstrap's chroot modes run dpkg itself under emulation, which is what took ~26 min.)
#  3. The big vendor/model ID tables of udev's hwdb are left out: udev's postinst compiles the hwdb
#     under emulation (60 s with them, a few s without); they only name USB/PCI/OUI vendors.
#  4. The guest kernel's modules are copied from KROOT, the host's depmod indexes them, the
#     guest's mkinitramfs (MODULES=list) runs in the chroot, mke2fs -d writes the image natively.
# Every exec under qemu-user costs ~50 ms (each process translates ld.so and libc afresh), so the
# emulated part is what remains: the maintainer scripts (~2-3 min) and mkinitramfs (~1.5 min).
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
repo=$(cd "$here/../.." && pwd)
LAB=${LAB:-$repo/.lab}
kroot=${1:?usage: build.sh KROOT}
D=$LAB/build/debian
SUITE=trixie
# login: agetty's serial gettys (ttyS0, hvc0) exec it; e2fsprogs: fsck.ext4 and the ext4 tools;
# zstd: the initrd's compressor (initramfs-tools' default; without it, gzip under emulation: ~1 min);
# dbus: the system bus systemd-logind and systemctl's peers need (systemd's Recommends)
PKGS=systemd,systemd-sysv,udev,initramfs-tools,iproute2,e2fsprogs,login,zstd,dbus

IMG_SIZE=1G
QEMU=/usr/bin/qemu-aarch64-static
in_ns() { env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
  DEBCONF_NONINTERACTIVE_SEEN=true python3 "$here/arm64-ns.py" "$QEMU" -- "$@"; }

fail() { echo "debian build: FAILED: $*" >&2; exit 1; }
t0=$(date +%s.%N)
step() { printf 'debian build: %-42s (%5.1f s)\n' "$1" "$(echo "$(date +%s.%N) - $t0" | bc)" >&2; }

[ "$(id -u)" = 0 ] || fail "needs root (a user namespace mapping the host's ids, for dpkg's chroot)"
for t in mmdebstrap dpkg depmod mke2fs python3 "$QEMU"; do
  command -v "$t" >/dev/null || fail "$t is not installed (run scripts/setup-host.sh)"
done
kver=$(ls "$kroot/usr/lib/modules" 2>/dev/null | head -n1)
[ -n "$kver" ] && [ -d "$kroot/usr/lib/modules/$kver/kernel" ] || fail "no kernel modules in $kroot/usr/lib/modules"

# Two cache levels: the installed package root ($D/installed, steps 1-2, the slow part) under a key
# of what makes it (bump INSTALL_RECIPE when steps 1-2 change), and the images under a key of
# everything; a change to the configuration, the boot contract or the kernel redoes only steps 3-5.
INSTALL_RECIPE=1
excludes=('/usr/share/doc/*' '/usr/share/man/*' '/usr/share/info/*' '/usr/share/locale/*'
  '/usr/lib/udev/hwdb.d/20-*')
ikey="$SUITE|$PKGS|${excludes[*]}|$INSTALL_RECIPE|$(sha256sum < "$here/arm64-ns.py" | cut -c1-16)"
key="$ikey|$IMG_SIZE|$kver|$(cat "$here"/build.sh $(find "$here"/rootfs -type f | sort) | sha256sum | cut -c1-16)"
if [ "$(cat "$D/key" 2>/dev/null)" = "$key" ] && [ -f "$LAB/images/debian-root.img" ] \
   && [ -f "$LAB/images/debian-initrd.img" ]; then
  step "cached (key unchanged)"
  exit 0
fi
rm -f "$D/key" "$LAB/images/debian-root.img" "$LAB/images/debian-initrd.img"
mkdir -p "$LAB/images"
i=$D/installed
if [ "$(cat "$D/installed.key" 2>/dev/null)" != "$ikey" ] || [ ! -d "$i" ]; then
rm -rf "$D"
mkdir -p "$D"

# ---- 1. download and extract (native) --------------------------------------------------------
# The extract hook keeps the .debs for step 2 and drops what step 2 would not unpack (the
# path-excludes), so nothing excluded lingers from the extraction.
hook='mkdir -p "$1/../debs" && cp -l "$1"/var/cache/apt/archives/*.deb "$1/../debs/"'
for e in "${excludes[@]}"; do hook+="; rm -rf \"\$1\"$e"; done   # the hook's shell expands the globs
mmdebstrap --variant=extract --mode=chrootless --arch=arm64 --include='?essential' --include="$PKGS" \
  --extract-hook="$hook" "$SUITE" "$i" >"$D/mmdebstrap.log" 2>&1 \
  || fail "mmdebstrap of $PKGS ($SUITE, arm64): $(grep -m1 '^E:' "$D/mmdebstrap.log" | cut -c1-160) (log: $D/mmdebstrap.log)"
step "downloaded and extracted $(ls "$D/debs" | wc -l) packages"

# ---- 2. install: the host's dpkg unpacks, the maintainer scripts run as arm64 in the chroot ----
# base-passwd and base-files first: their preinsts make /etc/passwd and the layout the others need
# (--force-depends: dpkg alone does not order pre-dependencies; all of them are in the set)
debs=("$D"/debs/base-passwd_*.deb "$D"/debs/base-files_*.deb)
for f in "$D"/debs/*.deb; do case ${f##*/} in base-passwd_*|base-files_*) ;; *) debs+=("$f") ;; esac; done
dpkgopts=(--root="$i" --log="$i/var/log/dpkg.log" --force-depends --force-unsafe-io)
for e in "${excludes[@]}"; do dpkgopts+=(--path-exclude="$e"); done
in_ns dpkg "${dpkgopts[@]}" --install "${debs[@]}" >"$D/dpkg.log" 2>&1 \
  || fail "dpkg --install in the arm64 root: $(grep -m1 -i 'error' "$D/dpkg.log" | cut -c1-160) (log: $D/dpkg.log)"
bad=$(grep '^Status: ' "$i/var/lib/dpkg/status" | grep -vc 'install ok installed' || true)
[ "$bad" = 0 ] || fail "$bad packages not configured in the arm64 root (log: $D/dpkg.log)"
rm -rf "$i"/var/cache/apt/archives/*.deb "$i"/var/lib/apt/lists/* "$D/debs"
echo "$ikey" > "$D/installed.key"
step "installed and configured ($(grep -c '^Package: ' "$i/var/lib/dpkg/status") packages)"
fi
r=$D/root
rm -rf "$r"; cp -a "$i" "$r"

# ---- 3. the system's configuration and jvmm's boot contract --------------------------------------
cp -a "$here"/rootfs/. "$r"/
chmod 0755 "$r/usr/local/sbin/jvmm-boot"
echo jvmm-debian > "$r/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tjvmm-debian\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' > "$r/etc/hosts"
# the root is mounted rw by the initrd (root=/dev/vda rw); no fsck pass: every boot is a fresh copy
printf '/dev/vda\t/\text4\tdefaults\t0\t0\n' > "$r/etc/fstab"
ln -sfn /usr/lib/systemd/system/jvmm-boot.service "$r/etc/systemd/system/multi-user.target.wants/jvmm-boot.service"

# ---- 4. the guest kernel's modules and Debian's initrd for it -----------------------------------
mkdir -p "$r/usr/lib/modules"
cp -a "$kroot/usr/lib/modules/$kver" "$r/usr/lib/modules/"
# the host's depmod (native; the guest's would decompress every module under emulation: ~1.5 min)
# writes the same modules.dep/alias/symbols, and the .bin indexes in kmod's stable format
depmod -b "$r" "$kver" >"$D/depmod.log" 2>&1 || fail "depmod $kver (log: $D/depmod.log)"
in_ns chroot "$r" mkinitramfs -o "/boot/initrd.img-$kver" "$kver" >"$D/mkinitramfs.log" 2>&1 \
  || fail "mkinitramfs $kver (log: $D/mkinitramfs.log)"
cp "$r/boot/initrd.img-$kver" "$LAB/images/debian-initrd.img.tmp"
step "modules of $kver and the initrd ($(du -k "$r/boot/initrd.img-$kver" | cut -f1) KiB)"

# ---- 5. the image ------------------------------------------------------------------------------
# what ConditionNeedsUpdate= units (ldconfig, hwdb, journal catalog) would redo at the first boot was
# done by the maintainer scripts and depmod above: mark /etc and /var up to date with /usr
touch "$r/etc/.updated" "$r/var/.updated"
rm -f "$D/root.img"
mke2fs -q -t ext4 -L debian-root -E root_owner=0:0 -d "$r" "$D/root.img" "$IMG_SIZE" \
  || fail "mke2fs -d of the root"
mv "$D/root.img" "$LAB/images/debian-root.img"
mv "$LAB/images/debian-initrd.img.tmp" "$LAB/images/debian-initrd.img"
echo "$key" > "$D/key"
step "debian-root.img ($(du -m "$LAB/images/debian-root.img" | cut -f1) MiB used of $IMG_SIZE)"
