package dev.jvmm.core.virtio;

/** What rings and devices report back to their transport; implemented by the transport. */
interface VirtioHost {
    /** Counts a guest or backend error. */
    void error(VirtioError kind, String detail);

    /** Counts the error and marks the device NEEDS_RESET (stops further activation-bound work). */
    void fail(VirtioError kind, String detail);

    /** Used buffers were added to queue {@code queue} and the driver wants to hear about it. */
    void usedBuffer(int queue);

    /** Device configuration changed: bump ConfigGeneration and interrupt. */
    void configChanged();
}
