package dev.jvmm.core.virtio;

/**
 * Numbers from the virtio 1.x specification that the transport, the rings and the devices share.
 */
public final class Virtio {
    private Virtio() {}

    // Device IDs (spec 5): the DeviceID register.
    public static final int ID_NET = 1;
    public static final int ID_BLOCK = 2;
    public static final int ID_CONSOLE = 3;
    public static final int ID_RNG = 4;

    // Device status bits (spec 2.1).
    public static final int STATUS_ACKNOWLEDGE = 1;
    public static final int STATUS_DRIVER = 2;
    public static final int STATUS_DRIVER_OK = 4;
    public static final int STATUS_FEATURES_OK = 8;
    public static final int STATUS_NEEDS_RESET = 0x40;
    public static final int STATUS_FAILED = 0x80;

    // Transport/ring feature bits (spec 6) as bit numbers.
    public static final int F_RING_INDIRECT_DESC = 28;
    public static final int F_RING_EVENT_IDX = 29;
    public static final int F_VERSION_1 = 32;

    // Descriptor flags (spec 2.7.5).
    public static final int DESC_F_NEXT = 1;
    public static final int DESC_F_WRITE = 2;
    public static final int DESC_F_INDIRECT = 4;
    public static final int DESC_SIZE = 16;

    /**
     * avail.flags bit: the driver asks not to be interrupted (ignored once EVENT_IDX is
     * negotiated).
     */
    public static final int AVAIL_F_NO_INTERRUPT = 1;

    /** Largest queue size the split ring allows (spec 2.7: Queue Size ≤ 32768). */
    public static final int MAX_QUEUE_SIZE = 32768;

    /** InterruptStatus bits (spec 4.2.2). */
    public static final int INT_USED_BUFFER = 1;

    public static final int INT_CONFIG_CHANGE = 2;

    public static long bit(int feature) {
        return 1L << feature;
    }
}
