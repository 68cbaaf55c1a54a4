package dev.jvmm.core.virtio;

/**
 * One interrupt edge to the guest for a virtio device: an irqfd write in real runs, a counting fake
 * in tests. The transport has already set the InterruptStatus bits that say why; it never calls
 * this for a notification the driver suppressed. May be called from any thread and must not block
 * for long.
 */
@FunctionalInterface
public interface VirtioInterrupt {
    /** The source of a configuration-change interrupt; queue interrupts name their queue. */
    int CONFIG = -1;

    void trigger();

    /**
     * An edge for {@code source}: the index of a queue with used buffers, or {@link #CONFIG}. A
     * transport with one interrupt (virtio-mmio, INTx) ignores the source; MSI-X picks the vector
     * the driver assigned to it.
     */
    default void trigger(int source) {
        trigger();
    }
}
