package dev.jvmm.core.virtio;

/**
 * One queue of a {@link VirtioState}: the registers the driver programmed and, once the device is
 * active, where the device stands in the rings. The rings themselves are in guest RAM, which the
 * snapshot carries whole.
 *
 * @param size QueueNum as written
 * @param ready QueueReady
 * @param desc descriptor table address
 * @param avail driver (avail) ring address
 * @param used device (used) ring address
 * @param nextAvail the avail ring index the device consumes next (u16, free-running)
 * @param nextUsed the used index the device last published (u16, free-running)
 * @param signalledUsed the used index at the device's last interrupt decision (event-idx
 *     suppression compares against it)
 * @param broken ring corruption stopped the queue (the device waits for a driver reset)
 */
public record VirtqueueState(
        int size,
        boolean ready,
        long desc,
        long avail,
        long used,
        int nextAvail,
        int nextUsed,
        int signalledUsed,
        boolean broken) {}
