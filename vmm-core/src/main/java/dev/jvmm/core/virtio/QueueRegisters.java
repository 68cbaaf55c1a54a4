package dev.jvmm.core.virtio;

/**
 * The transport's per-queue registers as the driver last wrote them (guarded by the transport's
 * lock).
 */
final class QueueRegisters {
    int num;
    boolean ready;
    long desc;
    long avail;
    long used;

    void clear() {
        num = 0;
        ready = false;
        desc = avail = used = 0;
    }

    static long setLow(long v, int low) {
        return (v & 0xFFFF_FFFF_0000_0000L) | Integer.toUnsignedLong(low);
    }

    static long setHigh(long v, int high) {
        return (v & 0xFFFF_FFFFL) | ((long) high << 32);
    }
}
