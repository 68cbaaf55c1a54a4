package dev.jvmm.core.device;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The guest console's way out to the host: a bounded byte buffer the console devices (the 8250, the
 * virtio console) write into without ever waiting, drained to the sink (stdout, a {@code --serial}
 * file) by one daemon writer thread. A vCPU or device thread therefore never blocks in a host
 * write, and neither does the stop path.
 *
 * <p>When the reader stalls (stdout a pipe nobody reads, a terminal on Ctrl-S) and the buffer is
 * full, new bytes are dropped and counted, as a real UART's are when its cable is unplugged: the
 * guest never slows down or waits for the host. {@link #dropped()} is the count, which the VM logs
 * at exit. A sink that fails (EPIPE, a full disk) drops its bytes the same way.
 *
 * <p>{@link #write} never blocks and never throws (the panic watch in front of it relies on that);
 * {@link #flush} only wakes the writer. {@link #drain} waits, bounded, for the buffer to reach the
 * sink; {@link #close} drains (bounded), then stops the writer and counts whatever is left as
 * dropped. The sink itself is not closed: its owner decides.
 */
public final class ConsoleOutput extends OutputStream {
    public static final int DEFAULT_CAPACITY = 1 << 20;

    /** How long the stop path waits for buffered output to reach the sink. */
    public static final Duration DRAIN_WAIT = Duration.ofSeconds(1);

    private static final int CHUNK = 64 * 1024;
    private static final System.Logger LOG = System.getLogger(ConsoleOutput.class.getName());

    private final OutputStream sink;
    private final byte[] ring;
    private final Thread writer;
    // all guarded by this
    private int head, count;
    private boolean writing, closed, failureLogged;
    private long dropped, delivered;

    private ConsoleOutput(OutputStream sink, int capacity, String name) {
        if (capacity < 1) throw new IllegalArgumentException("capacity " + capacity);
        this.sink = sink;
        this.ring = new byte[capacity];
        this.writer = Thread.ofPlatform().daemon().name(name).unstarted(this::writeLoop);
    }

    /** A started console output of {@link #DEFAULT_CAPACITY} bytes in front of {@code sink}. */
    public static ConsoleOutput start(OutputStream sink) {
        return start(sink, DEFAULT_CAPACITY);
    }

    public static ConsoleOutput start(OutputStream sink, int capacity) {
        ConsoleOutput c = new ConsoleOutput(sink, capacity, "jvmm-console-out");
        c.writer.start();
        return c;
    }

    @Override
    public void write(int b) {
        write(new byte[] {(byte) b}, 0, 1);
    }

    /** Takes what fits in the buffer and drops (counts) the rest; never blocks. */
    @Override
    public synchronized void write(byte[] b, int off, int len) {
        java.util.Objects.checkFromIndexSize(off, len, b.length);
        if (closed) {
            dropped += len;
            return;
        }
        int n = Math.min(len, ring.length - count);
        int tail = (head + count) % ring.length;
        int first = Math.min(n, ring.length - tail);
        System.arraycopy(b, off, ring, tail, first);
        System.arraycopy(b, off + first, ring, 0, n - first);
        if (count == 0 && n > 0) notifyAll();
        count += n;
        dropped += len - n;
    }

    /** Nothing to do here: the writer flushes the sink whenever it has emptied the buffer. */
    @Override
    public void flush() {}

    /**
     * Waits until everything written so far has reached the sink, at most {@code wait}.
     *
     * @return true when the buffer is empty and no write to the sink is in progress
     */
    public synchronized boolean drain(Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (count > 0 || writing) {
            long left = deadline - System.nanoTime();
            if (left <= 0 || !writer.isAlive()) return false;
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return true;
    }

    /**
     * Drains for at most {@link #DRAIN_WAIT}, then stops the writer; bytes that did not reach the
     * sink by then count as dropped. Returns in bounded time even when the sink never returns from
     * a write (the writer, a daemon, is then left behind in it). Idempotent.
     */
    @Override
    public void close() {
        close(DRAIN_WAIT);
    }

    /** {@link #close()} with its own bound on the drain ({@link Duration#ZERO}: none). */
    public void close(Duration drainWait) {
        boolean interrupted = false;
        try {
            drain(drainWait);
        } catch (InterruptedException e) {
            interrupted = true;
        }
        synchronized (this) {
            if (!closed) {
                closed = true;
                dropped += count;
                count = 0;
                notifyAll();
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }

    /**
     * Bytes lost: the buffer was full, the sink failed, or they were still buffered at {@link
     * #close}.
     */
    public synchronized long dropped() {
        return dropped;
    }

    /** Bytes handed to the sink successfully. */
    public synchronized long delivered() {
        return delivered;
    }

    /** Bytes waiting in the buffer. */
    public synchronized int buffered() {
        return count;
    }

    private void writeLoop() {
        byte[] chunk = new byte[Math.min(CHUNK, ring.length)];
        while (true) {
            int n;
            boolean last;
            synchronized (this) {
                while (count == 0 && !closed) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        // only close() ends the writer
                    }
                }
                if (closed) return;
                n = Math.min(Math.min(count, chunk.length), ring.length - head);
                System.arraycopy(ring, head, chunk, 0, n);
                head = (head + n) % ring.length;
                count -= n;
                last = count == 0;
                writing = true;
            }
            boolean ok = deliver(chunk, n, last);
            synchronized (this) {
                writing = false;
                if (ok) delivered += n;
                else dropped += n;
                notifyAll();
            }
        }
    }

    private boolean deliver(byte[] chunk, int n, boolean last) {
        try {
            sink.write(chunk, 0, n);
            if (last) sink.flush();
            return true;
        } catch (IOException | RuntimeException e) {
            boolean log;
            synchronized (this) {
                log = !failureLogged;
                failureLogged = true;
            }
            if (log) LOG.log(Level.WARNING, "console output dropped: " + e.getMessage());
            return false;
        }
    }
}
