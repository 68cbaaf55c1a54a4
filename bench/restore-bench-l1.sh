#!/bin/sh
# Inside the arm64 lab's L1 (busybox sh; no python3 there): how fast `jvmm run --restore` gets a
# guest going again, beside a cold boot of the same guest under jvmm and under Debian's QEMU
# (peer-qemu). N rounds, each interleaved: (1) jvmm boots the test kernel + initramfs, whose command
# prints "tick I" every 0.1 s (JVMM_BENCH_TICK seconds); at "tick 1" (the ready state) `jvmm ctl snapshot --stop` saves it;
# (2) `jvmm run --restore` of that snapshot, timed from its start to the guest's next console line
# (which must be the next tick: the guest goes on, it does not boot again), then ended by SIGTERM;
# (3) QEMU boots the same kernel, initramfs and command line, timed from start to JVMM-BOOT-OK.
# The last line holds restore/QEMU-cold-boot of the medians. Run by bench/restore-bench on the host;
# by hand:  ./lab run -- sh bench/restore-bench-l1.sh [N]
# Clock: L1's /proc/uptime (10 ms resolution), read by the shell builtin before a VMM starts and by
# awk as each output line arrives (console and jvmm's --log-level info lines share one pipe).
n=${1:-3}
img=${JVMM_IMAGES:?JVMM_IMAGES is not set (run this inside ./lab)}
out=/tmp/restore-bench
ram_mib=256   # peer-qemu has -m 256 built in
rm -rf "$out"; mkdir -p "$out"
# a line every JVMM_BENCH_TICK seconds (default 0.1), so that a restored guest has a "next console
# line" (standard base64: one word). The restore is timed to that line, so the guest's own wait for
# its next tick counts too: with a tick every second that wait was anything from 0 to 1 s, set by
# where in the guest's sleep the snapshot fell rather than by the VMM (in one L1 boot, the same jar
# restoring two snapshots took 0.5 and 1.2 s from starting the vCPUs to the tick); at 0.1 s it is
# at most 0.1 s
tick=${JVMM_BENCH_TICK:-0.1}
case $tick in ''|*[!0-9.]*) echo "restore-bench: JVMM_BENCH_TICK: seconds, e.g. 0.1 or 1" >&2; exit 2 ;; esac
args="quiet jvmm.cmd=$(printf 'i=0; while :; do echo tick $i; i=$((i+1)); sleep %s; done' "$tick" | base64 | tr -d '\n')"

# what the console reader runs when its trigger line arrives (synchronously: the VMM's output waits
# in the pipe meanwhile, and that output is only the guest's ticks)
cat > "$out/snapshot.sh" <<'EOF'
# $1: api socket, $2: snapshot dir, $3: run tag (the path prefix of its files)
read a _ < /proc/uptime
jvmm ctl --socket "$1" snapshot --dir "$2" --stop > "$3.ctl" 2>&1; rc=$?
read b _ < /proc/uptime
echo "CTL $rc $a $b" >> "$3.ctl"
EOF
cat > "$out/kill.sh" <<'EOF'
# $1: run tag; ends the VMM whose pid is in TAG.pid
kill -TERM "$(cat "$1.pid")"
EOF

stamp() { # $1: run tag, $2: trigger (awk regex), $3: command run once on the first matching line,
          # with the tag's path prefix as its last argument
  awk -v tag="$out/$1" -v trig="$2" -v act="$3" '
    { getline u < "/proc/uptime"; close("/proc/uptime"); split(u, a, " "); sub(/\r$/, ""); print a[1], $0; fflush() }
    !done && $0 ~ trig { done = 1; system(act " " tag) }'
}

one() { # $1: run tag, $2: trigger, $3: action (shell command, gets the tag's path prefix); rest: the command
  tag=$1 trig=$2 act=$3; shift 3
  read t0 _ < /proc/uptime
  echo "$t0" > "$out/$tag.t0"
  { "$@" 2>&1 &
    echo $! > "$out/$tag.pid"
    wait $!; rc=$?
    read t1 _ < /proc/uptime
    echo "EXIT $rc $t1"
  } | stamp "$tag" "$trig" "$act" > "$out/$tag.log"
}

