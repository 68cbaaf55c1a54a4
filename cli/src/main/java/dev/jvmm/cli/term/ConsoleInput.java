package dev.jvmm.cli.term;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import dev.jvmm.core.device.Uart8250Device;
import dev.jvmm.core.virtio.console.VirtioConsoleDevice;
import dev.jvmm.kvm.Errno;
import dev.jvmm.kvm.sys.Libc;
import dev.jvmm.kvm.sys.Poll;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * Feeds the host's stdin to the guest console on a daemon platform thread (a native read pins a
 * virtual thread's carrier), with kvmtool/QEMU's escapes: Ctrl-A x quits, Ctrl-A Ctrl-A sends one
 * Ctrl-A, Ctrl-A followed by anything else sends both bytes.
 *
 * <p>Bytes already read are never dropped: when the sink is full the thread waits and retries, and
 * reads no more until they are delivered, so the kernel's tty buffer is the backpressure. EOF (a
 * pipe or file on stdin running out) ends the thread and the guest keeps running.
 */
public final class ConsoleInput implements AutoCloseable {
    /** Where console bytes go: the UART's receive FIFO or the virtio console's input. */
    public interface Sink {
        /**
         * Takes up to {@code len} bytes from {@code b[off..]}; returns how many it took (0 when
         * full).
         */
        int offer(byte[] b, int off, int len);

        /** How many bytes {@link #offer} would take now. */
        int space();

        /**
         * The virtio console's input buffer (hvc0). Offers only what fits, so bytes wait in the
         * host's tty instead of being dropped while the guest posts no receive buffers.
         */
        static Sink of(VirtioConsoleDevice console) {
            return new Sink() {
                @Override
                public int offer(byte[] b, int off, int len) {
                    int n = Math.min(len, space());
                    if (n > 0) console.input(b, off, n);
                    return Math.max(n, 0);
                }

                @Override
                public int space() {
                    return VirtioConsoleDevice.MAX_PENDING_INPUT - console.pendingInput();
                }
            };
        }

        /**
         * The UART's receive FIFO. Offers only what fits: the UART counts an overflow as an
         * overrun.
         */
        static Sink of(Uart8250Device uart) {
            return new Sink() {
                @Override
                public int offer(byte[] b, int off, int len) {
                    int n = Math.min(len, uart.inputSpace());
                    return n <= 0 ? 0 : uart.enqueueInput(Arrays.copyOfRange(b, off, off + n));
                }

                @Override
                public int space() {
                    return uart.inputSpace();
                }
            };
        }
    }

    static final byte CTRL_A = 0x01;
    private static final int STDIN = 0, BUFFER = 256;

    /** How often a blocked read or a full sink looks at the stop flag. */
    private static final int POLL_MILLIS = 100, FULL_SINK_MILLIS = 2;

    private static final System.Logger LOG = System.getLogger(ConsoleInput.class.getName());

    private final InputStream stream; // null: read fd 0 with poll(2) + read(2)
    private final Sink sink;
    private final Runnable onQuit;
    private final Thread thread;
    private volatile boolean running = true;
    // Reader-thread state only. After Ctrl-A x the reader ends, so onQuit cannot run twice.
    private boolean escape; // a Ctrl-A was seen and its partner not yet
    private boolean quitSeen;

    private ConsoleInput(InputStream stream, Sink sink, Runnable onQuit) {
        this.stream = stream;
        this.sink = sink;
        this.onQuit = onQuit;
        this.thread = Thread.ofPlatform().daemon().name("jvmm-console-in").unstarted(this::run);
    }

    /**
     * Reads fd 0 directly (System.in would block uninterruptibly). {@code onQuit} runs once, on the
     * reader thread, after Ctrl-A x; it must not wait for this thread to end.
     */
    public static ConsoleInput stdin(Sink sink, Runnable onQuit) {
        return new ConsoleInput(null, sink, onQuit);
    }

    /** Reads {@code in} with blocking reads; {@link #close()} interrupts them (tests, pipes). */
    public static ConsoleInput of(InputStream in, Sink sink, Runnable onQuit) {
        return new ConsoleInput(in, sink, onQuit);
    }

