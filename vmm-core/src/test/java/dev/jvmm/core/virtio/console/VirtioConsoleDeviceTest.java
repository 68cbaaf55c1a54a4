package dev.jvmm.core.virtio.console;

import static dev.jvmm.core.virtio.console.VirtioConsoleDevice.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.device.ConsoleOutput;
import dev.jvmm.core.device.StalledSink;
import dev.jvmm.core.virtio.GuestDriver;
import dev.jvmm.core.virtio.GuestDriver.Buf;
import dev.jvmm.core.virtio.GuestDriver.Used;
import dev.jvmm.core.virtio.Virtio;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class VirtioConsoleDeviceTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final VirtioConsoleDevice dev = new VirtioConsoleDevice(out);
    private final GuestDriver g = new GuestDriver(dev).start(0, 16);

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void guestOutputGoesToTheStreamInOrder() {
        assertEquals(Virtio.ID_CONSOLE, g.r32(0x08));
        assertEquals(0, g.request(TX, g.out(ascii("hello "))).len());
        assertEquals(0, g.request(TX, g.out(ascii("wor")), g.out(ascii("ld\n"))).len());
        assertEquals("hello world\n", out.toString(StandardCharsets.US_ASCII));
    }

    @Test
    void hostInputWaitsForReceiveBuffersThenFillsThem() {
        dev.input(ascii("abcdefgh"));
        assertEquals(8, dev.pendingInput());
        Buf b1 = g.in(5), b2 = g.in(16);
        g.submit(RX, b1);
        g.submit(RX, b2);
        g.kick(RX);
        assertEquals(List.of(new Used(0, 5), new Used(1, 3)), g.used(RX));
        assertEquals("abcde", new String(g.bytes(b1), StandardCharsets.US_ASCII));
        assertEquals("fgh", new String(g.bytes(b2), 0, 3, StandardCharsets.US_ASCII));
        Buf b3 = g.in(4);
        g.submit(RX, b3);
        g.kick(RX);
        assertTrue(g.used(RX).isEmpty()); // posted, nothing to say yet
        dev.input(ascii("xy"));
        assertEquals(List.of(new Used(2, 2)), g.used(RX));
        assertEquals("xy", new String(g.bytes(b3), 0, 2, StandardCharsets.US_ASCII));
        assertEquals(0, dev.pendingInput());
        assertEquals(2, g.interrupts.get()); // one per batch that used buffers
    }

    @Test
    void inputBeyondTheBufferLimitIsDroppedAndCounted() {
        byte[] flood = new byte[MAX_PENDING_INPUT + 1000];
        dev.input(flood);
        dev.input(new byte[10]);
        assertEquals(MAX_PENDING_INPUT, dev.pendingInput());
        assertEquals(1010, dev.inputDropped());
    }

    @Test
    void inputBeforeDriverOkIsDeliveredOnActivation() {
        VirtioConsoleDevice d = new VirtioConsoleDevice(new ByteArrayOutputStream());
        GuestDriver g2 = new GuestDriver(d);
        d.input(ascii("early"));
        g2.negotiate(Virtio.bit(Virtio.F_VERSION_1));
        g2.setupQueue(RX, 16);
        g2.setupQueue(TX, 16);
        Buf b = g2.in(8);
        g2.submit(RX, b); // buffers posted before DRIVER_OK
        g2.driverOk();
        assertEquals(List.of(new Used(0, 5)), g2.used(RX));
        assertEquals("early", new String(g2.bytes(b), 0, 5, StandardCharsets.US_ASCII));
    }

    /**
     * Issue 11: the transmit path (a notifier thread, under the TX lock) and close must return
     * while the console's reader stalls; the guest's buffers are all returned and what did not fit
     * is dropped.
     */
    @Test
    void aStalledConsoleReaderNeverBlocksTransmitOrClose() {
        StalledSink stalled = new StalledSink();
        OutputStream console = console(stalled);
        VirtioConsoleDevice d = new VirtioConsoleDevice(console);
        GuestDriver g2 = new GuestDriver(d).start(0, 16);
        byte[] line = new byte[4096];
        java.util.Arrays.fill(line, (byte) 'x');
        int requests = 600; // 2.4 MiB: over twice the console buffer
        try {
            assertTimeoutPreemptively(
                    Duration.ofSeconds(20),
                    () -> {
                        for (int i = 0; i < requests; i++)
                            assertEquals(0, g2.request(TX, g2.out(line)).len());
                    });
            assertTimeoutPreemptively(Duration.ofSeconds(5), d::close);
            ConsoleOutput co = (ConsoleOutput) console;
            assertTimeoutPreemptively(Duration.ofSeconds(5), () -> co.close());
            assertTrue(
                    co.dropped()
                            >= (long) requests * line.length
                                    - ConsoleOutput.DEFAULT_CAPACITY
                                    - 64 * 1024,
                    "dropped " + co.dropped());
        } finally {
            stalled.release();
        }
    }

    /**
     * The console as the VM builder hands it to the device: a {@link ConsoleOutput} in front of the
     * sink.
     */
    static OutputStream console(OutputStream sink) {
        return ConsoleOutput.start(sink);
    }
}
