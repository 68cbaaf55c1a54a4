package dev.jvmm.core.virtio.net;

import java.io.Closeable;
import java.io.IOException;

/**
 * Ethernet frames to and from the host side of a virtio-net device (a tap in real runs), without
 * any virtio-net header: the device adds and strips that itself.
 */
public interface NetBackend extends Closeable {
    /**
     * Blocks until one frame arrives and copies it into {@code buf[off, off+len)} (a longer frame
     * is truncated by the backend and should be counted there). Returns the frame length, or -1
     * once closed.
     */
    int read(byte[] buf, int off, int len) throws IOException;

    /** Sends one frame. */
    void write(byte[] buf, int off, int len) throws IOException;

    /**
     * Releases the backend; a thread blocked in {@link #read} must return -1 (or throw) promptly.
     */
    @Override
    void close() throws IOException;
}
