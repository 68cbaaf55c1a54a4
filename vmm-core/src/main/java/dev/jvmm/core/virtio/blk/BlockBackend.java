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
     * Fills {@code dst} from {@code offset}; an image that ends early is an {@link
     * java.io.EOFException}.
     */
    void read(long offset, ByteBuffer dst) throws IOException;

    /** Writes all of {@code src} at {@code offset}. */
    void write(long offset, ByteBuffer src) throws IOException;

    /** Makes every completed write durable (fdatasync). */
    void flush() throws IOException;

    /** Flushes (if writable) and releases the image. Idempotent. */
    @Override
    void close() throws IOException;
}
