# Sourced by the bench/*-l1.sh scripts inside the lab's L1 (busybox sh and awk, no python3).
#   bench_stamp            filter: prefixes each stdin line with L1's /proc/uptime at its arrival
#                          (read by awk itself, so no fork sits between an event and its timestamp)
#   $bench_awk_median      awk functions: median(s) of a space-separated list, ratio(a, b) = a/b
#                          ("n/a" when b is 0), add(arr, key, v) appends v to arr[key]; put it
#                          before a program: awk "$bench_awk_median"'...'
bench_stamp() {
  awk '{ getline u < "/proc/uptime"; close("/proc/uptime"); split(u, a, " "); sub(/\r$/, ""); print a[1], $0; fflush() }'
}
bench_awk_median='
  function median(s,   a, k, m, x, y, t) { k = split(s, a, " ")
    for (x = 2; x <= k; x++) { t = a[x]; for (y = x - 1; y >= 1 && a[y] + 0 > t + 0; y--) a[y + 1] = a[y]; a[y + 1] = t }
    m = int((k + 1) / 2); return k % 2 ? a[m] : (a[m] + a[m + 1]) / 2 }
  function add(arr, key, v) { arr[key] = arr[key] (arr[key] == "" ? "" : " ") v }
  function ratio(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "n/a" }
'
