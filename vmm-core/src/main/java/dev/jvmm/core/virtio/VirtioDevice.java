package dev.jvmm.core.virtio;

import java.io.IOException;

/**
 * A virtio device model, independent of the transport. The transport's {@link VirtioCore} owns
 * status, feature negotiation and ring set-up; the device sees only what was negotiated, through
 * {@link #activate}, and works on its {@link Virtqueue}s.
 *
 * <p>Threads: {@link #queueNotify} may be called on a notifier thread or a vCPU thread, for
 * different queues at once; {@link #reset} and {@link #close} may come from another thread while a
 * notification is being handled. Implementations synchronize their own state. No method may let a
 * guest error escape as an exception: guest errors are counted through the {@link
 * VirtioActivation}.
 */
public interface VirtioDevice extends AutoCloseable {
    /**
     * Virtio device ID: {@link Virtio#ID_NET}, {@link Virtio#ID_BLOCK}, {@link Virtio#ID_CONSOLE},
     * {@link Virtio#ID_RNG}.
     */
    int deviceType();

    /**
     * Device-specific feature bits; the transport adds VERSION_1 and the ring features it supports.
     */
    long deviceFeatures();

    int queueCount();

    /**
     * Largest size the driver may give each queue (a power of two, ≤ {@link
     * Virtio#MAX_QUEUE_SIZE}).
     */
    int maxQueueSize();

    /** Bytes of device config space; accesses beyond it read 0 and are ignored by the transport. */
    int configSize();

    /**
     * Fills {@code data} from config space at {@code offset}; the transport guarantees
     * offset+length ≤ configSize.
     */
    void readConfig(int offset, byte[] data);

    /**
     * A driver write to config space (already bounds-checked); devices with no writable field
     * ignore it.
     */
    default void writeConfig(int offset, byte[] data) {}

    /** Called once per DRIVER_OK with the negotiated features and ready queues. */
    void activate(VirtioActivation activation);

    /** The driver made buffers available on {@code queue} (0 ≤ queue < queueCount). */
    void queueNotify(int queue);

    /**
     * The driver reset the device: drop the activation and everything tied to it. The transport has
     * already disabled the queues (any {@code pop} returns null), so work in flight finds nothing
     * more to do.
     */
    void reset();

    /**
     * Brings the device to rest for a pause. The machine calls it with every vCPU parked and the
     * device's notifier held, so no guest request is being served; the device stops what it does on
     * its own initiative (host input, received frames) and makes completed work durable (a writable
     * disk: fdatasync). Work that arrives meanwhile waits for {@link #resume}.
     *
     * @throws IOException when completed work cannot be made durable (the pause fails)
     */
    default void quiesce() throws IOException {}

    /** Undoes {@link #quiesce}: held host input and frames reach the guest again. */
    default void resume() {}

    /**
     * The device's own guest-visible state beyond its config space derived from the backend and its
     * queues (buffered host input, a MAC), for a snapshot of a paused machine; null when there is
     * none. Transport-independent, so any transport carries it the same way.
     */
    default Record saveDeviceState() {
        return null;
    }

    /** The class of {@link #saveDeviceState}'s record; null when the device has none. */
    default Class<? extends Record> deviceStateType() {
        return null;
    }

    /**
     * Puts this freshly built device, before its activation, into {@code state} (of {@link
     * #deviceStateType}).
     *
     * @throws dev.jvmm.core.snapshot.SnapshotException naming {@code part} and the field when the
     *     record does not fit this device; nothing is applied then
     */
    default void restoreDeviceState(Record state, String part) {}

    /** Flush and close the backends. Idempotent; safe while a notification is being handled. */
    @Override
    void close();

    /** Short name for logs and metrics, e.g. {@code virtio-blk}. */
    default String name() {
        return getClass().getSimpleName();
    }
}
