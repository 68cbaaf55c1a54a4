package dev.jvmm.core.hypercall.shared;

/** A guest-physical range the guest shared with the host: {@code [start, start + size)}. */
public record SharedRegion(long start, long size) {
    public long end() {
        return start + size;
    }

    @Override
    public String toString() {
        return String.format("0x%x-0x%x (%d KiB)", start, end() - 1, size / 1024);
    }
}
