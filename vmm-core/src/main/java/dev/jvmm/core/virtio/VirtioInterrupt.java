package dev.jvmm.core.virtio;

/**
 * One interrupt edge to the guest for a virtio device: an irqfd write in real runs, a counting fake
 * in tests. The transport has already set the InterruptStatus bits that say why; it never calls
 * this for a notification the driver suppressed. May be called from any thread and must not block
 * for long.
 */
@FunctionalInterface
public interface VirtioInterrupt {
    void trigger();
}
