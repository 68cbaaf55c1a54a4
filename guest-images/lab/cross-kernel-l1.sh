#!/bin/sh
# One L1 boot's part of the cross-kernel restore check (./lab cross-kernel runs the three in order,
# each under the L1 kernel it names, in the repo on the 9p share, so the snapshots outlive the boot):
#   take        (6.12)  a Linux guest printing a counter every second is snapshotted and stopped
#   restore     (new)   that snapshot restores under the newer KVM and the counter goes on, without a
#                       second boot, and is snapshotted again; then a bare-metal guest given DISCOVER_IMPL (--impl-cpu, which
#                       sets VENDOR_HYP_BMAP_2 there) is snapshotted
#   refuse      (6.12)  restoring that one is refused before anything is built: exit 2, one line
#                       naming the services this KVM lacks; the ticking guest, snapshotted again
#                       under the newer kernel, cannot come back (7.x shows it ID_AA64MMFR2_EL1.NV = 0,
#                       6.12 only 2): exit 2, one line naming the register
# Prints "cross-kernel <step>: ok ..." or "cross-kernel <step>: FAIL ..." and exits non-zero on a failure.
set -u
D=target/cross-kernel
step=$1
export JVMM_AOT=off   # a cache made for one jar is useless to the next build's; skip its minutes
fail() { echo "cross-kernel $step: FAIL $*"; for f in "$D"/*.out "$D"/*.err; do [ -s "$f" ] && { echo "--- $f"; tail -n 15 "$f"; }; done; exit 1; }
ok() { echo "cross-kernel $step: ok $*"; }
# waits up to $2 s for text $1 in file $3 while process $4 lives
await() { i=0; while ! grep -q "$1" "$3" 2>/dev/null; do i=$((i+1)); [ $i -gt "$2" ] && return 1; kill -0 "$4" 2>/dev/null || return 1; sleep 1; done; }
last_tick() { tr -d '\r' < "$1" | grep -o 'tick [0-9]* ok' | tail -n 1 | cut -d' ' -f2; }
# the consoles of both runs, joined (a line the snapshot cut in two is whole again), must count 0, 1,
# 2, ... without a gap or a repeat; prints the last number
counts_on() { cat "$@" | tr -d '\r' | grep -o 'tick [0-9]* ok' \
  | awk '{ if ($2 != NR - 1) { print "tick " $2 " where " NR - 1 " was due"; bad = 1; exit 1 } } END { if (!bad) print NR - 1 }'; }
echo "cross-kernel $step: L1 kernel $(uname -r) (LAB_KERNEL=${LAB_KERNEL:-stock})"

case $step in
take)
  rm -rf "$D"; mkdir -p "$D"
  cmd=$(printf '%s' 'i=0; while :; do echo tick $i ok; i=$((i+1)); sleep 1; done' | base64 | tr -d '\n')
  jvmm run -k "$JVMM_IMAGES/Image" -i "$JVMM_IMAGES/initramfs.gz" -m 256 -p "quiet jvmm.cmd=$cmd" \
    --api-socket "$D/api.sock" --timeout 400 > "$D/take.out" 2> "$D/take.err" &
  pid=$!
  await 'tick 3 ok' 300 "$D/take.out" $pid || fail "the guest printed no tick 3"
  jvmm ctl --socket "$D/api.sock" snapshot --dir "$D/from-stock" --stop > "$D/ctl.out" 2>&1 || fail "jvmm ctl snapshot: $(cat "$D/ctl.out")"
  wait $pid; rc=$?
  [ $rc = 0 ] || fail "jvmm run exited $rc after snapshot --stop"
  last_tick "$D/take.out" > "$D/from-stock.last"
  ok "snapshot of a ticking guest at tick $(cat "$D/from-stock.last") under $(uname -r)" ;;
restore)
  [ -f "$D/from-stock/snapshot.json" ] || fail "no snapshot from the 6.12 step in $D/from-stock"
  want=$(( $(cat "$D/from-stock.last") + 2 ))
  t0=$(date +%s)
  jvmm run --restore "$D/from-stock" --api-socket "$D/api.sock" --timeout 300 > "$D/restore.out" 2> "$D/restore.err" &
  pid=$!
  await "tick $want ok" 240 "$D/restore.out" $pid || { kill $pid 2>/dev/null; fail "the restored guest printed no tick $want"; }
  t1=$(date +%s)
  grep -q JVMM-BOOT-OK "$D/restore.out" && fail "the restored guest booted again"
  n=$(counts_on "$D/take.out" "$D/restore.out") || fail "the counter did not go on: $n"
  ok "the 6.12 snapshot restored under $(uname -r): stopped after tick $(cat "$D/from-stock.last"), went on to tick $n without a gap ($((t1 - t0)) s from restore start to tick $want)"
  # and back: the same guest, snapshotted here, goes to 6.12 in the last step
  jvmm ctl --socket "$D/api.sock" snapshot --dir "$D/from-new" --stop > "$D/ctl.out" 2>&1 || fail "jvmm ctl snapshot: $(cat "$D/ctl.out")"
  wait $pid; rc=$?
  [ $rc = 0 ] || fail "the restored jvmm run exited $rc after snapshot --stop"
  last_tick "$D/restore.out" > "$D/from-new.last"
  ok "snapshot of the restored guest at tick $(cat "$D/from-new.last")"
  # a guest given the VENDOR_HYP_BMAP_2 services, which 6.12's KVM does not have
  jvmm run -k "$JVMM_IMAGES/spin.img" -m 64 --impl-cpu midr=0x410fd083,revidr=0x1,aidr=0x551 \
    --api-socket "$D/api.sock" --timeout 300 > "$D/impl.out" 2> "$D/impl.err" &
  pid=$!
  await BAREMETAL-SPIN 120 "$D/impl.out" $pid || fail "spin.img did not start"
  jvmm ctl --socket "$D/api.sock" snapshot --dir "$D/from-new-impl" --stop > "$D/ctl.out" 2>&1 || fail "jvmm ctl snapshot: $(cat "$D/ctl.out")"
  wait $pid; rc=$?
  [ $rc = 0 ] || fail "jvmm run exited $rc after snapshot --stop"
  grep -q '"VENDOR_HYP_BMAP_2":3' "$D/from-new-impl/snapshot.json" || fail "the snapshot does not show VENDOR_HYP_BMAP_2=3"
  grep -q 'midr=0x410fd083,revidr=0x1,aidr=0x551' "$D/from-new-impl/snapshot.json" || fail "the snapshot lacks the --impl-cpu list"
  ok "snapshot of a guest given discover-impl-ver/-cpus (VENDOR_HYP_BMAP_2=0x3)" ;;
refuse)
  [ -f "$D/from-new-impl/snapshot.json" ] || fail "no snapshot from the newer kernel's step"
  jvmm run --restore "$D/from-new-impl" --timeout 60 > "$D/refuse.out" 2> "$D/refuse.err"; rc=$?
  [ $rc = 2 ] || fail "exit $rc, want 2"
  [ "$(wc -l < "$D/refuse.err")" = 1 ] || fail "want one line on stderr"
  grep -q 'discover-impl-ver (VENDOR_HYP_BMAP_2 bit 0)' "$D/refuse.err" || fail "the refusal does not name discover-impl-ver"
  grep -q 'Exception\|\.java' "$D/refuse.err" && fail "a Java name in the refusal"
  [ -s "$D/refuse.out" ] && fail "the refused restore wrote to the console"
  ok "refused under $(uname -r): $(cat "$D/refuse.err")"
  [ -f "$D/from-new/snapshot.json" ] || fail "no snapshot of the ticking guest from the newer kernel"
  # Back to 6.12 does not work, and must fail cleanly: 6.12 showed the guest ID_AA64MMFR2_EL1.NV = 2,
  # 7.3.4 shows 0 (and took 6.12's value without complaint), and 6.12 refuses to write 0 (EINVAL).
  jvmm run --restore "$D/from-new" --timeout 60 > "$D/back.out" 2> "$D/back.err"; rc=$?
  [ $rc = 2 ] || fail "restoring the 7.x snapshot of the ticking guest: exit $rc, want 2 (a refusal)"
  [ "$(wc -l < "$D/back.err")" = 1 ] || fail "want one line on stderr"
  grep -q 'refuses register id_aa64mmfr2_el1' "$D/back.err" || fail "the refusal does not name ID_AA64MMFR2_EL1"
  [ -s "$D/back.out" ] && fail "the refused restore wrote to the console"
  ok "the ticking guest snapshotted under 7.x is refused here (known limit): $(cat "$D/back.err")" ;;
*) echo "usage: cross-kernel-l1.sh take|restore|refuse" >&2; exit 2 ;;
esac
