#!/bin/sh
# Inside the arm64 lab's L1 (busybox sh): boots the test kernel + initramfs RUNS times under jvmm and
# under Debian's QEMU (peer-qemu), interleaved, each with one virtio-blk disk on the same raw image in
# L1's /tmp (RAM), and has the guest time a sequential direct-I/O write, a read, and the write again
# (the first pass is also the VMM's first use of its disk path: for jvmm, its JIT warm-up):
#   dd if=/dev/zero of=/dev/vda bs=1M count=MIB oflag=direct
#   dd if=/dev/vda of=/dev/null bs=1M count=MIB iflag=direct
#   dd if=/dev/zero of=/dev/vda bs=1M count=MIB oflag=direct
# Prints MiB/s per run and the median per VMM. Run by bench/blk-bench on the host; by hand:
#   ./lab run -- sh bench/blk-bench-l1.sh [MIB] [RUNS]
# Clock: the guest's /proc/uptime (10 ms) around each dd, so VMM start-up and boot are not counted.
# JVMM_BENCH_BASE_JAR=PATH (a jar L1 can read, e.g. under /mnt/host) adds a third VMM, "base": that
# jar under the same jvmm wrapper, run before jvmm in each round (before/after in one boot).
mib=${1:-128} runs=${2:-2}
img=${JVMM_IMAGES:?JVMM_IMAGES is not set (run this inside ./lab)}
out=/tmp/blk-bench disk=/tmp/blk-bench/disk.img
rm -rf "$out"; mkdir -p "$out"
dd if=/dev/zero of="$disk" bs=1M count="$mib" 2>/dev/null || { echo "blk-bench: cannot create $disk" >&2; exit 1; }

cmd=$(cat <<SH | base64 | tr -d '\n'
read a _ </proc/uptime; dd if=/dev/zero of=/dev/vda bs=1M count=$mib oflag=direct 2>/dev/null; rc=\$?; read b _ </proc/uptime; echo BLK-WRITE \$rc \$a \$b
read a _ </proc/uptime; dd if=/dev/vda of=/dev/null bs=1M count=$mib iflag=direct 2>/dev/null; rc=\$?; read b _ </proc/uptime; echo BLK-READ \$rc \$a \$b
read a _ </proc/uptime; dd if=/dev/zero of=/dev/vda bs=1M count=$mib oflag=direct 2>/dev/null; rc=\$?; read b _ </proc/uptime; echo BLK-WRITE2 \$rc \$a \$b
SH
)
args="quiet jvmm.modules=virtio_mmio,virtio_blk jvmm.cmd=$cmd"
# both VMMs on virtio-mmio (QEMU: virtio-blk-device), so the transport is the same on both sides

one() { # $1: vmm, $2: run; the rest: the command
  vmm=$1 i=$2; shift 2
  "$@" > "$out/$vmm.$i.log" 2>&1
  rc=$?
  tr -d '\r' < "$out/$vmm.$i.log" | awk -v vmm="$vmm" -v i="$i" -v mib="$mib" -v rc="$rc" '
    /^BLK-(WRITE|READ|WRITE2) / { s = $4 - $3; r[$1] = ($2 == 0 && s > 0) ? sprintf("%.1f", mib / s) : "FAILED"; t[$1] = s }
    END { w = ("BLK-WRITE" in r) ? r["BLK-WRITE"] : "FAILED"; d = ("BLK-READ" in r) ? r["BLK-READ"] : "FAILED"
          w2 = ("BLK-WRITE2" in r) ? r["BLK-WRITE2"] : "FAILED"
          printf "%s %s %s %s %s %s\n", vmm, i, w, d, rc, w2 }' >> "$out/results"
  tail -n 1 "$out/results" | awk -v mib="$mib" '{ printf "run %-5s #%s: write %s MiB/s, read %s MiB/s, write again %s MiB/s (%s MiB each), exit code %s\n", $1, $2, $3, $4, $6, mib, $5 }' >&2
}

