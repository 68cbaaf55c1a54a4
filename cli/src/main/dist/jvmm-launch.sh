#!/bin/sh
# jvmm-launch.sh: starts the jvmm CLI on a JVM with the flags and the AOT cache chosen for it. Every
# way of starting jvmm execs this script: ./jvmm (the checkout), the lab's L1 `jvmm`
# (guest-images/lab/l1-bin/jvmm) and the Debian package's /usr/bin/jvmm. POSIX sh (dash, busybox ash).
#
#   JVMM_JAR=FILE [JVMM_AOT_DIR=DIR] [JAVA=FILE | JAVA_HOME=DIR] [JVMM_JAVA_OPTS=FLAGS] \
#     sh jvmm-launch.sh ARGS...          runs `java FLAGS -jar FILE ARGS...`
#
# Inputs (environment; this contract is stable, packaging relies on it):
#   JVMM_JAR        the jvmm jar (required)
#   JAVA            the java binary to run; else $JAVA_HOME/bin/java; else `java` on PATH
#   JVMM_AOT_DIR    directory for AOT caches (created if missing). Unset or empty: no AOT cache.
#                   A directory that cannot be written means "run without a cache", never an error.
#   JVMM_AOT        "off": never use or create a cache (default: use it when JVMM_AOT_DIR is set)
#   JVMM_JAVA_OPTS  extra JVM flags, placed after the launcher's own (a later flag wins), so they
#                   can override any of them; they are part of the cache key
# Behaviour:
#   * JVM flags: JVMM_FLAGS below (chosen by measurement: bench/README.md, "JVM flags").
#   * AOT cache (JDK 25+, JEP 483/514): DIR/jvmm-KEY.aot, where KEY hashes the jar's sha256, path and
#     mtime (the JVM checks the last two and silently ignores a cache whose jar moved or was rebuilt), the
#     runtime's identity (its `release` file and libjvm.so's path, size and mtime: a JDK update
#     gives a new key) and every JVM flag. A file for the current key was created by this exact
#     runtime from this exact jar with these flags; anything else is simply never looked up (and the
#     JVM itself validates the file and runs without it if it does not fit: -Xlog keeps that quiet).
#     `--version`, `--help`, `help` and no command use DIR/jvmm-KEY-cli.aot instead, trained by
#     `aot-train --cli` on those alone: the JVM loads every class a cache holds as it starts.
#   * No cache for the key yet: this call first creates it, synchronously, with one line on stderr
#     (a training run `java -XX:AOTCacheOutput=... -jar JAR aot-train`: parsing and help, and where
#     /dev/kvm runs arm64 guests a real `run` of a tiny bare-metal guest). It writes to a temporary
#     name and renames, so concurrent starts never see a partial file; where flock(1) exists a lock
#     makes them wait for one training instead of each doing their own (L1's busybox has none). The training's output goes to DIR/jvmm-KEY.log;
#     if it produces no cache, DIR/jvmm-KEY.failed stops later calls from retrying with this key.
#   * Hashing the jar costs ~0.2 s under the lab's TCG: its result is kept in DIR/jvmm-qI-S-M.key
#     (the jar's inode, size, mtime) beside what it was made from (stat of the jar, runtime and
#     release file; the flags) and read back while those are the same. The quick path starts no
#     program but one stat (and readlink for a linked java): each costs ~10-20 ms in the lab.
#   * Older caches in DIR (other jars, runtimes or flags) beyond the newest 4 are removed when a
#     new one is made.
# Exit status: jvmm's; 1 with one line on stderr when the jar or java is missing.

