#!/bin/sh
# Inside the arm64 lab's L1 (busybox sh; no python3 there): boots the test kernel + initramfs with
# "quiet" N times under jvmm and under Debian's QEMU (peer-qemu), interleaved, and prints per VMM:
# start -> JVMM-BOOT-OK, start -> process exit, user+sys CPU, RSS outside guest RAM and (jvmm) its
# private anonymous part; the last line holds the jvmm/qemu ratios. Run by bench/boot-bench on the host;
# by hand:  ./lab run -- sh bench/boot-bench-l1.sh [N]
# Clock: L1's /proc/uptime (10 ms resolution), read by the shell builtin before the VMM is started
# and by awk as each console line arrives, so no fork sits between an event and its timestamp.
# The guest sleeps $sleep_s s after JVMM-BOOT-OK (jvmm.cmd, see guest-images/initramfs/init) so that
# bench/vmm-footprint.sh can read the VMM's /proc/PID/stat and smaps while it idles; that sleep is
# subtracted from start -> exit. CPU per boot is the VMM process's utime + stime over its whole life,
# from the wait() accounting of the shell that reaps it (cutime + cstime, as `time` reports it).
n=${1:-3}
img=${JVMM_IMAGES:?JVMM_IMAGES is not set (run this inside ./lab)}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/l1-lib.sh"
out=/tmp/boot-bench
ram_mib=256 sleep_s=3   # peer-qemu has -m 256 built in
rm -rf "$out"; mkdir -p "$out"
# "sleep 3" for the initramfs's jvmm.cmd (standard base64, so the kernel keeps it one word)
args="quiet jvmm.cmd=$(printf 'sleep %s' "$sleep_s" | base64 | tr -d '\n')"

stamp() { # $1: run tag. Prefixes each stdin line with the uptime at its arrival ("EXIT ..." from the
          # VMM's reaper goes through too); at the first JVMM-BOOT-OK, samples the VMM (pid in $1.pid)
  awk -v tag="$out/$1" -v fp="$here/vmm-footprint.sh" -v ram="$ram_mib" '
    { getline u < "/proc/uptime"; close("/proc/uptime"); split(u, a, " "); sub(/\r$/, ""); print a[1], $0; fflush() }
    /JVMM-BOOT-OK/ && !sampled { sampled = 1; getline pid < (tag ".pid")
      system("sh " fp " " pid " " ram " > " tag ".sample 2>&1; read t _ < /proc/uptime; echo \"at=$t\" >> " tag ".sample") }'
}

one() { # $1: vmm name, $2: run number; the rest: the command
  vmm=$1 i=$2; shift 2
  read t0 _ < /proc/uptime
  { "$@" 2>"$out/$vmm.$i.err" &
    echo $! > "$out/$vmm.$i.pid"
    wait $!; rc=$?
    read t1 _ < /proc/uptime
    read -r self < /proc/self/stat   # this subshell's stat: cutime/cstime now hold the reaped VMM's CPU
    echo "EXIT $rc $t1 ${self##*) }"
  } | stamp "$vmm.$i" > "$out/$vmm.$i.log"
  awk -v t0="$t0" -v vmm="$vmm" -v i="$i" -v s="$sleep_s" -v smp="$out/$vmm.$i.sample" '
    /JVMM-BOOT-OK/ && ok == "" { ok = $1 - t0 }
    $2 == "EXIT" { rc = $3; t1 = $4; cpu = ($18 + $19) / 100 }   # $5.. = stat from field 3: cutime is 16
    END {
      while ((getline l < smp) > 0) { k = split(l, kv, " "); for (j = 1; j <= k; j++) { split(kv[j], p, "="); f[p[1]] = p[2] } }
      valid = f["ram_maps"] == 1 && f["alive"] == 1 && ok != ""
      printf "%s %s %.2f %.2f %s %.2f %.2f %d %d %d %d %s %s\n", vmm, i, (ok == "" ? -1 : ok), t1 - t0 - s, rc,
        cpu, f["cpu_ticks"] / 100, f["rss"], f["ram_rss"], f["beyond"], f["anon"], (valid ? "ok" : "bad-sample"),
        (f["at"] == "" ? -1 : f["at"] - t0) }' "$out/$vmm.$i.log" >> "$out/results"
  tail -n 1 "$out/results" | awk -v s="$sleep_s" '{
    printf "run %-5s #%s: JVMM-BOOT-OK %6.2f s, exit %6.2f s (+%s s guest sleep), cpu %6.2f s (%.2f s at the sample, %.2f s after start), RSS %d MiB = guest RAM %d + beyond %d (anonymous %d), exit code %s%s\n",
      $1, $2, $3, $4, s, $6, $7, $13, $8 / 1024, $9 / 1024, $10 / 1024, $11 / 1024, $5, ($12 == "ok" ? "" : ", SAMPLE INVALID") }' >&2
  [ "$i" = 1 ] && sed "s/^/boot-bench: $vmm #1 sample: /" "$out/$vmm.$i.sample" >&2
}

