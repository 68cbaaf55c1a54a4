#!/bin/sh
# Inside the arm64 lab's L1: boots the real Debian system (guest-images/debian: systemd, udev, ext4
# root on a virtio-pci disk, Debian's initrd) N times under jvmm and under Debian's QEMU (peer-qemu),
# interleaved, each boot from its own pristine copy of the root image, and prints start ->
# JVMM-SYSTEM-OK (multi-user.target reached) and start -> exit (the image's jvmm-boot.service runs
# jvmm.cmd=true once the boot has finished, then powers off); the last line holds the jvmm/qemu
# ratios. Run by bench/debian-bench on the host, which makes the copies:
#   sh bench/debian-bench-l1.sh N DISKDIR    (DISKDIR/root-jvmm-I.img, DISKDIR/root-qemu-I.img)
# Clock: L1's /proc/uptime, as in bench/boot-bench-l1.sh (bench/l1-lib.sh).
n=${1:-3} disks=${2:?usage: debian-bench-l1.sh N DISKDIR}
img=${JVMM_IMAGES:?JVMM_IMAGES is not set (run this inside ./lab)}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/l1-lib.sh"
out=/tmp/debian-bench
cpus=2 ram_mib=1024 limit_s=900
rm -rf "$out"; mkdir -p "$out"
# jvmm.cmd=true (base64): the boot-contract service waits for the finished boot, runs it, powers off
args="root=/dev/vda rw quiet jvmm.cmd=$(printf true | base64 | tr -d '\n')"

one() { # $1: vmm name, $2: run number; the rest: the command
  vmm=$1 i=$2; shift 2
  read t0 _ < /proc/uptime
  { timeout "$limit_s" "$@" 2>"$out/$vmm.$i.err"; rc=$?; read t1 _ < /proc/uptime; echo "EXIT $rc $t1"; } \
    | bench_stamp > "$out/$vmm.$i.log"
  awk -v t0="$t0" -v vmm="$vmm" -v i="$i" '
    /JVMM-SYSTEM-OK/ && ok == "" { ok = $1 - t0 }
    /JVMM-CMD-EXIT=0/ { cmd = 1 }
    $2 == "EXIT" { rc = $3; t1 = $4 }
    END { printf "%s %s %.2f %.2f %s %d\n", vmm, i, (ok == "" ? -1 : ok), t1 - t0, rc, cmd }' "$out/$vmm.$i.log" >> "$out/results"
  tail -n 1 "$out/results" | awk '{
    printf "run %-5s #%s: JVMM-SYSTEM-OK %7.2f s, exit %7.2f s, exit code %s%s\n", $1, $2, $3, $4, $5,
      ($6 ? "" : ", NO JVMM-CMD-EXIT=0") }' >&2
}

echo "debian-bench: $n runs each; kernel $img/Image, initrd $img/debian-initrd.img, root $img/debian-root.img (a copy per run), -c $cpus -m $ram_mib, virtio-blk over PCI, '$args'" >&2
echo "debian-bench: L1 $(uname -r), $(nproc) CPUs; java $(java -version 2>&1 | head -n 1); $(qemu-system-aarch64 --version | head -n 1)" >&2
# the first jvmm call of a jar creates its AOT cache: not inside a measured run
{ jvmm --version && jvmm caps; } > /dev/null 2>&1   # both caches: --version's and the full one
i=1
while [ "$i" -le "$n" ]; do
  one jvmm "$i" jvmm run -k "$img/Image" -i "$img/debian-initrd.img" --disk "path=$disks/root-jvmm-$i.img" \
    -c "$cpus" -m "$ram_mib" --virtio-transport pci -p "$args"
  one qemu "$i" peer-qemu -k "$img/Image" -i "$img/debian-initrd.img" -a "$args" -- -smp "$cpus" -m "$ram_mib" \
    -drive "file=$disks/root-qemu-$i.img,format=raw,if=none,id=root" -device virtio-blk-pci,drive=root
  i=$((i + 1))
done

awk "$bench_awk_median"'
  { add(ok, $1, $3); add(ex, $1, $4)
    if ($5 != 0 || $3 < 0 || !$6) add(bad, $1, "#" $2 "(rc " $5 ")") }
  END {
    printf "%-6s | %-34s | %-34s\n", "VMM", "start -> JVMM-SYSTEM-OK (s)", "start -> exit (s)"
    printf "%-6s | %-34s | %-34s\n", "", "median  [runs]", "median  [runs]"
    for (v = 1; v <= 2; v++) {
      m = v == 1 ? "jvmm" : "qemu"
      if (!(m in ok)) continue
      printf "%-6s | %6.2f  [%s] | %6.2f  [%s]%s\n", m, median(ok[m]), ok[m], median(ex[m]), ex[m], (m in bad ? "  FAILED: " bad[m] : "")
    }
    printf "debian-bench: jvmm/qemu start-to-system-ok %s (jvmm %.2f s, qemu %.2f s), start-to-exit %s (jvmm %.2f s, qemu %.2f s)\n",
      ratio(median(ok["jvmm"]), median(ok["qemu"])), median(ok["jvmm"]), median(ok["qemu"]),
      ratio(median(ex["jvmm"]), median(ex["qemu"])), median(ex["jvmm"]), median(ex["qemu"])
    exit ("jvmm" in bad) || ("qemu" in bad)   # status 1 if any run failed or missed a marker
  }' "$out/results"
