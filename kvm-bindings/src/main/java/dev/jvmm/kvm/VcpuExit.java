package dev.jvmm.kvm;

import java.lang.foreign.MemorySegment;

/**
 * Why {@code KVM_RUN} returned, decoded from {@code kvm_run} so callers never touch its offsets.
 * Pattern-match with a switch; {@link Unknown} carries any reason jvmm does not model.
 */
public sealed interface VcpuExit {

    /**
     * A guest access to an address no memslot backs. {@code data} is a view of the {@code length}
     * bytes inside {@code kvm_run}: the guest's bytes on a write, and where the VMM puts the answer
     * on a read (KVM copies it to the guest register on the next KVM_RUN).
     */
    record Mmio(long address, int length, boolean isWrite, MemorySegment data)
            implements VcpuExit {}

    /** An HVC or SMC forwarded by the SMCCC filter; the PC is already past the instruction. */
    record Hypercall(long functionId, boolean smc, long flags) implements VcpuExit {}

    /**
     * PSCI SYSTEM_OFF/RESET, a guest crash report, ...: {@code type} is a KVM_SYSTEM_EVENT_* value.
     */
    @SuppressWarnings(
            "ArrayRecordComponent") // a decoded copy of kvm_run's words, read by index, never
    // compared
    record SystemEvent(int type, long[] data) implements VcpuExit {
        public static final int SHUTDOWN = 1, RESET = 2, CRASH = 3, WAKEUP = 4, SUSPEND = 5;
    }

    /** KVM could not enter the guest; the hardware reason and the physical CPU. */
    record FailEntry(long hardwareReason, int cpu) implements VcpuExit {}

    /** KVM hit an internal error while running the vCPU. */
    @SuppressWarnings(
            "ArrayRecordComponent") // a decoded copy of kvm_run's words, read by index, never
    // compared
    record Internal(int suberror, long[] data) implements VcpuExit {}

    /**
     * KVM_RUN returned EINTR or KVM_EXIT_INTR: a kick (signal or immediate_exit) and nothing else.
     */
    record Interrupted() implements VcpuExit {}

    /** Any other exit reason (KVM_EXIT_*). */
    record Unknown(int reason) implements VcpuExit {}
}
