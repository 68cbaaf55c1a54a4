package dev.jvmm.core.virtio.blk;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/** Storage behind a virtio-blk device: a byte-addressed image of fixed size. */
public interface BlockBackend extends Closeable {
    /** Image size in bytes (fixed for the device's life). */
    long size();

    boolean isReadOnly();

    /**
     * Fills {@code dsts} in order from {@code offset} (a scattering read: one request's guest
     * buffers in one system call where the backend can); an image that ends early is an {@link
     * java.io.EOFException}.
     */
    void read(long offset, ByteBuffer... dsts) throws IOException;

    /**
     * Writes all of {@code srcs}, in order, from {@code offset} (a gathering write: one request's
     * guest buffers in one system call where the backend can).
     */
    void write(long offset, ByteBuffer... srcs) throws IOException;

    /** Makes every completed write durable (fdatasync). */
    void flush() throws IOException;

    /** Flushes (if writable) and releases the image. Idempotent. */
    @Override
    void close() throws IOException;
}
