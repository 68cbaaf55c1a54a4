package dev.jvmm.core.firmware;

import dev.jvmm.core.arch.Layout;
import dev.jvmm.kvm.Vm;
import dev.jvmm.kvm.sys.Libc;
import java.lang.foreign.MemorySegment;

/**
 * The PV stolen-time records' memory: the layout's PV-time page outside guest RAM, backed by its
 * own anonymous mapping in its own memslot (KVM requires the records to lie in a memslot; keeping
 * them out of RAM means the guest never mistakes them for memory it may use). 64 KiB covers 1024
 * records, more than KVM's 512 vCPUs, and is a whole number of host pages for 4K, 16K and 64K
 * kernels.
 */
public final class PvTimeRegion implements AutoCloseable {
    private final MemorySegment memory;
    private final StolenTimeRecords records;

    private PvTimeRegion(MemorySegment memory, StolenTimeRecords records) {
        this.memory = memory;
        this.records = records;
    }

    /** Maps the region and registers it with {@code vm} as memslot {@code slot}. */
    public static PvTimeRegion map(Vm vm, int slot, Layout layout) {
        Layout.Region r = layout.pvTime();
        MemorySegment mem =
                Libc.mmap(
                        r.size(),
                        Libc.PROT_READ | Libc.PROT_WRITE,
                        Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE,
                        -1,
                        0,
                        "mmap(PV-time region)");
        try {
            vm.setUserMemoryRegion(slot, 0, r.base(), mem);
        } catch (RuntimeException e) {
            Libc.munmap(mem);
            throw e;
        }
        return new PvTimeRegion(mem, new StolenTimeRecords(mem, r.base(), layout.cpus()));
    }

    /** The whole mapping (for --mem-lock). */
    public MemorySegment memory() {
        return memory;
    }

    public StolenTimeRecords records() {
        return records;
    }

    /** Zeroes the records for an in-place reboot; the IPAs stay set in KVM. */
    public void clear() {
        records.clear();
    }

    /** Unmaps; only after the VM (and so the memslot) is gone. */
    @Override
    public void close() {
        Libc.munmap(memory);
    }
}