echo "blk-bench: $runs runs each; $mib MiB per pass, bs=1M, O_DIRECT in the guest; image $disk (L1 tmpfs)" >&2
[ -z "${JVMM_BENCH_BASE_JAR:-}" ] || echo "blk-bench: base = $JVMM_BENCH_BASE_JAR" >&2
echo "blk-bench: kernel $img/Image, initrd $img/initramfs.gz, -c 1 -m 256; L1 $(uname -r), $(nproc) CPUs" >&2
i=1
while [ "$i" -le "$runs" ]; do
  if [ -n "${JVMM_BENCH_BASE_JAR:-}" ]; then
    one base "$i" env JVMM_JAR="$JVMM_BENCH_BASE_JAR" jvmm run -k "$img/Image" -i "$img/initramfs.gz" -c 1 -m 256 -p "$args" --disk "path=$disk" --virtio-transport mmio
  fi
  one jvmm "$i" jvmm run -k "$img/Image" -i "$img/initramfs.gz" -c 1 -m 256 -p "$args" --disk "path=$disk" --virtio-transport mmio
  one qemu "$i" peer-qemu -k "$img/Image" -i "$img/initramfs.gz" -a "$args" -- \
    -drive "file=$disk,if=none,format=raw,id=d0" -device virtio-blk-device,drive=d0
  i=$((i + 1))
done

awk '
  function median(s,   a, k, m, x, y, t) { k = split(s, a, " ")
    for (x = 2; x <= k; x++) { t = a[x]; for (y = x - 1; y >= 1 && a[y] + 0 > t + 0; y--) a[y + 1] = a[y]; a[y + 1] = t }
    m = int((k + 1) / 2); return k % 2 ? a[m] : (a[m] + a[m + 1]) / 2 }
  { if ($3 == "FAILED" || $4 == "FAILED" || $5 != 0 || $6 == "FAILED") { bad[$1] = bad[$1] " #" $2; next }
    w[$1] = w[$1] (w[$1] == "" ? "" : " ") $3; r[$1] = r[$1] (r[$1] == "" ? "" : " ") $4
    w2[$1] = w2[$1] (w2[$1] == "" ? "" : " ") $6 }
  END {
    printf "%-6s | %-30s | %-30s | %-30s\n", "VMM", "seq write MiB/s", "seq read MiB/s", "seq write again MiB/s"
    printf "%-6s | %-30s | %-30s | %-30s\n", "", "median  [runs]", "median  [runs]", "median  [runs]"
    split("base jvmm qemu", vmms, " ")
    for (v = 1; v <= 3; v++) {
      m = vmms[v]
      if (!(m in w) && !(m in bad)) continue
      printf "%-6s | %6.1f  %-22s | %6.1f  %-22s | %6.1f  %-22s%s\n", m, median(w[m]), "[" w[m] "]", median(r[m]), "[" r[m] "]", median(w2[m]), "[" w2[m] "]", (m in bad ? "  FAILED:" bad[m] : "")
    }
    if (("jvmm" in w) && ("qemu" in w)) printf "blk-bench: jvmm/qemu write %.2f, read %.2f, write again %.2f\n", median(w["jvmm"]) / median(w["qemu"]), median(r["jvmm"]) / median(r["qemu"]), median(w2["jvmm"]) / median(w2["qemu"])
    if (("base" in w) && ("qemu" in w)) printf "blk-bench: base/qemu write %.2f, read %.2f, write again %.2f\n", median(w["base"]) / median(w["qemu"]), median(r["base"]) / median(r["qemu"]), median(w2["base"]) / median(w2["qemu"])
  }' "$out/results"
! awk '$3 == "FAILED" || $4 == "FAILED" || $5 != 0 || $6 == "FAILED"' "$out/results" | grep -q .   # status 1 if any run failed
