package dev.jvmm.core.device;

import java.io.OutputStream;
import java.util.concurrent.CountDownLatch;

/**
 * A console reader that stopped reading: like a write(2) to a full pipe, {@link #write} blocks
 * until {@link #release()} (interrupts do not end it either). Bytes accepted after the release are
 * counted.
 */
public final class StalledSink extends OutputStream {
    private final CountDownLatch released = new CountDownLatch(1);
    private final CountDownLatch entered = new CountDownLatch(1);
    private long accepted;

    @Override
    public void write(int b) {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) {
        entered.countDown();
        boolean interrupted = false;
        while (true) {
            try {
                released.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        synchronized (this) {
            accepted += len;
        }
        if (interrupted) Thread.currentThread().interrupt();
    }

    /** Whether some thread has started a write (and is stuck in it, unless released). */
    public boolean entered() {
        return entered.getCount() == 0;
    }

    public void release() {
        released.countDown();
    }

    public synchronized long accepted() {
        return accepted;
    }
}
