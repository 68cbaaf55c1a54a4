package dev.jvmm.core.virtio.console;

/**
 * What a snapshot keeps of a {@link VirtioConsoleDevice} beyond its queues: host input the guest
 * has not yet taken into a receive buffer. Without MULTIPORT or SIZE the config space is all zeros,
 * so there is no port or size state.
 *
 * @param pendingInput buffered host input, oldest first
 */
@SuppressWarnings("ArrayRecordComponent") // plain snapshot data, never compared with equals
public record VirtioConsoleState(byte[] pendingInput) {}
