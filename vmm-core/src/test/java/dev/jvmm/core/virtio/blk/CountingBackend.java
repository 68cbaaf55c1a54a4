package dev.jvmm.core.virtio.blk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Wraps a backend, counting flushes and closes, and failing every I/O once {@link #fail} is set.
 */
class CountingBackend implements BlockBackend {
    final BlockBackend inner;
    final AtomicInteger flushes = new AtomicInteger(), closes = new AtomicInteger();
    volatile boolean fail;

    CountingBackend(BlockBackend inner) {
        this.inner = inner;
    }

    @Override
    public long size() {
        return inner.size();
    }

    @Override
    public boolean isReadOnly() {
        return inner.isReadOnly();
    }

    @Override
    public void read(long offset, ByteBuffer... dst) throws IOException {
        if (fail) throw new IOException("injected read failure");
        inner.read(offset, dst);
    }

    @Override
    public void write(long offset, ByteBuffer... src) throws IOException {
        if (fail) throw new IOException("injected write failure");
        inner.write(offset, src);
    }

    @Override
    public void flush() throws IOException {
        if (fail) throw new IOException("injected flush failure");
        flushes.incrementAndGet();
        inner.flush();
    }

    @Override
    public void close() throws IOException {
        closes.incrementAndGet();
        inner.close();
    }
}