# C1 only (a VMM's hot loop is short and mostly in the kernel), Serial GC (one small heap, no GC
# threads); see bench/README.md for what each flag does and what it was measured to save. The JVM's
# own warnings go to stderr: its default for them is stdout, which carries the guest's console.
# -Xmn8m: a small young generation (SerialGC sizes it from host RAM: ~20 MiB of eden touched in
# L1); guest RAM, the initrd and the device buffers are off-heap, and the kernel's bytes, the one big
# on-heap object, go straight to the old generation, which still grows to -Xmx (1/4 of host RAM) as
# big guests need. One C1 compiler thread; no hsperfdata file (jstat cannot see jvmm, nothing uses it).
JVMM_FLAGS="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmn8m -XX:CICompilerCount=1 -XX:-UsePerfData"
# C1 compiles a method after 4x its default invocation count: L1 has about one CPU's throughput,
# and code a boot runs a few hundred times is cheaper interpreted than compiled (measured: ~1.2 s
# less CPU per lab boot, the same time to init; bench/README.md, "JVM flags")
JVMM_FLAGS="$JVMM_FLAGS -XX:CompileThresholdScaling=4"
JVMM_FLAGS="$JVMM_FLAGS -Xlog:disable -Xlog:all=warning:stderr"
# The CDS/AOT archive is mapped at the address it was made for instead of a random one: relocating
# it writes every pointer in it, copying its pages into private memory (10 MiB more anonymous memory
# in the lab with the AOT cache) and touching all of them at start under TCG. The price is ASLR for
# the archive's class metadata only (heap, code, stacks and libraries stay randomized);
# JVMM_JAVA_OPTS=-XX:ArchiveRelocationMode=1 restores the JDK's default. bench/README.md, "JVM flags".
JVMM_FLAGS="$JVMM_FLAGS -XX:+UnlockDiagnosticVMOptions -XX:ArchiveRelocationMode=0"
# Reflection through the JVM's native accessors: since JDK 18 each reflectively called constructor
# or method gets method handles whose classes are spun at run time (the AOT cache cannot keep
# them); a restore binds its manifest into ~60 record types that way. Native accessors are slower
# per call, and jvmm makes few reflective calls. In the lab a restore read its manifest 0.5-0.9 s
# sooner (bench/README.md, "JVM flags").
JVMM_FLAGS="$JVMM_FLAGS -Djdk.reflect.useNativeAccessorOnly=true"

jar=${JVMM_JAR:-}
if [ -z "$jar" ]; then
  echo "jvmm-launch.sh: JVMM_JAR is not set (the jvmm jar to run)" >&2
  exit 1
fi
if [ ! -f "$jar" ]; then
  echo "jvmm: $jar is missing" >&2
  exit 1
fi
java=${JAVA:-}
if [ -z "$java" ]; then
  if [ -n "${JAVA_HOME:-}" ]; then java=$JAVA_HOME/bin/java; else java=$(command -v java) || java=; fi
fi
if [ -z "$java" ] || [ ! -x "$java" ]; then
  echo "jvmm: no java runtime found (set JAVA or JAVA_HOME, or put java on PATH; jvmm needs Java 22 or later)" >&2
  exit 1
fi
flags="$JVMM_FLAGS ${JVMM_JAVA_OPTS:-}"

aot_dir=${JVMM_AOT_DIR:-}
[ "${JVMM_AOT:-}" = off ] && aot_dir=
# shellcheck disable=SC2086 # $flags are words
[ -n "$aot_dir" ] || exec "$java" $flags -jar "$jar" "$@"

# The runtime: its release file says its version (an AOT cache needs JDK 25 or later). Only shell
# builtins here and below, but for one stat (and readlink for a linked java): under the lab's TCG each
# program started costs ~10-20 ms of every jvmm command's start.
jhome=$java
if [ -L "$java" ]; then jhome=$(readlink -f "$java" 2>/dev/null) || jhome=$java; fi
jhome=${jhome%/bin/java}
release=$jhome/release
major=0
if [ -r "$release" ]; then
  while IFS= read -r line; do
    case $line in JAVA_VERSION=*) v=${line#JAVA_VERSION=}; v=${v#\"}; major=${v%%[!0-9]*}; break ;; esac
  done < "$release"
fi
case $major in ''|*[!0-9]*) major=0 ;; esac
# shellcheck disable=SC2086
[ "$major" -ge 25 ] || exec "$java" $flags -jar "$jar" "$@"
libjvm=$jhome/lib/server/libjvm.so
# The key hashes the jar's content, but hashing it costs ~0.2 s in the lab's L1: the key is kept in
# DIR/jvmm-q<jar's inode, size and mtime>.key with what it was made from (stat of the jar, runtime
# and release file: path, size, mtime to the ns, inode; the flags), and read back while those are
# the same.
quick=$(stat -L -c '%i-%s-%Y %n %s %y %i' "$jar" "$libjvm" "$release" 2>/dev/null) || quick=
memo= key=
if [ -n "$quick" ]; then
  memo=$aot_dir/jvmm-q${quick%% *}.key
  check="$quick
$flags
${JAVA_TOOL_OPTIONS:-}"
  if [ -f "$memo" ]; then
    { read -r key; saved=; first=1
      while IFS= read -r line; do
        if [ -n "$first" ]; then saved=$line; first=; else saved="$saved
$line"; fi
      done; } < "$memo"
    [ "$saved" = "$check" ] || key=
  fi
