package dev.jvmm.core.firmware;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The VMM's view of the PV stolen-time records (ARM DEN0057A,
 * Documentation/virt/kvm/arm/pvtime.rst): one 64-byte, little-endian {@code struct
 * pvclock_vcpu_stolen_time} per vCPU ({@code revision} u32 at 0, {@code attributes} u32 at 4,
 * {@code stolen_time} u64 at 8, padding), which KVM updates in the VMM's own mapping each time it
 * schedules the vCPU in. The value counts nanoseconds the vCPU thread was runnable but not running
 * on the host since the record was last zeroed (VM start or an in-place reboot).
 */
public final class StolenTimeRecords {
    public static final int RECORD_BYTES = 64;
    static final long STOLEN_TIME_OFFSET = 8;

    /**
     * KVM writes from another thread: a volatile, naturally aligned 64-bit read sees a whole value.
     */
    private static final VarHandle U64 =
            ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();

    private final MemorySegment region;
    private final long base;
    private final int cpus;

    /**
     * @param region the records, 8-byte aligned, at least {@code cpus * 64} bytes
     * @param base the guest physical address of record 0
     */
    public StolenTimeRecords(MemorySegment region, long base, int cpus) {
        if (cpus < 1 || region.byteSize() < (long) cpus * RECORD_BYTES) {
            throw new IllegalArgumentException(
                    cpus + " records do not fit " + region.byteSize() + " bytes");
        }
        this.region = region;
        this.base = base;
        this.cpus = cpus;
    }

    public int cpus() {
        return cpus;
    }

    /**
     * The guest physical address of vCPU {@code cpu}'s record (what KVM_ARM_VCPU_PVTIME_IPA got).
     */
    public long address(int cpu) {
        return base + offset(cpu);
    }

    /** Nanoseconds stolen from vCPU {@code cpu} so far. */
    public long stolenNanos(int cpu) {
        return (long) U64.getVolatile(region, offset(cpu) + STOLEN_TIME_OFFSET);
    }

    /** Every vCPU's stolen nanoseconds, index = vCPU id. */
    public long[] stolenNanos() {
        long[] r = new long[cpus];
        for (int i = 0; i < cpus; i++) r[i] = stolenNanos(i);
        return r;
    }

    /**
     * Zeroes every record; only while no vCPU runs (an in-place reboot starts the guest's count at
     * 0).
     */
    void clear() {
        region.asSlice(0, (long) cpus * RECORD_BYTES).fill((byte) 0);
    }

    /** The records region's size: every record and the unused rest of its mapping. */
    long regionSize() {
        return region.byteSize();
    }

    /**
     * The region's bytes up to its last non-zero one, for a snapshot (only while no vCPU runs): the
     * rest is zero (a 64 KiB region holds 64 bytes per vCPU, and a snapshot's manifest need not
     * carry the unused rest as base64).
     */
    byte[] copyRegionTrimmed() {
        long end = region.byteSize();
        // whole records are 8-byte aligned: skip zero longs first, then zero bytes
        while (end >= 8 && end % 8 == 0 && region.get(ValueLayout.JAVA_LONG, end - 8) == 0)
            end -= 8;
        while (end > 0 && region.get(ValueLayout.JAVA_BYTE, end - 1) == 0) end--;
        return region.asSlice(0, end).toArray(ValueLayout.JAVA_BYTE);
    }

    /**
     * Replaces the region with {@code bytes} (at most {@link #regionSize()} of them) followed by
     * zeros, from a snapshot; only before any vCPU runs.
     */
    void overwriteRegion(byte[] bytes) {
        if (bytes.length > region.byteSize()) {
            throw new IllegalArgumentException(
                    bytes.length + " bytes for a region of " + region.byteSize());
        }
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, region, 0, bytes.length);
        region.asSlice(bytes.length).fill((byte) 0);
    }

    private long offset(int cpu) {
        if (cpu < 0 || cpu >= cpus)
            throw new IndexOutOfBoundsException("vCPU " + cpu + " of " + cpus);
        return (long) cpu * RECORD_BYTES;
    }
}
