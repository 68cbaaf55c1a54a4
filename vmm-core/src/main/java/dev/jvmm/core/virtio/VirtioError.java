package dev.jvmm.core.virtio;

/**
 * What a guest did wrong (or what failed underneath it), one counter each. A guest error never
 * throws out of the transport, the rings or a device: it is counted under one of these, logged once
 * per kind, and answered the way the kind's comment says.
 */
public enum VirtioError {
    /**
     * Register access of a size other than 4, an unknown offset, a write to a read-only register:
     * ignored, reads 0.
     */
    REGISTER_ACCESS,
    /** A register or status write the current device status does not allow: ignored. */
    WRONG_STATE,
    /**
     * FEATURES_OK with features the device did not offer or without VERSION_1: FEATURES_OK stays
     * clear.
     */
    FEATURES_REJECTED,
    /** QueueSel or QueueNotify naming a queue the device does not have: ignored. */
    QUEUE_INDEX,
    /**
     * QueueReady=1 with a bad size (0, not a power of two, above the maximum) or
     * misaligned/outside-RAM rings: stays 0.
     */
    QUEUE_INVALID,
    /** DRIVER_OK while a queue is not ready: the device is not activated and asks for a reset. */
    QUEUE_NOT_READY,
    /**
     * Config-space access beyond the device's config size, or a write before DRIVER: ignored, reads
     * 0.
     */
    CONFIG_ACCESS,
    /** Avail ring entry with a head index ≥ queue size: the queue stops, device NEEDS_RESET. */
    HEAD_OUT_OF_RANGE,
    /** avail.idx moved by more than the queue size: the queue stops, device NEEDS_RESET. */
    AVAIL_INDEX_OVERRUN,
    /** Descriptor {@code next} ≥ queue (or indirect table) size: chain returned with length 0. */
    NEXT_OUT_OF_RANGE,
    /**
     * Chain longer than the queue (or indirect table) size, i.e. a loop: chain returned with length
     * 0.
     */
    CHAIN_LOOP,
    /** A descriptor of length 0: chain returned with length 0. */
    ZERO_LENGTH,
    /** Chain total length above 2^32 - 1: chain returned with length 0. */
    LENGTH_OVERFLOW,
    /**
     * Descriptor buffer (or indirect table) not wholly inside guest RAM: chain returned with length
     * 0.
     */
    ADDRESS_OUT_OF_RANGE,
    /** A device-readable descriptor after a device-writable one: chain returned with length 0. */
    READABLE_AFTER_WRITABLE,
    /**
     * INDIRECT flag without VIRTIO_RING_F_INDIRECT_DESC negotiated: chain returned with length 0.
     */
    INDIRECT_NOT_NEGOTIATED,
    /** INDIRECT inside an indirect table: chain returned with length 0. */
    INDIRECT_NESTED,
    /** INDIRECT together with NEXT (the spec forbids it): chain returned with length 0. */
    INDIRECT_WITH_NEXT,
    /**
     * Indirect table length 0, not a multiple of 16, or more than 65535 entries: chain returned
     * with length 0.
     */
    INDIRECT_LENGTH,
    /**
     * A well-formed chain whose content the device cannot parse (e.g. a short block header): length
     * 0.
     */
    BAD_REQUEST,
    /**
     * A request the device understood but refuses (e.g. sector out of range): answered with an
     * error status.
     */
    REQUEST_REJECTED,
    /**
     * The host backend failed (I/O error): answered with an error status where the device has one.
     */
    BACKEND_IO,
    /** A guest-memory bounds failure caught at the device boundary: device NEEDS_RESET. */
    GUEST_MEMORY,
    /**
     * An unexpected exception inside a device (a VMM bug): device NEEDS_RESET, the calling thread
     * lives on.
     */
    DEVICE_FAILURE
}
