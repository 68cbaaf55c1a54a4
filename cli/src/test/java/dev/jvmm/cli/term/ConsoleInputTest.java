package dev.jvmm.cli.term;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.device.IrqLine;
import dev.jvmm.core.device.Uart8250Device;
import dev.jvmm.core.virtio.console.VirtioConsoleDevice;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ConsoleInputTest {
    private static final byte A = ConsoleInput.CTRL_A;

    /**
     * A sink that takes at most {@code perOffer} bytes per call and every other call says it is
     * full.
     */
    private static final class SlowSink implements ConsoleInput.Sink {
        final ByteArrayOutputStream got = new ByteArrayOutputStream();
        final int perOffer;
        volatile boolean full;
        int calls;

        SlowSink(int perOffer) {
            this.perOffer = perOffer;
        }

        @Override
        public synchronized int offer(byte[] b, int off, int len) {
            if (full || (++calls & 1) == 0) return 0;
            int n = Math.min(len, perOffer);
            got.write(b, off, n);
            return n;
        }

        @Override
        public int space() {
            return full ? 0 : perOffer;
        }

        synchronized byte[] bytes() {
            return got.toByteArray();
        }
    }

    /** Returns each chunk from one read() call, then EOF: escapes split across reads. */
    private static InputStream chunks(byte[]... parts) {
        ArrayDeque<byte[]> q = new ArrayDeque<>(List.of(parts));
        return new InputStream() {
            @Override
            public int read() {
                throw new UnsupportedOperationException();
            }

            @Override
            public int read(byte[] b, int off, int len) {
                byte[] c = q.poll();
                if (c == null) return -1;
                System.arraycopy(c, 0, b, off, c.length);
                return c.length;
            }
        };
    }

    private static byte[] b(Object... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (Object p : parts) {
            if (p instanceof String s) o.writeBytes(s.getBytes(StandardCharsets.UTF_8));
            else o.write((Byte) p);
        }
        return o.toByteArray();
    }

    @SuppressWarnings("ArrayRecordComponent") // a test result read field by field, never compared
    private record Run(byte[] out, int quits) {}

    private static Run run(InputStream in) throws InterruptedException {
        SlowSink sink = new SlowSink(Integer.MAX_VALUE);
        AtomicInteger quits = new AtomicInteger();
        ConsoleInput ci = ConsoleInput.of(in, sink, quits::incrementAndGet).start();
        assertTrue(ci.await(5, TimeUnit.SECONDS), "reader ends at EOF or quit");
        return new Run(sink.bytes(), quits.get());
    }

    @Test
    void plainBytesPassThroughAndEofEndsTheReaderWithoutQuitting() throws Exception {
        Run r = run(chunks(b("root\r"), b("ls -l\r", (byte) 3)));
        assertArrayEquals(b("root\rls -l\r", (byte) 3), r.out());
        assertEquals(0, r.quits());
    }

    @Test
    void ctrlATwiceSendsOneCtrlAEvenSplitAcrossReads() throws Exception {
        Run r = run(chunks(b("a", A), b(A, "b", A), b(A), b("c")));
        assertArrayEquals(b("a", A, "b", A, "c"), r.out());
    }

    @Test
    void ctrlAThenAnythingElseSendsBothBytes() throws Exception {
        Run r = run(chunks(b(A, "q", A), b("X", A, (byte) 3)));
        assertArrayEquals(b(A, "q", A, "X", A, (byte) 3), r.out());
        assertEquals(0, r.quits());
    }

    @Test
    void ctrlAXQuitsOnceAfterDeliveringWhatCameBefore() throws Exception {
        Run r = run(chunks(b("halt\r", A, "x", A, "x", "more"), b(A, "x")));
        assertArrayEquals(b("halt\r"), r.out());
        assertEquals(1, r.quits());
    }

    @Test
    void ctrlAXSplitAcrossReadsQuits() throws Exception {
        Run r = run(chunks(b("ok", A), b("x"), b("never")));
        assertArrayEquals(b("ok"), r.out());
        assertEquals(1, r.quits());
    }

    @Test
    void ctrlAJustBeforeEofIsSentLiterally() throws Exception {
        assertArrayEquals(b("z", A), run(chunks(b("z", A))).out());
    }

    @Test
    void aSinkTakingOneByteAtATimeLosesNothing() throws Exception {
        byte[] data = new byte[400]; // ~200 full-sink waits of 2 ms
        new Random(42).nextBytes(data);
        for (int i = 0; i < data.length; i++) if (data[i] == A) data[i] = 'a';
        SlowSink sink = new SlowSink(1);
        ConsoleInput ci =
                ConsoleInput.of(new java.io.ByteArrayInputStream(data), sink, () -> {}).start();
        assertTrue(ci.await(30, TimeUnit.SECONDS));
        assertArrayEquals(data, sink.bytes());
    }

    @Test
    void feedsTheUartFifoWithoutOverrunWhileTheGuestDrainsIt() throws Exception {
        Uart8250Device uart = new Uart8250Device(IrqLine.NONE, OutputStream.nullOutputStream());
        byte[] data = new byte[3_000];
        for (int i = 0; i < data.length; i++) data[i] = (byte) ('0' + i % 64);
        ConsoleInput ci =
                ConsoleInput.of(
                                new java.io.ByteArrayInputStream(data),
                                ConsoleInput.Sink.of(uart),
                                () -> {})
                        .start();
        ByteArrayOutputStream guest = new ByteArrayOutputStream();
        byte[] reg = new byte[1];
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (guest.size() < data.length && System.nanoTime() < deadline) {
            uart.read(5, reg); // LSR
            if ((reg[0] & 1) == 0) {
                Thread.onSpinWait();
                continue;
            }
            uart.read(0, reg); // RBR
            guest.write(reg[0]);
        }
        assertArrayEquals(data, guest.toByteArray());
        assertEquals(0, uart.rxDropped());
        assertTrue(ci.await(5, TimeUnit.SECONDS));
    }

    @Test
    void closeStopsAReaderBlockedInRead() throws Exception {
        PipedOutputStream w = new PipedOutputStream();
        PipedInputStream in = new PipedInputStream(w);
        SlowSink sink = new SlowSink(64);
        AtomicInteger quits = new AtomicInteger();
        ConsoleInput ci = ConsoleInput.of(in, sink, quits::incrementAndGet).start();
        w.write(b("hi"));
        w.flush();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (sink.bytes().length < 2 && System.nanoTime() < deadline) Thread.sleep(5);
        assertArrayEquals(b("hi"), sink.bytes());
        long t0 = System.nanoTime();
        ci.close();
        assertTrue(ci.await(1, TimeUnit.SECONDS));
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(1));
        assertEquals(0, quits.get());
    }

    @Test
    void closeStopsAReaderWaitingForAFullSink() throws Exception {
        SlowSink sink = new SlowSink(1);
        sink.full = true;
        ConsoleInput ci =
                ConsoleInput.of(new java.io.ByteArrayInputStream(b("stuck")), sink, () -> {})
                        .start();
        Thread.sleep(50);
        assertTrue(ci.isAlive(), "waits for space instead of dropping");
        ci.close();
        assertTrue(ci.await(1, TimeUnit.SECONDS));
        assertFalse(ci.isAlive());
        assertEquals(0, sink.bytes().length);
    }

    @Test
    void aFailingStreamEndsTheReader() throws Exception {
        InputStream broken =
                new InputStream() {
                    @Override
                    public int read() throws IOException {
                        throw new IOException("gone");
                    }

                    @Override
                    public int read(byte[] b, int off, int len) throws IOException {
                        throw new IOException("gone");
                    }
                };
        assertEquals(0, run(broken).out().length);
    }

    @Test
    void theVirtioConsoleSinkTakesOnlyWhatItsInputBufferHolds() {
        VirtioConsoleDevice hvc = new VirtioConsoleDevice(OutputStream.nullOutputStream());
        ConsoleInput.Sink sink = ConsoleInput.Sink.of(hvc);
        int max = VirtioConsoleDevice.MAX_PENDING_INPUT;
        assertEquals(max, sink.space());
        byte[] b = new byte[max];
        assertEquals(100, sink.offer(b, 0, 100));
        assertEquals(max - 100, sink.space());
        assertEquals(
                max - 100,
                sink.offer(b, 0, max),
                "the rest waits in the host tty, nothing is dropped");
        assertEquals(0, sink.offer(b, 0, 1));
        assertEquals(0, hvc.inputDropped());
        assertEquals(max, hvc.pendingInput());
    }
}
