package dev.jvmm.core.hypercall;

/**
 * SMC Calling Convention facts (Arm DEN0028): return codes and the fields of a function ID.
 * Function IDs are handled as Java ints holding the unsigned 32-bit value; {@link #unsigned} widens
 * them.
 */
public final class Smccc {
    private Smccc() {}

    public static final long SUCCESS = 0;
    public static final long NOT_SUPPORTED = -1;
    public static final long NOT_REQUIRED = -2;
    public static final long INVALID_PARAMETER = -3;

    /** Owning entities (bits 29:24). */
    public static final int OWNER_ARCH = 0,
            OWNER_STANDARD = 4,
            OWNER_STANDARD_HYP = 5,
            OWNER_VENDOR_HYP = 6;

    /** Registers x0..x17 carry arguments and (SMCCC 1.2) results. */
    public static final int MAX_REGS = 18;

    /**
     * True for SMC64/HVC64 calls (bit 30): arguments are 64-bit; for SMC32 only the low 32 bits
     * count.
     */
    public static boolean is64(int functionId) {
        return (functionId & (1 << 30)) != 0;
    }

    public static int owner(int functionId) {
        return (functionId >>> 24) & 0x3f;
    }

    /** The function number within the owner's range (bits 15:0). */
    public static int number(int functionId) {
        return functionId & 0xffff;
    }

    public static long unsigned(int functionId) {
        return functionId & 0xffff_ffffL;
    }

    public static String hex(long functionId) {
        return String.format("0x%08X", functionId & 0xffff_ffffL);
    }
}