fi
case ${key:-} in
  [0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]*) ;;
  *)
    jvm_id=$(stat -L -c '%n %s %Y' "$libjvm" 2>/dev/null || ls -lnL "$libjvm" 2>/dev/null)
    # shellcheck disable=SC2086
    jar_sum=$(sha256sum < "$jar") || exec "$java" $flags -jar "$jar" "$@"
    # the jar's path and modification time too, not only its content: the JVM refuses a cache whose
    # jar is at another path or has another mtime ("timestamp has changed"), silently here, so a
    # rebuild that reproduces the same bytes (mvn package again) must get a new cache, not a dead one
    jar_id=$(stat -L -c '%n %s %y' "$jar" 2>/dev/null || ls -lnL --full-time "$jar" 2>/dev/null)
    key=$(printf '%s\n' "$jar_sum" "$jar_id" "$jvm_id" "$flags" "${JAVA_TOOL_OPTIONS:-}" | cat - "$release" | sha256sum | cut -c1-16)
    # written whole and renamed; a directory that cannot be written just keeps no memo
    # (the directory may not exist yet: the first call's training makes it, and the next call would
    # hash the jar again)
    [ -n "$memo" ] && { [ -d "$aot_dir" ] || mkdir -p "$aot_dir"; } 2> /dev/null \
      && (printf '%s\n' "$key" "$check" > "$memo.$$" && mv -f "$memo.$$" "$memo") 2> /dev/null
    ;;
esac
# Two caches per key: the version and help get a small one of their own (trained by `aot-train
# --cli`), since the JVM loads every class a cache holds as it starts; every other command uses the
# full one.
case ${1:-} in
  '' | --version | -V | --help | -h | help) name=jvmm-$key-cli train="aot-train --cli" ;;
  *) name=jvmm-$key train=aot-train ;;
esac
cache=$aot_dir/$name.aot
quiet="-Xlog:aot=off:stderr -Xlog:cds=off:stderr"   # an unusable cache: the JVM runs without it, silently

if [ ! -f "$cache" ] && [ ! -f "$cache.failed" ]; then
  # shellcheck disable=SC2086
  { [ -d "$aot_dir" ] || mkdir -p "$aot_dir" 2>/dev/null; } && [ -w "$aot_dir" ] || exec "$java" $flags -jar "$jar" "$@"
  # one training per cache: concurrent starts wait for it (fd 9 is closed before java runs)
  lock=$aot_dir/$name.lock
  if command -v flock > /dev/null 2>&1 && (: > "$lock") 2> /dev/null; then
    exec 9> "$lock"
    flock 9
  fi
  if [ ! -f "$cache" ] && [ ! -f "$cache.failed" ]; then
    tmp=$aot_dir/.$name.$$.tmp
    echo "jvmm: creating the AOT cache $cache for this jar and runtime (once; later starts are faster)" >&2
    # shellcheck disable=SC2086 # $train is words
    "$java" $flags -XX:AOTCacheOutput="$tmp" -jar "$jar" $train \
      > "$aot_dir/$name.log" 2>&1 < /dev/null
    rc=$?
    if [ -s "$tmp" ] && mv -f "$tmp" "$cache" 2>/dev/null; then
      [ "$rc" = 0 ] || echo "jvmm: the AOT cache's training run exited $rc (see $aot_dir/$name.log); the cache may cover less" >&2
      # keep the newest 4 caches of each kind (other jars, runtimes, flags)
      for kind in '[0-9a-f]' -cli; do
        # shellcheck disable=SC2012,SC2086 # names are ours (jvmm-HEX.aot, jvmm-HEX-cli.aot); a glob
        ls -t "$aot_dir"/jvmm-*$kind.aot 2>/dev/null | tail -n +5 | while read -r old; do
          rm -f "$old" "${old%.aot}.log" "${old%.aot}.lock" "$old.failed"
        done
      done
      # shellcheck disable=SC2012
      ls -t "$aot_dir"/jvmm-*.key 2>/dev/null | tail -n +9 | while read -r old; do rm -f "$old"; done
    else
      rm -f "$tmp" "$tmp.config"
      ( : > "$cache.failed" ) 2> /dev/null   # a subshell: a failed redirection must not end this shell
      echo "jvmm: could not create the AOT cache (training exit status $rc, see $aot_dir/$name.log); running without it" >&2
    fi
  fi
  exec 9>&-
fi
# shellcheck disable=SC2086
[ -f "$cache" ] && exec "$java" $flags $quiet -XX:AOTCache="$cache" -jar "$jar" "$@"
# shellcheck disable=SC2086
exec "$java" $flags -jar "$jar" "$@"
