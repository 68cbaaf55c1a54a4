package dev.jvmm.kvm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The exit reasons and {@code kvm_run} field offsets the per-exit fast path reads: the reasons are
 * compile-time constants (so a {@code switch} on the reason integer needs no bootstrap), the
 * offsets are computed once from the generated layout. Reading a field is one plain memory access,
 * with no slice, record or boxing per exit. {@code KvmRunLayoutTest} checks the constants against
 * the generated {@code KvmUapi}.
 */
public final class KvmRunLayout {
    /** KVM_EXIT_* values (include/uapi/linux/kvm.h). */
    public static final int EXIT_UNKNOWN = 0,
            EXIT_HYPERCALL = 3,
            EXIT_MMIO = 6,
            EXIT_FAIL_ENTRY = 9,
            EXIT_INTR = 10,
            EXIT_INTERNAL_ERROR = 17,
            EXIT_SYSTEM_EVENT = 24;

    /** Bit 0 of kvm_run.hypercall.flags: the call was an SMC, not an HVC. */
    public static final long HYPERCALL_SMC = 1;

    /** The largest MMIO access KVM reports (the size of kvm_run.mmio.data). */
    public static final int MMIO_MAX_LEN = 8;

    // struct kvm_run's offsets (include/uapi/linux/kvm.h, the same on every 64-bit architecture)
    // as constants, not read from the generated kvm_run classes: initialising those builds var
    // handles whose method-handle classes the JVM spins at run time (34 classes in the lab's L1,
    // on the vCPU thread's first exit, where the AOT cache cannot hold them). KvmRunLayoutTest
    // checks each one against the generated layout.
    static final long IMMEDIATE_EXIT = 1;
    static final long EXIT_REASON = 8;
    static final long MMIO_PHYS_ADDR = 32, MMIO_DATA = 40, MMIO_LEN = 48, MMIO_IS_WRITE = 52;
    static final long HYPERCALL_NR = 32, HYPERCALL_FLAGS = 96;

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;

    private KvmRunLayout() {}

    /** Sets or clears kvm_run.immediate_exit (KVM_RUN returns at once, EINTR, while it is set). */
    public static void immediateExit(MemorySegment run, boolean on) {
        run.set(ValueLayout.JAVA_BYTE, IMMEDIATE_EXIT, (byte) (on ? 1 : 0));
    }

    public static int exitReason(MemorySegment run) {
        return run.get(U32, EXIT_REASON);
    }

    public static long mmioAddress(MemorySegment run) {
        return run.get(U64, MMIO_PHYS_ADDR);
    }

    /** The access size as KVM wrote it; not validated (see {@link #MMIO_MAX_LEN}). */
    public static int mmioLength(MemorySegment run) {
        return run.get(U32, MMIO_LEN);
    }

    public static boolean mmioIsWrite(MemorySegment run) {
        return run.get(ValueLayout.JAVA_BYTE, MMIO_IS_WRITE) != 0;
    }

    /** Copies the guest's {@code data.length} written bytes out of kvm_run.mmio.data. */
    public static void mmioDataTo(MemorySegment run, byte[] data) {
        MemorySegment.copy(run, ValueLayout.JAVA_BYTE, MMIO_DATA, data, 0, data.length);
    }

    /**
     * Puts the answer to an MMIO read into kvm_run.mmio.data (KVM loads it on the next KVM_RUN).
     */
    public static void mmioDataFrom(byte[] data, MemorySegment run) {
        MemorySegment.copy(data, 0, run, ValueLayout.JAVA_BYTE, MMIO_DATA, data.length);
    }

    public static long hypercallNr(MemorySegment run) {
        return run.get(U64, HYPERCALL_NR);
    }

    public static long hypercallFlags(MemorySegment run) {
        return run.get(U64, HYPERCALL_FLAGS);
    }
}
