package dev.jvmm.core.virtio;

import dev.jvmm.core.memory.GuestMemory;
import java.util.List;

/**
 * What a device gets at DRIVER_OK: the negotiated features, one ready {@link Virtqueue} per queue,
 * guest memory, and the way back to the transport for errors and config-change interrupts. Valid
 * until the next reset; after that its queues return nothing and report nothing.
 */
public final class VirtioActivation {
    private final long features;
    private final List<Virtqueue> queues;
    private final GuestMemory memory;
    private final VirtioHost host;

    VirtioActivation(long features, List<Virtqueue> queues, GuestMemory memory, VirtioHost host) {
        this.features = features;
        this.queues = List.copyOf(queues);
        this.memory = memory;
        this.host = host;
    }

    /** Negotiated feature bits (device and transport bits). */
    public long features() {
        return features;
    }

    public boolean hasFeature(int bit) {
        return (features & (1L << bit)) != 0;
    }

    public Virtqueue queue(int index) {
        return queues.get(index);
    }

    public List<Virtqueue> queues() {
        return queues;
    }

    public GuestMemory memory() {
        return memory;
    }

    /** Counts a guest request the device could not serve (logged once per kind). */
    public void error(VirtioError kind, String detail) {
        host.error(kind, detail);
    }

    /**
     * Counts the error and marks the device NEEDS_RESET: it cannot go on without a driver reset.
     */
    public void fail(VirtioError kind, String detail) {
        host.fail(kind, detail);
    }

    /**
     * The device changed its config space (e.g. link status): new generation and a config
     * interrupt.
     */
    public void configChanged() {
        host.configChanged();
    }
}
