package dev.jvmm.core.hypercall;

import dev.jvmm.core.JvmmException;

/**
 * An inclusive range of SMCCC function IDs, {@code first..last}, as unsigned 32-bit values held in
 * longs.
 *
 * <p>Text form ({@link #parse}), as used by {@code --smccc deny=RANGE}: {@code FIRST-LAST}
 * (inclusive, e.g. {@code 0xC4000020-0xC400003F}), {@code BASE+COUNT} (e.g. {@code 0xC4000020+32})
 * or a single ID. Numbers are hex with {@code 0x} or decimal.
 */
public record FunctionRange(long first, long last) {
    public static final long MAX_ID = 0xffff_ffffL;

    /** The Arm architecture calls KVM always handles itself and refuses to filter (EEXIST). */
    public static final FunctionRange ARCH_SMC32 = new FunctionRange(0x8000_0000L, 0x8000_FFFFL);

    public static final FunctionRange ARCH_SMC64 = new FunctionRange(0xC000_0000L, 0xC000_FFFFL);

    public FunctionRange {
        if (first < 0 || last > MAX_ID || first > last) {
            throw new IllegalArgumentException(
                    String.format("bad function ID range 0x%X-0x%X", first, last));
        }
    }

    public static FunctionRange of(long base, long count) {
        if (count < 1) throw new IllegalArgumentException("function ID range of " + count + " IDs");
        return new FunctionRange(base, base + count - 1);
    }

    public static FunctionRange single(long id) {
        return new FunctionRange(id, id);
    }

    public long count() {
        return last - first + 1;
    }

    public boolean contains(long id) {
        return id >= first && id <= last;
    }

    public boolean overlaps(FunctionRange o) {
        return first <= o.last && o.first <= last;
    }

    /** Touching or overlapping: the two can be installed as one filter range. */
    public boolean adjoins(FunctionRange o) {
        return first <= o.last + 1 && o.first <= last + 1;
    }

    public FunctionRange span(FunctionRange o) {
        return new FunctionRange(Math.min(first, o.first), Math.max(last, o.last));
    }

    /**
     * The one rule for what may be filtered (denied or forwarded): no ID of the Arm architecture
     * calls, which KVM always answers itself and refuses to filter (EEXIST).
     *
     * @param prefix how the range was given, e.g. {@code "--smccc deny="}; the message is prefix +
     *     range
     * @throws JvmmException (usage) when the range overlaps them
     */
    public FunctionRange requireFilterable(String prefix) {
        if (overlapsArchCalls()) {
            throw JvmmException.usage(
                    prefix
                            + this
                            + " overlaps the Arm architecture calls ("
                            + ARCH_SMC32
                            + ", "
                            + ARCH_SMC64
                            + "), which KVM always answers");
        }
        return this;
    }

    /**
     * True when KVM would refuse to filter any ID of this range (the reserved Arm architecture
     * calls).
     */
    public boolean overlapsArchCalls() {
        return overlaps(ARCH_SMC32) || overlaps(ARCH_SMC64);
    }

    /**
     * Parses {@code FIRST-LAST}, {@code BASE+COUNT} or one ID.
     *
     * @throws IllegalArgumentException with a one-line message naming {@code text}
     */
    public static FunctionRange parse(String text) {
        String t = text == null ? "" : text.trim();
        try {
            int plus = t.indexOf('+');
            int dash = t.indexOf('-');
            if (plus > 0) {
                long base = number(t.substring(0, plus));
                long count = number(t.substring(plus + 1));
                if (count < 1) throw new IllegalArgumentException("count must be at least 1");
                if (base + count - 1 > MAX_ID)
                    throw new IllegalArgumentException("range ends past 0xFFFFFFFF");
                return of(base, count);
            }
            if (dash > 0) {
                long a = number(t.substring(0, dash)), b = number(t.substring(dash + 1));
                if (a > b) throw new IllegalArgumentException("first ID is above the last");
                return new FunctionRange(a, b);
            }
            return single(number(t));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "bad SMCCC function ID range '"
                            + text
                            + "': "
                            + e.getMessage()
                            + " (use FIRST-LAST, BASE+COUNT or ID, e.g. 0xC4000020-0xC400003F)");
        }
    }

    private static long number(String s) {
        String n = s.trim().toLowerCase(java.util.Locale.ROOT);
        long v;
        if (n.isEmpty() || !Character.isDigit(n.charAt(0)))
            throw new IllegalArgumentException("'" + s.trim() + "' is not a number");
        try {
            v = n.startsWith("0x") ? Long.parseLong(n.substring(2), 16) : Long.parseLong(n);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + s.trim() + "' is not a number");
        }
        if (v < 0 || v > MAX_ID)
            throw new IllegalArgumentException("'" + s.trim() + "' is not a 32-bit function ID");
        return v;
    }

    @Override
    public String toString() {
        return first == last ? Smccc.hex(first) : Smccc.hex(first) + "-" + Smccc.hex(last);
    }
}