echo "boot-bench: $n runs each; kernel $img/Image, initrd $img/initramfs.gz, -c 1 -m $ram_mib, quiet, guest sleeps $sleep_s s after JVMM-BOOT-OK" >&2
echo "boot-bench: L1 $(uname -r), $(nproc) CPUs; java $(java -version 2>&1 | head -n 1); $(qemu-system-aarch64 --version | head -n 1)" >&2
echo "boot-bench: jvmm JVM flags: the launcher's${JVMM_JAVA_OPTS:+ + JVMM_JAVA_OPTS=$JVMM_JAVA_OPTS}${MALLOC_ARENA_MAX:+, MALLOC_ARENA_MAX=$MALLOC_ARENA_MAX}" >&2
# the first jvmm call of a jar/runtime/flag set creates its AOT cache (cli/src/main/dist/jvmm-launch.sh)
# and is not counted: it is reported on its own
# (--version's own small cache, then with caps the full one every other command uses)
read t0 _ < /proc/uptime; { jvmm --version && jvmm caps; } > /dev/null 2> "$out/first.err"; rc=$?; read t1 _ < /proc/uptime
echo "$t0 $t1" | awk -v rc=$rc -v made="$(grep -c 'creating the AOT cache' "$out/first.err")" '{
  printf "boot-bench: %-40s %6.2f s (exit %s; %s)\n", "first jvmm --version and caps", $2 - $1, rc,
    (made > 0 ? "created the AOT cache" : "AOT cache already there or not used") }' >&2
# context: what the JVM's start and jvmm's setup cost before any kernel runs
v= vbad=
for k in 1 2 3; do
  read t0 _ < /proc/uptime; jvmm --version > /dev/null 2>&1; rc=$?; read t1 _ < /proc/uptime
  v="$v $(echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }')"
  [ $rc = 0 ] || vbad="$vbad #$k(rc $rc)"
done
echo "$v" > "$out/version"
awk -v bad="$vbad" '{ for (x = 1; x <= NF; x++) a[x] = $x + 0
       for (x = 2; x <= NF; x++) { t = a[x]; for (y = x - 1; y >= 1 && a[y] > t; y--) a[y + 1] = a[y]; a[y + 1] = t }
       printf "boot-bench: %-40s %6.2f s (median; runs:%s)%s\n", "jvmm --version", a[int((NF + 1) / 2)], $0, (bad == "" ? "" : "  FAILED:" bad) }' "$out/version" >&2
read t0 _ < /proc/uptime; jvmm run -k "$img/hello.img" > /dev/null 2>&1; rc=$?; read t1 _ < /proc/uptime
echo "$t0 $t1" | awk -v w="jvmm run -k $img/hello.img" -v rc=$rc '{ printf "boot-bench: %-40s %6.2f s (exit %s)\n", w, $2 - $1, rc }' >&2
i=1
while [ "$i" -le "$n" ]; do
  one jvmm "$i" jvmm run -k "$img/Image" -i "$img/initramfs.gz" -c 1 -m "$ram_mib" -p "$args"
  one qemu "$i" peer-qemu -k "$img/Image" -i "$img/initramfs.gz" -a "$args"   # -m 256 too
  i=$((i + 1))
done

awk -v version="$(cat "$out/version")" "$bench_awk_median"'
  { add(ok, $1, $3); add(ex, $1, $4); add(cpu, $1, sprintf("%.2f", $6))
    if ($5 != 0 || $3 < 0) add(bad, $1, "#" $2 "(rc " $5 ")")
    if ($12 == "ok") { add(beyond, $1, int($10 / 1024 + 0.5)); add(anon, $1, int($11 / 1024 + 0.5)) }
    else add(bad, $1, "#" $2 "(no valid sample)") }
  END {
    printf "%-6s | %-28s | %-28s\n", "VMM", "start -> JVMM-BOOT-OK (s)", "start -> exit (s)"
    printf "%-6s | %-28s | %-28s\n", "", "median  [runs]", "median  [runs]"
    for (v = 1; v <= 2; v++) {
      m = v == 1 ? "jvmm" : "qemu"
      if (!(m in ok)) continue
      printf "%-6s | %5.2f  [%s] | %5.2f  [%s]%s\n", m, median(ok[m]), ok[m], median(ex[m]), ex[m], (m in bad ? "  FAILED: " bad[m] : "")
    }
    printf "%-6s | %-28s | %-28s | %s\n", "VMM", "CPU user+sys per boot (s)", "RSS beyond guest RAM (MiB)", "private anonymous (MiB)"
    printf "%-6s | %-28s | %-28s | %s\n", "", "median  [runs]", "median  [runs]", "median  [runs]"
    for (v = 1; v <= 2; v++) {
      m = v == 1 ? "jvmm" : "qemu"
      if (!(m in ok)) continue
      printf "%-6s | %5.2f  [%s] | %5d  [%s] | %5d  [%s]\n", m, median(cpu[m]), cpu[m], median(beyond[m]), beyond[m], median(anon[m]), anon[m]
    }
    printf "boot-bench: jvmm/qemu boot-to-init %s, cpu %s, rss-beyond-ram %s (jvmm %d MiB, qemu %d MiB; jvmm anonymous %d MiB); jvmm --version %.2f s\n",
      ratio(median(ok["jvmm"]), median(ok["qemu"])), ratio(median(cpu["jvmm"]), median(cpu["qemu"])),
      ratio(median(beyond["jvmm"]), median(beyond["qemu"])), median(beyond["jvmm"]), median(beyond["qemu"]),
      median(anon["jvmm"]), median(version)
    failed = ("jvmm" in bad) || ("qemu" in bad)
    exit failed   # status 1 if any run failed, missed the marker or has no valid sample
  }' "$out/results"
