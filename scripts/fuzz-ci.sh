#!/usr/bin/env bash
# Fuzzes every Jazzer @FuzzTest target of the repository for a fixed time each, one after the other
# (the CI step after the unit tier, which only replays the committed corpora).
#
#   scripts/fuzz-ci.sh [SECONDS_PER_TARGET]      default 60
#
# Builds once, then runs each target in Jazzer's JUnit fuzzing mode (JAZZER_FUZZ=1, one test selected per
# surefire run, JAZZER_MAX_DURATION = the time given), two targets at a time (JVMM_FUZZ_JOBS overrides). Prints one line per target,
#   fuzz: TARGET  N execs in S s  (ok|CRASH reproducer: PATH)
# and a closing "fuzz-ci:" line. Crashing inputs are moved to target/fuzz-findings/ (replay one by copying it
# into the target's ...FuzzTestInputs/METHOD/ resource folder and running mvn verify); each target's full
# output is in target/fuzz-findings/logs/. The generated corpus is kept in MODULE/.cifuzz-corpus/ (ignored
# by git) so local runs resume where the last one stopped. Exit status: 0 when no target found anything,
# 1 when one crashed, hung or failed to run, 2 for a bad argument.
set -euo pipefail
repo=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cd "$repo"

secs=${1:-60}
if ! [[ $secs =~ ^[0-9]+$ ]] || [ "$secs" -lt 1 ]; then
  echo "fuzz-ci: SECONDS_PER_TARGET must be a positive whole number of seconds, not '$secs'" >&2
  exit 2
fi
. scripts/jdk.sh

out=$repo/target/fuzz-findings
rm -rf "$out"
mkdir -p "$out/logs" "$out/reports"

# Every @FuzzTest method: MODULE CLASS METHOD (the method is the first 'void NAME(' after the annotation).
mapfile -t targets < <(
  grep -rl --include='*.java' '@FuzzTest' -- */src/test/java | sort | while read -r f; do
    module=${f%%/src/test/java/*}
    class=${f#*/src/test/java/}; class=${class%.java}; class=${class//\//.}
    awk -v m="$module" -v c="$class" '/@FuzzTest/ {want=1; next}
      want && match($0, /void [A-Za-z0-9_]+\(/) {name=substr($0, RSTART+5, RLENGTH-6); print m, c, name; want=0}' "$f"
  done)
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz-ci: no @FuzzTest targets found" >&2
  exit 1
fi
modules=$(printf '%s\n' "${targets[@]}" | cut -d' ' -f1 | sort -u | paste -sd, -)

mvn_common=(-B -ntp -Dsurefire.failIfNoSpecifiedTests=false)
echo "fuzz-ci: building $modules once, then ${#targets[@]} targets for ${secs} s each, ${JVMM_FUZZ_JOBS:-2} at a time" >&2
if ! mvn "${mvn_common[@]}" -Djvmm.surefire.reports="$out/reports" -q -pl "$modules" -am -DskipTests test-compile > "$out/logs/build.log" 2>&1; then
  echo "fuzz-ci: the build failed; see $out/logs/build.log" >&2
  tail -n 20 "$out/logs/build.log" >&2
  exit 1
fi

# One target: fuzzes it and writes "EXECS FAILED LINE" to $out/results/NAME (read back below).
fuzz_one() {
  local module=$1 class=$2 method=$3
  local name="${class##*.}.$method"
  local log="$out/logs/$name.log" rc=0 failed=0
  # test-compile is a no-op after the build above; it makes the reactor hand vmm-core its sibling modules'
  # classes instead of whatever snapshot jar sits in ~/.m2. Each target has its own surefire report folder
  # (two run at once). The outer timeout catches a hang in a target.
  JAZZER_FUZZ=1 JAZZER_MAX_DURATION="${secs}s" timeout --kill-after=30 $((secs + 300)) \
    mvn "${mvn_common[@]}" -Djvmm.surefire.reports="$out/reports/$name" -pl "$module" -am \
    test-compile surefire:test -Dtest="$class#$method" > "$log" 2>&1 || rc=$?
  local execs runs took unit saved verdict
  execs=$(sed -n 's/.*Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 \2/p' "$log" | tail -n 1)
  runs=${execs% *} took=${execs#* }
  [ -n "$execs" ] || { runs=0; took=0; }
  unit=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
  if [ -n "$unit" ] && [ -f "$unit" ]; then
    saved="$out/$name-$(basename "$unit")"
    mv "$unit" "$saved"
    rmdir --ignore-fail-on-non-empty "$(dirname "$unit")" 2>/dev/null || true
    verdict="CRASH reproducer: ${saved#"$repo"/}"
    failed=1
  elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    verdict="HANG (killed after $((secs + 300)) s; log: ${log#"$repo"/})"
    failed=1
  elif [ "$rc" -ne 0 ] || [ -z "$execs" ]; then
    verdict="ERROR exit $rc, no fuzzing result (log: ${log#"$repo"/})"
    failed=1
  else
    verdict="ok"
  fi
  local line
  line=$(printf 'fuzz: %-40s %9d execs in %3d s  (%s)' "$name" "$runs" "$took" "$verdict")
  echo "$line"
  echo "$runs $failed $line" > "$out/results/$name"
}

# Two targets at a time: each Jazzer run is one busy thread, and CI machines have two cores.
jobs=${JVMM_FUZZ_JOBS:-2}
mkdir -p "$out/results"
t0=$SECONDS
for t in "${targets[@]}"; do
  read -r module class method <<< "$t"
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  fuzz_one "$module" "$class" "$method" &
done
wait
failed=0 total_execs=0
for t in "${targets[@]}"; do
  read -r _ class method <<< "$t"
  name="${class##*.}.$method"
  if ! read -r runs f _ < "$out/results/$name" 2>/dev/null; then
    echo "fuzz: $name left no result" >&2
    failed=1
    continue
  fi
  total_execs=$((total_execs + runs))
  [ "$f" = 0 ] || failed=1
done
if [ "$failed" -eq 0 ]; then
  echo "fuzz-ci: ${#targets[@]} targets fuzzed, no findings, $total_execs execs in $((SECONDS - t0)) s"
else
  echo "fuzz-ci: FINDINGS: at least one target crashed or did not run; reproducers and logs in ${out#"$repo"/}/"
fi
exit "$failed"
