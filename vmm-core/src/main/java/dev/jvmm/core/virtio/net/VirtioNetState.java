package dev.jvmm.core.virtio.net;

/**
 * What a snapshot keeps of a {@link VirtioNetDevice} beyond its queues: the config space the guest
 * saw. The tap is host plumbing and not here.
 *
 * @param mac the MAC address in config space, {@code aa:bb:cc:dd:ee:ff}
 * @param status the config status field (VIRTIO_NET_S_LINK_UP)
 */
public record VirtioNetState(String mac, int status) {}
