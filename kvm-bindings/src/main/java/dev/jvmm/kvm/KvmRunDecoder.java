package dev.jvmm.kvm;

import dev.jvmm.kvm.uapi.kvm_run;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Pure decoding of a {@code struct kvm_run} buffer into a {@link VcpuExit}; tested with synthetic
 * buffers. Allocates a record (and slices) per call: the vCPU loop uses it only for the rare exits,
 * MMIO and hypercalls are read in place through {@link KvmRunLayout}.
 */
public final class KvmRunDecoder {
    private static final int EXIT_MMIO = KvmRunLayout.EXIT_MMIO;
    private static final int EXIT_HYPERCALL = KvmRunLayout.EXIT_HYPERCALL;
    private static final int EXIT_SYSTEM_EVENT = KvmRunLayout.EXIT_SYSTEM_EVENT;
    private static final int EXIT_FAIL_ENTRY = KvmRunLayout.EXIT_FAIL_ENTRY;
    private static final int EXIT_INTERNAL_ERROR = KvmRunLayout.EXIT_INTERNAL_ERROR;
    private static final int EXIT_INTR = KvmRunLayout.EXIT_INTR;

    /** Bit 0 of kvm_run.hypercall.flags: the call was an SMC, not an HVC. */
    public static final long HYPERCALL_SMC = KvmRunLayout.HYPERCALL_SMC;

    private KvmRunDecoder() {}

    public static VcpuExit decode(MemorySegment run) {
        int reason = kvm_run.exit_reason(run);
        if (reason == EXIT_MMIO) {
            MemorySegment m = kvm_run.mmio(run);
            int len = kvm_run.mmio.len(m);
            if (len < 0 || len > 8)
                return new VcpuExit.Unknown(reason); // KVM never does this; don't trust it
            return new VcpuExit.Mmio(
                    kvm_run.mmio.phys_addr(m),
                    len,
                    kvm_run.mmio.is_write(m) != 0,
                    kvm_run.mmio.data(m).asSlice(0, len));
        }
        if (reason == EXIT_HYPERCALL) {
            MemorySegment h = kvm_run.hypercall(run);
            long flags = kvm_run.hypercall.flags(h);
            return new VcpuExit.Hypercall(
                    kvm_run.hypercall.nr(h), (flags & HYPERCALL_SMC) != 0, flags);
        }
        if (reason == EXIT_SYSTEM_EVENT) {
            MemorySegment e = kvm_run.system_event(run);
            return new VcpuExit.SystemEvent(
                    kvm_run.system_event.type(e),
                    longs(kvm_run.system_event.data(e), kvm_run.system_event.ndata(e)));
        }
        if (reason == EXIT_FAIL_ENTRY) {
            MemorySegment f = kvm_run.fail_entry(run);
            return new VcpuExit.FailEntry(
                    kvm_run.fail_entry.hardware_entry_failure_reason(f), kvm_run.fail_entry.cpu(f));
        }
        if (reason == EXIT_INTERNAL_ERROR) {
            MemorySegment i = kvm_run.internal(run);
            return new VcpuExit.Internal(
                    kvm_run.internal.suberror(i),
                    longs(kvm_run.internal.data(i), kvm_run.internal.ndata(i)));
        }
        if (reason == EXIT_INTR) return new VcpuExit.Interrupted();
        return new VcpuExit.Unknown(reason);
    }

    /**
     * The first {@code n} u64s of an array member, clamped to the array's size (n comes from the
     * kernel).
     */
    private static long[] longs(MemorySegment array, long n) {
        long cap = array.byteSize() / 8;
        int count = (int) Math.max(0, Math.min(n, cap));
        long[] out = new long[count];
        for (int k = 0; k < count; k++) out[k] = array.getAtIndex(ValueLayout.JAVA_LONG, k);
        return out;
    }
}
