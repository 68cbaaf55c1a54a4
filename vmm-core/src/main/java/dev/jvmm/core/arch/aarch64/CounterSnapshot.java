package dev.jvmm.core.arch.aarch64;

import dev.jvmm.core.JvmmException.Kind;
import dev.jvmm.core.snapshot.SnapshotException;
import dev.jvmm.core.snapshot.Snapshottable;
import dev.jvmm.kvm.RegIds;
import dev.jvmm.kvm.Vcpu;
import dev.jvmm.kvm.sys.HostCounter;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * The guest's generic-timer counter as a snapshot part: the restored guest's virtual counter
 * continues from the value it had when saved. Guest time does not advance while the machine is
 * saved, as it does not while paused ({@code vm/GuestCounter}): timers are not all overdue at once
 * and no lockup detector fires; the guest's wall clock falls behind by the time spent saved, which
 * NTP or the guest's agent corrects (QEMU's default, {@code kvm-adjvtime}).
 *
 * <p>Restore writes KVM_REG_ARM_TIMER_CNT on every vCPU before any runs, the same mechanism as
 * {@code GuestCounter}'s resume: from Linux 6.4 (KVM_CAP_COUNTER_OFFSET) the write sets one VM-wide
 * offset, before it each vCPU's own, microseconds apart and never backwards. jvmm does not use
 * KVM_ARM_SET_COUNTER_OFFSET: after that ioctl KVM silently ignores every later TIMER_CNT write
 * (api.rst), so pausing a restored machine would no longer stop its guest's time. The physical
 * counter is left to KVM, as on pause: Linux guests under KVM use the virtual one.
 *
 * <p>KVM does not rescale the counter between hosts, so a destination whose counter frequency
 * (CNTFRQ_EL0) differs is refused: the guest would see time run at another rate.
 */
public final class CounterSnapshot implements Snapshottable<CounterState> {
    private final List<Vcpu> vcpus;
    private final LongSupplier hostFrequency;
    private final LongSupplier frozenCount; // null: read the vCPUs

    public CounterSnapshot(List<Vcpu> vcpus) {
        this(vcpus, HostCounter::frequency, null);
    }

    /** With the host's frequency from {@code hostFrequency} (tests). */
    CounterSnapshot(List<Vcpu> vcpus, LongSupplier hostFrequency) {
        this(vcpus, hostFrequency, null);
    }

    private CounterSnapshot(List<Vcpu> vcpus, LongSupplier hostFrequency, LongSupplier frozen) {
        this.vcpus = List.copyOf(vcpus);
        this.hostFrequency = hostFrequency;
        this.frozenCount = frozen;
    }

    /**
     * This part saving {@code frozenCount} instead of the vCPUs' counters: the value a pause froze
     * the guest's time at. KVM's counter runs on while the machine is paused, so reading it at save
     * would put every second between the pause and the snapshot into the guest's time.
     */
    public CounterSnapshot frozenAt(LongSupplier frozenCount) {
        return new CounterSnapshot(vcpus, hostFrequency, frozenCount);
    }

    @Override
    public String stateKey() {
        return "counter";
    }

    @Override
    public Class<CounterState> stateType() {
        return CounterState.class;
    }

    /**
     * The largest virtual counter of the vCPUs (before Linux 6.4 each has its own offset, so they
     * may differ by the microseconds between their writes): the guest has seen no later value.
     */
    @Override
    public CounterState saveState() {
        if (frozenCount != null)
            return new CounterState(frozenCount.getAsLong(), hostFrequency.getAsLong());
        long count = 0;
        for (Vcpu v : vcpus) {
            long c = v.getOneReg(RegIds.CNTVCT_EL0);
            if (Long.compareUnsigned(c, count) > 0) count = c; // a 64-bit unsigned count
        }
        return new CounterState(count, hostFrequency.getAsLong());
    }

    @Override
    public void restoreState(CounterState state) {
        requireFrequency(state, hostFrequency.getAsLong());
        for (Vcpu v : vcpus) v.setOneReg(RegIds.CNTVCT_EL0, state.virtualCount());
    }

    /**
     * @throws SnapshotException a frequency that is not positive (damaged), or one this host's
     *     counter does not run at
     */
    static void requireFrequency(CounterState state, long here) {
        if (state.frequency() <= 0) {
            throw SnapshotException.invalid(
                    "counter", "frequency " + state.frequency() + " Hz is not a counter frequency");
        }
        if (state.frequency() != here) {
            throw new SnapshotException(
                    Kind.HOST_UNSUPPORTED,
                    "snapshot: counter: the guest's counter ran at "
                            + state.frequency()
                            + " Hz, this host's runs at "
                            + here
                            + " Hz (KVM cannot rescale it); restore on a host with the same"
                            + " counter frequency");
        }
    }
}
