package dev.jvmm.core.device;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ConsoleOutputTest {
    private static byte[] seq(int from, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) (from + i);
        return b;
    }

    @Test
    void everyByteReachesTheSinkInOrderAcrossTheRingsWrap() throws Exception {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        ConsoleOutput c = ConsoleOutput.start(sink, 1000);
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        for (int i = 0; i < 50; i++) {
            byte[] b = seq(i * 7, 333);
            expected.write(b);
            c.write(b, 0, b.length);
            assertTrue(
                    c.drain(Duration.ofSeconds(5)),
                    "drained"); // the writer keeps up: nothing dropped
        }
        c.close();
        assertArrayEquals(expected.toByteArray(), sink.toByteArray());
        assertEquals(0, c.dropped());
        assertEquals(50 * 333, c.delivered());
    }

    @Test
    void aFullBufferDropsTheNewestBytesAndCountsThem() {
        StalledSink stalled = new StalledSink();
        ConsoleOutput c = ConsoleOutput.start(stalled, 4096);
        try {
            c.write(seq(0, 10), 0, 10);
            awaitStuck(stalled); // the writer holds those 10 bytes
            c.write(new byte[5000], 0, 5000);
            assertEquals(4096, c.buffered());
            assertEquals(5000 - 4096, c.dropped());
            c.write('x');
            assertEquals(5000 - 4096 + 1, c.dropped());
        } finally {
            stalled.release();
        }
    }

    @Test
    void closeReturnsInBoundedTimeUnderAStalledReaderAndCountsWhatIsLeft() {
        StalledSink stalled = new StalledSink();
        ConsoleOutput c = ConsoleOutput.start(stalled, 4096);
        try {
            c.write(new byte[100], 0, 100);
            awaitStuck(stalled);
            c.write(new byte[300], 0, 300);
            long t0 = System.nanoTime();
            assertTimeoutPreemptively(Duration.ofSeconds(5), () -> c.close());
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(
                    ms >= ConsoleOutput.DRAIN_WAIT.toMillis() - 50
                            && ms < ConsoleOutput.DRAIN_WAIT.toMillis() + 1000,
                    "close took " + ms + " ms");
            assertEquals(
                    300,
                    c.dropped(),
                    "the 300 buffered bytes; the 100 in the stuck write are not counted yet");
            c.write(new byte[7], 0, 7);
            assertEquals(307, c.dropped(), "writes after close are dropped");
        } finally {
            stalled.release();
        }
    }

    @Test
    void aFailingSinkDropsAndCountsButNeverThrowsToTheWriter() throws Exception {
        OutputStream broken =
                new OutputStream() {
                    @Override
                    public void write(int b) throws IOException {
                        throw new IOException("Broken pipe");
                    }

                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        throw new IOException("Broken pipe");
                    }
                };
        ConsoleOutput c = ConsoleOutput.start(broken, 4096);
        for (int i = 0; i < 10; i++) {
            c.write(new byte[50], 0, 50);
            c.drain(Duration.ofSeconds(5));
        }
        c.close();
        assertEquals(500, c.dropped());
        assertEquals(0, c.delivered());
    }

    private static void awaitStuck(StalledSink s) {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!s.entered()) {
            if (System.nanoTime() > deadline) fail("the writer never wrote to the sink");
            Thread.onSpinWait();
        }
    }
}