    public ConsoleInput start() {
        thread.start();
        return this;
    }

    /** True until EOF, Ctrl-A x or {@link #close()} ended the reader. */
    public boolean isAlive() {
        return thread.isAlive();
    }

    /** Waits for the reader to end (EOF, quit or close); true if it did within the timeout. */
    public boolean await(long timeout, TimeUnit unit) throws InterruptedException {
        return thread.join(java.time.Duration.ofNanos(unit.toNanos(timeout)));
    }

    /**
     * Stops the reader within about {@value #POLL_MILLIS} ms; bytes not yet delivered are dropped.
     */
    @Override
    public void close() {
        running = false;
        thread.interrupt();
        if (Thread.currentThread() == thread || !thread.isAlive()) return;
        try {
            thread.join(4L * POLL_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = stream == null ? arena.allocate(BUFFER) : null;
            byte[] in = new byte[BUFFER];
            byte[] out = new byte[2 * BUFFER]; // each input byte makes at most two output bytes
            while (running) {
                int n = stream == null ? readFd(seg, in) : readStream(in);
                if (n < 0) break;
                int len = translate(in, n, out);
                if (!deliver(out, len)) return;
                if (quitSeen) { // bytes typed before the escape went out first
                    running = false;
                    onQuit.run();
                    return;
                }
            }
            if (escape && running)
                deliver(new byte[] {CTRL_A}, 1); // EOF right after Ctrl-A: meant literally
        } catch (RuntimeException | IOException e) {
            if (running) LOG.log(System.Logger.Level.WARNING, "console input stopped: " + e);
        }
    }

    /** Bytes read into {@code in} (0: nothing yet), or -1 at EOF or when stopping. */
    private int readFd(MemorySegment seg, byte[] in) {
        int ev = Poll.pollRaw(STDIN, Poll.POLLIN, POLL_MILLIS);
        if (ev == 0 || ev == -Errno.EINTR) return running ? 0 : -1;
        if (ev < 0) throw new IllegalStateException("poll(stdin): " + Errno.name(-ev));
        if ((ev & Poll.POLLNVAL) != 0) return -1; // stdin closed: nothing to read, ever
        long r = Libc.readRaw(STDIN, seg); // POLLHUP/POLLERR too: read reports EOF or the error
        if (r == -Errno.EINTR || r == -Errno.EAGAIN) return 0;
        if (r < 0) throw new IllegalStateException("read(stdin): " + Errno.name((int) -r));
        if (r == 0) return -1;
        MemorySegment.copy(seg, JAVA_BYTE, 0, in, 0, (int) r);
        return (int) r;
    }

    private int readStream(byte[] in) throws IOException {
        try {
            return stream.read(in, 0, in.length);
        } catch (InterruptedIOException e) {
            return -1;
        }
    }

    /** The escape state machine: {@code in[0..n)} to the bytes the guest gets, in {@code out}. */
    private int translate(byte[] in, int n, byte[] out) {
        int len = 0;
        for (int i = 0; i < n; i++) {
            byte b = in[i];
            if (!escape) {
                if (b == CTRL_A) escape = true;
                else out[len++] = b;
                continue;
            }
            escape = false;
            if (b == 'x') {
                quitSeen = true; // whatever follows is not for the guest any more
                break;
            }
            out[len++] = CTRL_A; // Ctrl-A Ctrl-A: one literal Ctrl-A
            if (b != CTRL_A) out[len++] = b; // Ctrl-A anything else: both bytes
        }
        return len;
    }

    /**
     * Hands all of {@code out[0..len)} to the sink, waiting while it is full; false when stopped.
     */
    private boolean deliver(byte[] out, int len) {
        int off = 0;
        while (off < len) {
            if (!running) return false;
            int took = sink.space() > 0 ? sink.offer(out, off, len - off) : 0;
            off += took;
            if (took == 0) {
                try {
                    Thread.sleep(FULL_SINK_MILLIS);
                } catch (InterruptedException e) {
                    return false; // only close() interrupts this thread
                }
            }
        }
        return true;
    }
}