echo "restore-bench: $n rounds; kernel $img/Image, initrd $img/initramfs.gz, -c 1 -m $ram_mib, quiet, the guest prints a tick every $tick s" >&2
echo "restore-bench: L1 $(uname -r), $(nproc) CPUs; java $(java -version 2>&1 | head -n 1); $(qemu-system-aarch64 --version | head -n 1)" >&2
# the first jvmm call of a jar/runtime/flag set creates its AOT cache and is not counted
# (--version's own small cache, then with caps the full one every other command uses)
read t0 _ < /proc/uptime; { jvmm --version && jvmm caps; } > /dev/null 2> "$out/first.err"; rc=$?; read t1 _ < /proc/uptime
echo "$t0 $t1" | awk -v rc=$rc -v made="$(grep -c 'creating the AOT cache' "$out/first.err")" '{
  printf "restore-bench: %-30s %6.2f s (exit %s; %s)\n", "first jvmm --version and caps", $2 - $1, rc,
    (made > 0 ? "created the AOT cache" : "AOT cache already there or not used") }' >&2
v=
for k in 1 2 3; do
  read t0 _ < /proc/uptime; jvmm --version > /dev/null 2>&1; read t1 _ < /proc/uptime
  v="$v $(echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }')"
done
echo "$v" > "$out/version"
# JVMM_BENCH_JARS="LABEL=PATH ...": more jars restoring each round's snapshot (their AOT caches are
# made here, not counted)
jars=${JVMM_BENCH_JARS:-}
for spec in $jars; do
  read t0 _ < /proc/uptime; { JVMM_JAR=${spec#*=} jvmm --version && JVMM_JAR=${spec#*=} jvmm caps; } > /dev/null 2>&1; read t1 _ < /proc/uptime
  echo "$t0 $t1" | awk -v l="${spec%%=*}" '{ printf "restore-bench: first --version by %-14s %6.2f s\n", l, $2 - $1 }' >&2
done

restore_by() { # $1: round, $2: label, $3: jar; restores snap.$1 with that jar, prints its line
  one restore.$1.$2 '^tick ' "sh $out/kill.sh" env JVMM_JAR="$3" jvmm run --restore "$out/snap.$1" --log-level info
  awk -v t0="$(cat "$out/restore.$1.$2.t0")" -v i="$1" -v label="$2" '
    $2 == "jvmm:" && /restore: host checked/ && ph == "" { ph = $0; sub(/^[^ ]+ jvmm: info: restore: /, "", ph); rt = $1 - t0 }
    /restore: snapshot read and checked in/ && rd == "" { rd = $0; sub(/.* in /, "", rd); sub(/ ms.*/, "", rd) }
    NF > 1 && $2 != "jvmm:" && $2 != "EXIT" && first == "" { first = $2 " " $3; rl = $1 - t0 }
    END { n = split(ph, f, " in "); sum = rd
      for (k = 2; k <= n; k++) { split(f[k], g, " "); sum += g[1] }
      printf "X %s %s %.2f %.2f %.2f %s |%s|%s\n", i, label, (rl == "" ? -1 : rl), (rt == "" ? -1 : rt),
        (rt == "" || rd == "" ? -1 : rt - sum / 1000), (rd == "" ? -1 : rd), ph, first }' "$out/restore.$1.$2.log" >> "$out/results"
  tail -n 1 "$out/results" | awk '{ split($0, p, "|"); printf "round #%s: restore by %s -> \"%s\" %5.2f s (restored after %5.2f s: %.2f s before reading the snapshot, read in %s ms; %s)\n", $2, $3, p[3], $4, $5, $6, $7, p[2] }' >&2
}

i=1
while [ "$i" -le "$n" ]; do
  snap=$out/snap.$i
  one cold.$i '^tick 1$' "sh $out/snapshot.sh $out/api.$i.sock $snap" \
    jvmm run -k "$img/Image" -i "$img/initramfs.gz" -c 1 -m "$ram_mib" -p "$args" \
    --api-socket "$out/api.$i.sock" --log-level info
  du -k "$snap" 2>/dev/null | tail -n 1 | cut -f1 > "$out/cold.$i.du"
  # the other jars restore the same snapshot, before the current one in odd rounds, after it in even
  if [ $((i % 2)) = 1 ]; then for spec in $jars; do restore_by "$i" "${spec%%=*}" "${spec#*=}"; done; fi
  one restore.$i '^tick ' "sh $out/kill.sh" jvmm run --restore "$snap" --log-level info
  if [ $((i % 2)) = 0 ]; then for spec in $jars; do restore_by "$i" "${spec%%=*}" "${spec#*=}"; done; fi
  rm -rf "$snap"   # L1's /tmp is RAM
  one qemu.$i 'JVMM-BOOT-OK' "sh $out/kill.sh" peer-qemu -k "$img/Image" -i "$img/initramfs.gz" -a "$args"
  # one line per round
  awk -v i="$i" -v out="$out" '
    function t0(tag,   t, f) { f = out "/" tag ".t0"; getline t < f; close(f); return t }
    FILENAME ~ /cold\.[0-9]+\.log$/ && /JVMM-BOOT-OK/ && cb == "" { cb = $1 - t0("cold." i) }
    # the last whole tick; a line the snapshot cut has the next jvmm log line glued to it, and
    # what the guest had printed of it ("ti", "tick 1", "tick 15" without its newline) is kept in cut
    FILENAME ~ /cold\.[0-9]+\.log$/ && NF == 3 && $2 == "tick" && $3 ~ /^[0-9]+$/ { last = $3; cut = "" }
    FILENAME ~ /cold\.[0-9]+\.log$/ && $2 != "jvmm:" && index($0, "jvmm:") > 0 {
      cut = $0; sub(/^[^ ]+ /, "", cut); sub(/jvmm:.*/, "", cut)
    }
    FILENAME ~ /cold\.[0-9]+\.log$/ && /snapshot written to/ { w = $0; sub(/.* in /, "", w); sub(/ ms.*/, "", w) }
    FILENAME ~ /cold\.[0-9]+\.log$/ && $2 == "EXIT" { cexit = $4; crc = $3 }
    FILENAME ~ /\.ctl$/ && $1 == "CTL" { crc2 = $2; s0 = $3; s1 = $4 }
    FILENAME ~ /restore\.[0-9]+\.log$/ && $2 == "jvmm:" && /restore: host checked/ && ph == "" { ph = $0; sub(/^[^ ]+ jvmm: info: restore: /, "", ph); rt = $1 - t0("restore." i) }
    FILENAME ~ /restore\.[0-9]+\.log$/ && /restore: snapshot read and checked in/ && rd == "" { rd = $0; sub(/.* in /, "", rd); sub(/ ms.*/, "", rd) }
    # NF > 1: the rest of a line the snapshot cut (its newline alone) is not the next line
    FILENAME ~ /restore\.[0-9]+\.log$/ && NF > 1 && $2 != "jvmm:" && $2 != "EXIT" && first == "" { first = $2 " " $3; rest = $0; sub(/^[^ ]+ /, "", rest); rl = $1 - t0("restore." i) }
    FILENAME ~ /restore\.[0-9]+\.log$/ && $2 == "EXIT" { rrc = $3 }
    FILENAME ~ /qemu\.[0-9]+\.log$/ && /JVMM-BOOT-OK/ && qb == "" { qb = $1 - t0("qemu." i) }
    FILENAME ~ /\.du$/ { du = $1 }
    END {
      # the phases the restore logs (ms), summed; the rest of start -> state restored came before
      # them: the launcher, the JVM start and the command line
      n = split(ph, f, " in "); sum = rd
      for (k = 2; k <= n; k++) { split(f[k], g, " "); sum += g[1] }
      pre = (rt == "" || rd == "") ? "no phase lines" : sprintf("%.2f s before reading the snapshot, read in %d ms", rt - sum / 1000, rd)
      # the next tick, whole, or (when the snapshot fell inside the echo of the guest) the rest of it:
      # what the cold run printed of that line and what the restored guest printed join up
      # (or, when only its newline was cut, the tick after it)
      nexttick = cut == "" ? rest == "tick " (last + 1) : cut rest == "tick " (last + 1) ||
        (cut ~ /^tick [0-9]+$/ && rest == "tick " (substr(cut, 6) + 1))
      if (cut ~ /^tick [0-9]+$/ && rest == "tick " (substr(cut, 6) + 1)) last = substr(cut, 6)
      ok = cb != "" && crc == 0 && crc2 == 0 && nexttick && qb != ""
      printf "R %s %.2f %.2f %.2f %.2f %.2f %.2f %s %d %s %s|%s|%s|%s\n", i, (cb == "" ? -1 : cb), cexit - s0, s1 - s0,
        (rl == "" ? -1 : rl), (rt == "" ? -1 : rt), (qb == "" ? -1 : qb), (w == "" ? -1 : w), du / 1024,
        (ok ? "ok" : "FAILED"), ph, first, "last before: tick " last, pre
    }' "$out/cold.$i.log" "$out/cold.$i.ctl" "$out/cold.$i.du" "$out/restore.$i.log" "$out/qemu.$i.log" >> "$out/results"
  tail -n 1 "$out/results" | awk '{ split($0, p, "|"); sub(/^.* (ok|FAILED) /, "", p[1])
    printf "round #%s: jvmm cold JVMM-BOOT-OK %5.2f s, snapshot %5.2f s (ctl %5.2f s, in the VMM %s ms, %d MiB); restore -> \"%s\" %5.2f s (restored after %5.2f s: %s; %s); qemu cold JVMM-BOOT-OK %5.2f s; %s (%s)\n",
      $2, $3, $4, $5, $9, $10, p[2], $6, $7, p[4], p[1], $8, $11, p[3] }' >&2
  i=$((i + 1))
done

awk -v version="$(cat "$out/version")" '
  function median(s,   a, k, m, x, y, t) { k = split(s, a, " ")
    for (x = 2; x <= k; x++) { t = a[x]; for (y = x - 1; y >= 1 && a[y] + 0 > t + 0; y--) a[y + 1] = a[y]; a[y + 1] = t }
    m = int((k + 1) / 2); return k % 2 ? a[m] : (a[m] + a[m + 1]) / 2 }
  function add(arr, key, v) { arr[key] = arr[key] (arr[key] == "" ? "" : " ") v }
  $1 == "R" { add(x, "cold", $3); add(x, "snap", $4); add(x, "ctl", $5); add(x, "restore", $6); add(x, "built", $7)
    add(x, "qemu", $8); add(x, "mib", $10); if ($11 != "ok") bad = bad " #" $2 }
  $1 == "X" { if (!($3 in xr)) labels = labels " " $3; add(xr, $3, $4); add(xb, $3, $5); add(xp, $3, $6); add(xd, $3, $7)
    split($0, p, "|"); if (p[3] !~ /^(tick )?[0-9]+ ?$/) bad = bad " #" $2 "(" $3 ")" }
  END {
    printf "%-34s | %s\n", "", "median  [runs]"
    printf "%-34s | %5.2f  [%s]\n", "jvmm --version (JVM start)", median(version), version
    printf "%-34s | %5.2f  [%s]\n", "jvmm cold: start -> JVMM-BOOT-OK", median(x["cold"]), x["cold"]
    printf "%-34s | %5.2f  [%s]\n", "qemu cold: start -> JVMM-BOOT-OK", median(x["qemu"]), x["qemu"]
    printf "%-34s | %5.2f  [%s]\n", "snapshot: ctl start -> VMM exited", median(x["snap"]), x["snap"]
    printf "%-34s | %5.2f  [%s]\n", "jvmm ctl snapshot --stop (wall)", median(x["ctl"]), x["ctl"]
    printf "%-34s | %5.2f  [%s]\n", "restore: start -> state restored", median(x["built"]), x["built"]
    printf "%-34s | %5.2f  [%s]\n", "restore: start -> next line", median(x["restore"]), x["restore"]
    printf "%-34s | %5d  [%s]\n", "snapshot on disk (MiB)", median(x["mib"]), x["mib"]
    nl = split(labels, lab, " ")
    for (j = 1; j <= nl; j++) {
      l = lab[j]
      printf "%-34s | %5.2f  [%s]\n", "restore by " l ": -> state restored", median(xb[l]), xb[l]
      printf "%-34s | %5.2f  [%s]\n", "restore by " l ": -> next line", median(xr[l]), xr[l]
      printf "%-34s | %5.2f  [%s]\n", "  of it before reading the snapshot", median(xp[l]), xp[l]
      printf "%-34s | %5d  [%s]\n", "  reading and checking it (ms)", median(xd[l]), xd[l]
    }
    for (j = 1; j <= nl; j++) if (median(x["qemu"]) > 0)
      printf "restore-bench: restore by %s/qemu cold-boot %.2f (restore %.2f s)\n", lab[j], median(xr[lab[j]]) / median(x["qemu"]), median(xr[lab[j]])
    if (bad != "") printf "restore-bench: FAILED rounds:%s\n", bad
    q = median(x["qemu"])
    printf "restore-bench: jvmm restore/qemu cold-boot %s (restore %.2f s, snapshot %.2f s, %d MiB on disk)\n",
      (q > 0 ? sprintf("%.2f", median(x["restore"]) / q) : "n/a"), median(x["restore"]), median(x["snap"]), median(x["mib"])
    exit bad != ""
  }' "$out/results"
