package dev.jvmm.core.virtio.net;

import java.io.IOException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * An in-memory {@link NetBackend}: frames for the guest are queued by the test, frames from it
 * collected.
 */
final class QueueNetBackend implements NetBackend {
    private static final byte[] CLOSED = new byte[0];
    final BlockingQueue<byte[]> toGuest = new LinkedBlockingQueue<>();
    final BlockingQueue<byte[]> fromGuest = new LinkedBlockingQueue<>();
    volatile boolean closed;

    @Override
    @SuppressWarnings(
            "ReferenceEquality") // CLOSED is a sentinel: only that array ends the stream, not any
    // empty frame
    public int read(byte[] buf, int off, int len) throws IOException {
        try {
            byte[] f = toGuest.take();
            if (f == CLOSED) {
                toGuest.add(CLOSED);
                return -1;
            }
            int n = Math.min(len, f.length);
            System.arraycopy(f, 0, buf, off, n);
            return n;
        } catch (InterruptedException e) {
            throw new IOException("interrupted", e);
        }
    }

    @Override
    public void write(byte[] buf, int off, int len) throws IOException {
        if (closed) throw new IOException("closed");
        fromGuest.add(java.util.Arrays.copyOfRange(buf, off, off + len));
    }

    @Override
    public void close() {
        closed = true;
        toGuest.add(CLOSED);
    }

    byte[] sent() throws InterruptedException {
        return fromGuest.poll(5, TimeUnit.SECONDS);
    }
}
