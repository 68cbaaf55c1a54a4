package dev.jvmm.core.virtio;

/**
 * A per-queue field the driver writes, whatever register window carries it: virtio-mmio's QueueNum,
 * QueueDescLow, ... and virtio-pci's queue_size, queue_desc, ... name the same fields.
 */
public enum QueueField {
    SIZE,
    DESC_LOW,
    DESC_HIGH,
    DRIVER_LOW,
    DRIVER_HIGH,
    DEVICE_LOW,
    DEVICE_HIGH,
    READY
}
