package dev.jvmm.core.boot;

/** Overflow-aware address arithmetic and size formatting for placement messages. */
final class BootMath {
    static final long KIB = 1024, MIB = 1024 * KIB, GIB = 1024 * MIB;

    private BootMath() {}

    /**
     * Round {@code v} up to {@code align} (a power of two); -1 when that overflows a signed long.
     */
    static long alignUp(long v, long align) {
        long r = (v + align - 1) & -align;
        return r < v ? -1 : r;
    }

    static long alignDown(long v, long align) {
        return v & -align;
    }

    /**
     * {@code a + b} for non-negative values, or -1 on overflow: guest addresses never reach 2^63.
     */
    static long add(long a, long b) {
        if (a < 0 || b < 0) return -1;
        long r = a + b;
        return r < 0 ? -1 : r;
    }

    static String human(long bytes) {
        if (bytes < 0) return String.format("0x%x bytes", bytes);
        if (bytes >= GIB && bytes % GIB == 0) return bytes / GIB + " GiB";
        if (bytes >= MIB && bytes % MIB == 0) return bytes / MIB + " MiB";
        if (bytes >= MIB) return String.format("%.1f MiB", bytes / (double) MIB);
        return bytes + " bytes";
    }
}
