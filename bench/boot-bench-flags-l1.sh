#!/bin/sh
# Inside the lab's L1: bench/boot-bench-l1.sh once per JVM flag set, in one L1 boot, to compare flag
# sets (the winner is then confirmed with bench/boot-bench). Each set is added to the launcher's
# flags through JVMM_JAVA_OPTS (later flags win), so each gets its own AOT cache, made by its first
# call. A set may start with NAME=VALUE words (exported for that set: MALLOC_ARENA_MAX=2, JVMM_AOT=off);
# '-' is the empty set. With BIG=1, each set also
# boots a big guest (-c 4 -m 2048, a disk, the serial console) and reports whether it reached init.
# With MEM=1, each set only boots the test kernel once under jvmm (no QEMU, no --version timings)
# and samples its memory at JVMM-BOOT-OK: a quick look at what a flag does to the footprint.
#   ./lab run -- sh bench/boot-bench-flags-l1.sh N 'FLAGS' 'MALLOC_ARENA_MAX=2 FLAGS' ...
n=${1:?usage: boot-bench-flags-l1.sh N FLAGSET...}; shift
img=${JVMM_IMAGES:?JVMM_IMAGES is not set (run this inside ./lab)}
here=$(cd "$(dirname "$0")" && pwd)
echo "flags: jvmm is $(command -v jvmm); java $(readlink -f "$(command -v java)")" >&2
ls -l "$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")/release" >&2
read t0 _ < /proc/uptime; sha256sum < /mnt/host/cli/target/jvmm.jar > /dev/null; read t1 _ < /proc/uptime
echo "flags: sha256sum of the jar: $(echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }') s" >&2
for set in "$@"; do
  (
    while :; do   # leading NAME=VALUE words: environment for this set (MALLOC_ARENA_MAX, JVMM_AOT)
      case ${set%% *} in [A-Z]*=*) export "${set%% *}"; case $set in *' '*) set=${set#* } ;; *) set= ;; esac ;; *) break ;; esac
    done
    [ "$set" = - ] && set=
    export JVMM_JAVA_OPTS="$set"
    echo "=== flag set: JVMM_JAVA_OPTS='$set'${MALLOC_ARENA_MAX:+ MALLOC_ARENA_MAX=$MALLOC_ARENA_MAX}${JVMM_AOT:+ JVMM_AOT=$JVMM_AOT}" >&2
    if [ "${MEM:-}" = 1 ]; then
      args="quiet jvmm.cmd=$(printf 'sleep 3' | base64 | tr -d '\n')"
      rm -f /tmp/mem.fifo; mkfifo /tmp/mem.fifo
      read t0 _ < /proc/uptime
      jvmm run -k "$img/Image" -i "$img/initramfs.gz" -c 1 -m 256 -p "$args" > /tmp/mem.fifo 2> /tmp/mem.err &
      pid=$!
      while read -r line; do
        case $line in *JVMM-BOOT-OK*)
          read t1 _ < /proc/uptime
          echo "mem: JVMM-BOOT-OK $(echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }') s; $(sh "$here/vmm-footprint.sh" "$pid" 256)" >&2 ;;
        esac
      done < /tmp/mem.fifo
      wait "$pid"; echo "mem: exit $?; stderr: $(head -c 300 /tmp/mem.err | tr '\n' ' ')" >&2
    else
      sh "$here/boot-bench-l1.sh" "$n" 2>&1 | grep -v '#1 sample' >&2
    fi
    if [ "${BIG:-}" = 1 ]; then
      dd if=/dev/zero of=/tmp/big-disk.img bs=1M count=64 2> /dev/null
      read t0 _ < /proc/uptime
      jvmm run -k "$img/Image" -i "$img/initramfs.gz" -c 4 -m 2048 -d path=/tmp/big-disk.img --timeout 300s -p quiet \
        > /tmp/big.out 2> /tmp/big.err
      rc=$?; read t1 _ < /proc/uptime
      echo "big guest (-c 4 -m 2048, a 64 MiB disk): exit $rc, JVMM-BOOT-OK $(grep -c JVMM-BOOT-OK /tmp/big.out), $(echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }') s; stderr: $(head -c 300 /tmp/big.err | tr '\n' ' ')" >&2
    fi
  )
done
ls -la /mnt/host/.lab/aot >&2
for f in /mnt/host/.lab/aot/jvmm-*.log; do echo "--- $f"; grep -v '^\[.*Skipping' "$f" | tail -n 8; done >&2
