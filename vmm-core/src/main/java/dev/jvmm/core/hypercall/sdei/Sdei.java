package dev.jvmm.core.hypercall.sdei;

import dev.jvmm.core.hypercall.FunctionRange;

/**
 * SDEI 1.1 (Arm DEN0054) function IDs, return codes and field values, as Linux's
 * include/uapi/linux/arm_sdei.h and TF-A's SDEI dispatcher use them.
 */
public final class Sdei {
    private Sdei() {}

    /** All SDEI calls are SMC64 fast calls of the standard service, 0xC4000020 + n. */
    public static final int FN_BASE = 0xC400_0020;

    public static final int VERSION = FN_BASE,
            EVENT_REGISTER = FN_BASE + 1,
            EVENT_ENABLE = FN_BASE + 2,
            EVENT_DISABLE = FN_BASE + 3,
            EVENT_CONTEXT = FN_BASE + 4,
            EVENT_COMPLETE = FN_BASE + 5,
            EVENT_COMPLETE_AND_RESUME = FN_BASE + 6,
            EVENT_UNREGISTER = FN_BASE + 7,
            EVENT_STATUS = FN_BASE + 8,
            EVENT_GET_INFO = FN_BASE + 9,
            EVENT_ROUTING_SET = FN_BASE + 0x0A,
            PE_MASK = FN_BASE + 0x0B,
            PE_UNMASK = FN_BASE + 0x0C,
            INTERRUPT_BIND = FN_BASE + 0x0D,
            INTERRUPT_RELEASE = FN_BASE + 0x0E,
            EVENT_SIGNAL = FN_BASE + 0x0F,
            FEATURES = FN_BASE + 0x10,
            PRIVATE_RESET = FN_BASE + 0x11,
            SHARED_RESET = FN_BASE + 0x12;

    /**
     * The SDEI block of the standard service range (SDEI_1_0_MASK 0xFFFFFFE0):
     * 0xC4000020-0xC400003F.
     */
    public static final FunctionRange RANGE = FunctionRange.of(FN_BASE & 0xffff_ffffL, 32);

    public static final long SUCCESS = 0,
            NOT_SUPPORTED = -1,
            INVALID_PARAMETERS = -2,
            DENIED = -3,
            PENDING = -5,
            OUT_OF_RESOURCE = -10;

    /**
     * Vendor field of the version: "JVM" in ASCII, printed by Linux as {@code SDEIv1.1 (0x4a564d)}.
     */
    public static final long VENDOR = 0x4a564d;

    /** major [62:48] = 1, minor [47:32] = 1, vendor [31:0]. */
    public static final long VERSION_1_1 = 1L << 48 | 1L << 32 | VENDOR;

    /** EVENT_REGISTER / ROUTING_SET flags. */
    public static final long RM_ANY = 0, RM_PE = 1;

    /** EVENT_GET_INFO queries. */
    public static final long INFO_TYPE = 0,
            INFO_SIGNALED = 1,
            INFO_PRIORITY = 2,
            INFO_ROUTING_MODE = 3,
            INFO_ROUTING_AFFINITY = 4;

    /** EVENT_STATUS bits (also the internal state encoding). */
    public static final int STATUS_REGISTERED = 1, STATUS_ENABLED = 2, STATUS_RUNNING = 4;

    /** FEATURES queries (SDEI 1.1). */
    public static final long FEATURE_BIND_SLOTS = 0, FEATURE_RELATIVE_MODE = 1;

    /** EVENT_CONTEXT can read the interrupted x0..x17. */
    public static final int SAVED_GPREGS = 18;

    /** The standard software-signalled event, raised by EVENT_SIGNAL. */
    public static final int EVENT_0 = 0;

    /** MPIDR_EL1 Aff3..Aff0: what identifies a PE in routing affinities and EVENT_SIGNAL. */
    public static final long MPIDR_AFFINITY_MASK = 0xff_00ff_ffffL;
}
