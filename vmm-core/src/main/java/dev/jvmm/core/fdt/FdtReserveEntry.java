package dev.jvmm.core.fdt;

/**
 * One entry of the memory reservation block: guest physical memory the OS must not use. Addresses
 * and sizes are unsigned 64-bit values; the exclusive end must fit in 64 bits too, or overlap
 * checks (ours and the guest's) would wrap.
 */
public record FdtReserveEntry(long address, long size) {
    public FdtReserveEntry {
        if (size == 0) {
            throw new FdtException(
                    FdtException.Kind.INVALID_MEMORY_RESERVATION,
                    String.format("memory reservation at 0x%x has size 0", address));
        }
        if (Long.compareUnsigned(address + size, address) <= 0) {
            throw new FdtException(
                    FdtException.Kind.INVALID_MEMORY_RESERVATION,
                    String.format(
                            "memory reservation [0x%x, +0x%x) runs past the end of the 64-bit address space",
                            address, size));
        }
    }

    /** Exclusive end, unsigned. */
    long end() {
        return address + size;
    }
}
