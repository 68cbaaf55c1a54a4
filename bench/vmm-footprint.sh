#!/bin/sh
# One sample of a running VMM's CPU and memory, for bench/boot-bench-l1.sh (busybox sh + awk, /proc):
#   sh bench/vmm-footprint.sh PID GUEST_RAM_MIB
# prints one line of key=value fields (KiB unless named otherwise):
#   cpu_ticks   utime + stime of the whole process (all its threads, live and exited), /proc/PID/stat,
#               in clock ticks (USER_HZ, 100 per second on arm64)
#   rss         the sum of Rss over every mapping in /proc/PID/smaps
#   ram_rss     Rss of the guest-RAM mapping: the one anonymous, private mapping whose size is the guest's
#               RAM (up to 4 MiB more: the kernel may merge an adjacent anonymous mapping of the same kind
#               into it, as jvmm's 64 KiB PV-time page)
#   beyond      rss - ram_rss: the VMM's own memory (code, heap, libraries, stacks, device buffers)
#   anon        the sum of Anonymous over every mapping except guest RAM: the private anonymous pages
#               (heap, metaspace, JIT code, stacks, malloc arenas; also copy-on-written pages of files);
#               this part is not shared with other processes that map the same JDK or QEMU files
#   ram_maps    how many mappings matched the guest-RAM rule (the sample is valid only if 1)
#   ram_map     that mapping's address range/size, to check by eye
#   alive       1 if /proc/PID still existed after smaps was read (else the figures may be partial)
# Exits 1 with one line on stderr if the process is gone or /proc cannot be read.
pid=$1 ram_mib=$2
case $pid$ram_mib in ''|*[!0-9]*) echo "usage: vmm-footprint.sh PID GUEST_RAM_MIB" >&2; exit 2 ;; esac
read -r st < "/proc/$pid/stat" 2>/dev/null || { echo "vmm-footprint: process $pid is gone" >&2; exit 1; }
line=$(awk -v ram=$((ram_mib * 1024)) -v st="$st" '
  /^[0-9a-f]+-[0-9a-f]+ / { addr = $1; anonmap = (NF < 6); next }   # no path: an anonymous mapping
  $1 == "Size:" { inram = anonmap && $2 >= ram && $2 < ram + 4096; if (inram) { n++; map = addr "/" $2 "kB" } next }
  $1 == "Rss:" { rss += $2; if (inram) ramrss += $2; next }
  $1 == "Anonymous:" { if (!inram) anon += $2; next }
  END {
    if (NR == 0) exit 1
    sub(/^.*\) /, "", st); split(st, f, " ")    # after "(comm) ": f[1] is field 3 (state)
    printf "cpu_ticks=%d rss=%d ram_rss=%d beyond=%d anon=%d ram_maps=%d ram_map=%s",
      f[12] + f[13], rss, ramrss, rss - ramrss, anon, n, (map == "" ? "none" : map)
  }' "/proc/$pid/smaps") || { echo "vmm-footprint: cannot read /proc/$pid/smaps of $pid" >&2; exit 1; }
alive=0; [ -e "/proc/$pid/stat" ] && alive=1
echo "$line alive=$alive"
