#!/bin/sh
# Inside the arm64 lab's L1 (busybox sh): runs the bare-metal exit micro-benchmark N times under jvmm
# and under Debian's QEMU (peer-qemu), interleaved, and prints ns per exit (medians) and a last line with
# the figures. Run by bench/exit-bench on the host; by hand:  ./lab run -- sh bench/exit-bench-l1.sh [N]
# The guest (guest-images/baremetal/exit-bench.S) times itself with the virtual counter and prints
#   EXIT-BENCH <kind> <first|warm|steady> n=<exits> ticks=<ticks> ns=<ns per exit>
# for kind mmio (a UART register read the VMM emulates in userspace), hvc-kvm (SMCCC_VERSION, answered
# inside KVM) and hvc-user (SDEI_VERSION, forwarded by KVM's SMCCC filter to jvmm --sdei; QEMU has no
# such path: KVM answers NOT_SUPPORTED and the guest skips it). Batches: the first 1,000 exits of a
# kind, then 9,000 (warm-up), then 20,000 (steady state).
#   jvmm: jvmm run -k exit-bench.img --sdei          (8250 at 0x1000000, LSR read)
#   qemu: peer-qemu -k exit-bench-virt.img (no initrd)  (QEMU virt, PL011 at 0x9000000, FR read)
n=${1:-3}
img=${JVMM_IMAGES:?JVMM_IMAGES is not set (run this inside ./lab)}
out=/tmp/exit-bench
rm -rf "$out"; mkdir -p "$out"
for f in exit-bench.img exit-bench-virt.img; do
  [ -f "$img/$f" ] || { echo "exit-bench: $img/$f is missing (rebuild the lab: ./lab build)" >&2; exit 1; }
done

one() { # $1: vmm name, $2: run number; the rest: the command
  vmm=$1 i=$2; shift 2
  read t0 _ < /proc/uptime
  "$@" > "$out/$vmm.$i.log" 2> "$out/$vmm.$i.err"
  rc=$?
  read t1 _ < /proc/uptime
  tr -d '\r' < "$out/$vmm.$i.log" | awk -v vmm="$vmm" -v i="$i" -v rc="$rc" -v wall="$t0 $t1" -v res="$out/results" '
    $1 == "EXIT-BENCH" && $4 ~ /^n=/ { split($6, v, "="); print vmm, i, $2 "-" $3, v[2] >> res; ns[$2 "-" $3] = v[2] }
    $1 == "EXIT-BENCH" && $2 == "hvc-user" && $3 !~ /^(first|warm|steady)$/ { user = $3 " " $4 }
    $1 == "EXIT-BENCH" && $2 == "DONE" { done = 1 }
    END { split(wall, w, " ")
      printf "run %-5s #%s: mmio %s / %s ns, hvc-kvm %s / %s ns, hvc-user %s (first-1000 / steady per exit); %.1f s, exit code %s%s\n",
        vmm, i, ns["mmio-first"], ns["mmio-steady"], ns["hvc-kvm-first"], ns["hvc-kvm-steady"],
        ("hvc-user-steady" in ns) ? ns["hvc-user-first"] " / " ns["hvc-user-steady"] " ns" : "not forwarded (" user ")",
        w[2] - w[1], rc, (done && rc == 0) ? "" : ", FAILED"
      if (!done || rc != 0) print vmm, i, "failed", 1 >> res }' >&2
}

echo "exit-bench: $n runs each, interleaved; guest $img/exit-bench.img (jvmm, --sdei) and exit-bench-virt.img (QEMU virt), -c 1 -m 256" >&2
echo "exit-bench: L1 $(uname -r), $(nproc) CPUs; java $(java -version 2>&1 | head -n 1); $(qemu-system-aarch64 --version | head -n 1)" >&2
i=1
while [ "$i" -le "$n" ]; do
  one jvmm "$i" jvmm run -k "$img/exit-bench.img" -c 1 -m 256 --sdei --timeout 10m
  one qemu "$i" peer-qemu -k "$img/exit-bench-virt.img" -i ''
  i=$((i + 1))
done

awk '
  function median(s,   a, k, m, x, y, t) { k = split(s, a, " ")
    for (x = 2; x <= k; x++) { t = a[x]; for (y = x - 1; y >= 1 && a[y] + 0 > t + 0; y--) a[y + 1] = a[y]; a[y + 1] = t }
    m = int((k + 1) / 2); return k % 2 ? a[m] : (a[m] + a[m + 1]) / 2 }
  function med(vmm, key) { return (vmm SUBSEP key) in v ? median(v[vmm, key]) : "" }
  function ns(x) { return x == "" ? "n/a" : sprintf("%d", x + 0.5) }
  function ratio(a, b) { return (a != "" && b > 0) ? sprintf("%.2f", a / b) : "n/a" }
  $3 == "failed" { bad[$1] = bad[$1] " #" $2; next }
  { sep = (($1 SUBSEP $3) in v) ? " " : ""; v[$1, $3] = v[$1, $3] sep $4 }
  END {
    printf "%-16s | %-34s | %s\n", "ns per exit", "jvmm median  [runs]", "qemu median  [runs]"
    split("mmio-first mmio-warm mmio-steady hvc-kvm-first hvc-kvm-warm hvc-kvm-steady hvc-user-first hvc-user-warm hvc-user-steady", keys, " ")
    for (k = 1; k <= 9; k++) {
      row = sprintf("%-16s", keys[k])
      for (m = 1; m <= 2; m++) {
        vmm = m == 1 ? "jvmm" : "qemu"
        cell = ((vmm SUBSEP keys[k]) in v) ? sprintf("%9s  [%s]", ns(med(vmm, keys[k])), v[vmm, keys[k]]) : sprintf("%9s", "-")
        row = row " | " (m == 1 ? sprintf("%-34s", cell) : cell)
      }
      print row
    }
    failed = ("jvmm" in bad) || ("qemu" in bad)
    if (failed) printf "FAILED runs: jvmm%s; qemu%s\n", bad["jvmm"], bad["qemu"]
    mf = med("jvmm", "mmio-first"); ms = med("jvmm", "mmio-steady")
    hf = med("jvmm", "hvc-user-first"); hs = med("jvmm", "hvc-user-steady"); qs = med("qemu", "mmio-steady")
    printf "exit-bench: in-KVM hypercall (SMCCC_VERSION, no userspace exit) steady: jvmm %s ns, qemu %s ns\n",
      ns(med("jvmm", "hvc-kvm-steady")), ns(med("qemu", "hvc-kvm-steady"))
    printf "exit-bench: jvmm mmio first-1000 %s ns, steady %s ns (ratio %s); hypercall first-1000 %s ns, steady %s ns (ratio %s); qemu mmio steady %s ns (jvmm/qemu %s)\n",
      ns(mf), ns(ms), ratio(mf, ms), ns(hf), ns(hs), ratio(hf, hs), ns(qs), ratio(ms, qs)
    exit failed   # status 1 if any run failed or did not finish
  }' "$out/results"
