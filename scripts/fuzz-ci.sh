#!/usr/bin/env bash
# Fuzzes every Jazzer @FuzzTest target of the repository for a fixed time each (CI's fuzzing tier, before
# the tests; the unit tier only replays the committed corpora).
#
#   scripts/fuzz-ci.sh [SECONDS_PER_TARGET]      default 60
#
# Builds once with Maven (test-compile, which also writes each fuzzed module's test class path to
# MODULE/target/fuzz-classpath.txt, the reactor's fresh sibling classes ahead of any snapshot jar in
# ~/.m2), then starts each target in a JVM of its own with JUnit's ConsoleLauncher (junit-platform-console,
# a test dependency of the module) in Jazzer's JUnit fuzzing mode: JAZZER_FUZZ=1, that one @FuzzTest
# method selected, JAZZER_MAX_DURATION = the time given, in the module's directory and with the
# surefire argLine of the module's pom or the root pom, as surefire would run it. No Maven start per
# target: a target's overhead is its JVM start and Jazzer's instrumentation. Two targets at a time
# (JVMM_FUZZ_JOBS overrides). Prints one line per target,
#   fuzz: TARGET  N execs in S s  (ok|CRASH reproducer: PATH)
# and a closing "fuzz-ci:" line. Crashing inputs are moved to target/fuzz-findings/ (replay one by copying it
# into the target's ...FuzzTestInputs/METHOD/ resource folder and running mvn verify); each target's full
# output is in target/fuzz-findings/logs/, its JUnit XML report in target/fuzz-findings/reports/. The
# generated corpus is kept in MODULE/.cifuzz-corpus/ (ignored by git) so local runs resume where the last
# one stopped. Exit status: 0 when no target found anything, 1 when one crashed, hung or failed to run,
# 2 for a bad argument.
set -euo pipefail
repo=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cd "$repo"

secs=${1:-60}
if ! [[ $secs =~ ^[0-9]+$ ]] || [ "$secs" -lt 1 ]; then
  echo "fuzz-ci: SECONDS_PER_TARGET must be a positive whole number of seconds, not '$secs'" >&2
  exit 2
fi
jobs=${JVMM_FUZZ_JOBS:-2}
if ! [[ $jobs =~ ^[0-9]+$ ]] || [ "$jobs" -lt 1 ]; then
  echo "fuzz-ci: JVMM_FUZZ_JOBS must be a positive whole number of targets at a time, not '$jobs'" >&2
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

echo "fuzz-ci: building $modules once, then ${#targets[@]} targets for ${secs} s each, $jobs at a time" >&2
# In the same Maven run as test-compile, the reactor resolves sibling modules to their target/classes
# and target/test-classes, not to the snapshot jars another checkout may have installed in ~/.m2.
# (The relative outputFile lands in each module's own target/.)
if ! mvn -B -ntp -q -pl "$modules" -am -DskipTests test-compile dependency:build-classpath \
     -Dmdep.includeScope=test -Dmdep.outputFile=target/fuzz-classpath.txt > "$out/logs/build.log" 2>&1; then
  echo "fuzz-ci: the build failed; see $out/logs/build.log" >&2
  tail -n 20 "$out/logs/build.log" >&2
  exit 1
fi

# The JVM flags surefire gives a module's tests: the argLine of its pom, else the root pom's.
surefire_argline() {
  local line
  line=$(sed -n 's:.*<argLine>\(.*\)</argLine>.*:\1:p' "$1/pom.xml" pom.xml | head -n 1)
  case $line in *'$'*|*'@{'*)
    echo "fuzz-ci: the surefire argLine '$line' uses a property; teach scripts/fuzz-ci.sh to expand it" >&2
    return 1 ;;
  esac
  printf '%s\n' "$line"
}
# The test class path of each module, as surefire builds it: test classes, classes, then the dependencies.
declare -A classpath argline
for m in ${modules//,/ }; do
  classpath[$m]="$repo/$m/target/test-classes:$repo/$m/target/classes:$(cat "$m/target/fuzz-classpath.txt")"
  case ":${classpath[$m]}:" in *"/junit-platform-console-"*) ;; *)
    echo "fuzz-ci: $m has no junit-platform-console test dependency (its @FuzzTest targets are started with its ConsoleLauncher)" >&2
    exit 1 ;;
  esac
  argline[$m]=$(surefire_argline "$m") || exit 1
done

# One target: fuzzes it and writes "EXECS FAILED LINE" to $out/results/NAME (read back below).
fuzz_one() {
  local module=$1 class=$2 method=$3
  local name="${class##*.}.$method"
  local log="$out/logs/$name.log" rc=0 failed=0
  local -a jvm_flags
  read -r -a jvm_flags <<< "${argline[$module]}"
  # Beyond surefire's flags, C1 only and the serial collector (as the lab's test JVM): C2 and G1's threads
  # spent most of a short run's CPU on Jazzer's start-up (instrumentation, hook scan) while two targets
  # share two cores; measured on 10 s runs, a target's CPU fell from 26-29 s to ~17 s and its wall time
  # from 25-30 s to ~17 s, executions rose for one target (36 k -> 82 k) and fell for another (17 k -> 12 k).
  jvm_flags+=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC)
  # The module's directory is the working directory, as under surefire: Jazzer keeps the generated
  # corpus in ./.cifuzz-corpus/ and writes a crashing input next to the target's committed inputs in
  # src/test/resources. --select-method would need the parameter types, so the class is selected and
  # filtered to the method by name (as surefire's -Dtest=Class#method). The outer timeout catches a hang.
  (cd "$module" && JAZZER_FUZZ=1 JAZZER_MAX_DURATION="${secs}s" timeout --kill-after=30 $((secs + 300)) \
    "$JAVA_HOME/bin/java" "${jvm_flags[@]}" -cp "${classpath[$module]}" org.junit.platform.console.ConsoleLauncher \
    execute --disable-banner --disable-ansi-colors --details=tree --fail-if-no-tests \
    --select-class "$class" --include-methodname "\\Q$class#$method\\E" --reports-dir "$out/reports/$name") \
    > "$log" 2>&1 < /dev/null || rc=$?
  local execs runs took unit saved verdict
  execs=$(sed -n 's/.*Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 \2/p' "$log" | tail -n 1)
  runs=${execs% *} took=${execs#* }
  [ -n "$execs" ] || { runs=0; took=0; }
  unit=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
  case $unit in /*|'') ;; *) unit=$repo/$module/${unit#./} ;; esac
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

# Two targets at a time (JVMM_FUZZ_JOBS, checked above): each Jazzer run is one busy thread, and CI
# machines have two cores.
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
