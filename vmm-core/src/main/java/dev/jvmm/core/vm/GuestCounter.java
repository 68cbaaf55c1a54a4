package dev.jvmm.core.vm;

import dev.jvmm.kvm.RegIds;
import java.lang.System.Logger.Level;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The guest's virtual counter as a {@link VmPart}: it stops while the machine is paused. KVM
 * derives the guest counter from the host's with an offset, so without this part a paused guest
 * would find the whole pause elapsed on resume: every timer overdue at once, and after ~20 s the
 * soft-lockup and RCU-stall detectors firing on a guest that did nothing wrong. The cost: the
 * guest's wall clock falls behind by the pause (NTP or the guest's agent puts it right), as with
 * QEMU's default ({@code kvm-adjvtime}).
 *
 * <p>Pause reads {@code KVM_REG_ARM_TIMER_CNT} on every parked vCPU and keeps the largest value;
 * resume writes it back on every vCPU before any of them runs. From Linux 6.4 the write sets one
 * VM-wide offset (so the vCPUs stay in step); before, each vCPU has its own and the writes, one
 * after another, leave them microseconds apart. No vCPU ever sees its counter go backwards: none
 * runs while the values are written, and each resumes at or after what it last saw. jvmm does not
 * use {@code KVM_ARM_SET_COUNTER_OFFSET}, which would make KVM ignore these writes. The physical
 * counter is left alone: Linux guests under KVM use the virtual one.
 */
final class GuestCounter implements VmPart {
    private static final System.Logger LOG = System.getLogger("jvmm.vm");

    /** How long resume waits for the parked vCPUs to write the counter. */
    private static final long RESUME_BOUND_NANOS = 2_000_000_000L;

    private final VcpuGate vcpus;
    private final AtomicLong saved = new AtomicLong();

    GuestCounter(VcpuGate vcpus) {
        this.vcpus = vcpus;
    }

    @Override
    public String name() {
        return "guest-counter";
    }

    @Override
    public void pause(long deadlineNanos) throws PauseException {
        saved.set(0);
        vcpus.runOnEach(
                regs -> saved.accumulateAndGet(regs.get(RegIds.CNTVCT_EL0), Long::max),
                deadlineNanos);
    }

    @Override
    public void resume() {
        long value = saved.get();
        try {
            vcpus.runOnEach(
                    regs -> regs.set(RegIds.CNTVCT_EL0, value),
                    System.nanoTime() + RESUME_BOUND_NANOS);
        } catch (PauseException e) {
            LOG.log(
                    Level.WARNING,
                    "guest counter not restored after the pause (the guest sees the pause as"
                            + " elapsed time): "
                            + e.getMessage());
        }
    }

    /** The counter value the guest resumes from (for tests and logs). */
    long saved() {
        return saved.get();
    }
}
