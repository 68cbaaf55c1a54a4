#!/bin/sh
# Inside the arm64 lab's L1 (busybox sh; no python3 there): boots the test kernel + initramfs with
# "quiet" N times under jvmm and under Debian's QEMU (peer-qemu), interleaved, and prints a table of
# start -> JVMM-BOOT-OK and start -> process exit. Run by bench/boot-bench on the host; by hand:
#   ./lab run -- sh bench/boot-bench-l1.sh [N]
# Clock: L1's /proc/uptime (10 ms resolution), read by the shell builtin before the VMM is started
# and by awk as each console line arrives, so no fork sits between an event and its timestamp.
n=${1:-3}
img=${JVMM_IMAGES:?JVMM_IMAGES is not set (run this inside ./lab)}
out=/tmp/boot-bench
rm -rf "$out"; mkdir -p "$out"

stamp() { # prefix each stdin line with the uptime at its arrival; "EXIT rc" from the VMM goes through too
  awk '{ getline u < "/proc/uptime"; close("/proc/uptime"); split(u, a, " "); sub(/\r$/, ""); print a[1], $0; fflush() }'
}

one() { # $1: vmm name, $2: run number; the rest: the command
  vmm=$1 i=$2; shift 2
  read t0 _ < /proc/uptime
  { "$@" 2>"$out/$vmm.$i.err"; echo "EXIT $?"; } | stamp > "$out/$vmm.$i.log"
  read t1 _ < /proc/uptime
  awk -v t0="$t0" -v t1="$t1" -v vmm="$vmm" -v i="$i" '
    /JVMM-BOOT-OK/ && ok == "" { ok = $1 - t0 }
    $2 == "EXIT" { rc = $3 }
    END { printf "%s %s %.2f %.2f %s\n", vmm, i, (ok == "" ? -1 : ok), t1 - t0, rc }' \
    "$out/$vmm.$i.log" >> "$out/results"
  tail -n 1 "$out/results" | awk '{ printf "run %-5s #%s: JVMM-BOOT-OK %6.2f s, exit %6.2f s, exit code %s\n", $1, $2, $3, $4, $5 }' >&2
}

echo "boot-bench: $n runs each; kernel $img/Image, initrd $img/initramfs.gz, -c 1 -m 256, quiet" >&2
echo "boot-bench: L1 $(uname -r), $(nproc) CPUs; java $(java -version 2>&1 | head -n 1)" >&2
# context: what the JVM's start and jvmm's setup cost before any kernel runs
for what in "jvmm --version" "jvmm run -k $img/hello.img"; do
  read t0 _ < /proc/uptime; $what > /dev/null 2>&1; rc=$?; read t1 _ < /proc/uptime
  echo "$t0 $t1" | awk -v w="$what" -v rc=$rc '{ printf "boot-bench: %-40s %6.2f s (exit %s)\n", w, $2 - $1, rc }' >&2
done
i=1
while [ "$i" -le "$n" ]; do
  one jvmm "$i" jvmm run -k "$img/Image" -i "$img/initramfs.gz" -c 1 -m 256 -p quiet
  one qemu "$i" peer-qemu -k "$img/Image" -i "$img/initramfs.gz"
  i=$((i + 1))
done

awk '
  function median(s,   a, k, m) { k = split(s, a, " "); asorted(a, k); m = int((k + 1) / 2);
                                    return k % 2 ? a[m] : (a[m] + a[m + 1]) / 2 }
  function asorted(a, k,   x, y, t) { for (x = 2; x <= k; x++) { t = a[x]; for (y = x - 1; y >= 1 && a[y] + 0 > t + 0; y--) a[y + 1] = a[y]; a[y + 1] = t } }
  { ok[$1] = ok[$1] (ok[$1] == "" ? "" : " ") $3; ex[$1] = ex[$1] (ex[$1] == "" ? "" : " ") $4
    if ($5 != 0 || $3 < 0) bad[$1] = bad[$1] " #" $2 "(rc " $5 ")" }
  END {
    printf "%-6s | %-28s | %-28s\n", "VMM", "start -> JVMM-BOOT-OK (s)", "start -> exit (s)"
    printf "%-6s | %-28s | %-28s\n", "", "median  [runs]", "median  [runs]"
    for (v = 1; v <= 2; v++) {
      m = v == 1 ? "jvmm" : "qemu"
      if (!(m in ok)) continue
      printf "%-6s | %5.2f  [%s] | %5.2f  [%s]%s\n", m, median(ok[m]), ok[m], median(ex[m]), ex[m], (m in bad ? "  FAILED:" bad[m] : "")
    }
  }' "$out/results"
! grep -qv ' 0$' "$out/results"   # status 1 if any run failed or missed the marker
