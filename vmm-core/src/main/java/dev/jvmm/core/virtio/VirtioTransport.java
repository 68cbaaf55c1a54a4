package dev.jvmm.core.virtio;

/**
 * One virtio device behind one transport's register window; what the machine needs of any transport
 * to wire, reset and close it.
 */
public interface VirtioTransport extends AutoCloseable {
    VirtioCore core();

    default VirtioDevice device() {
        return core().device();
    }

    /** The driver notified queue {@code queue} (the ioeventfd path). Never throws. */
    void notifyQueue(int queue);

    /** Resets the device as the driver's status-0 write would. */
    void reset();

    /** Resets and closes the device (flushes its backends). Idempotent. */
    @Override
    void close();
}
