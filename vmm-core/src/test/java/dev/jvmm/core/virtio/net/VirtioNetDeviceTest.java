package dev.jvmm.core.virtio.net;

import static dev.jvmm.core.virtio.net.VirtioNetDevice.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.virtio.GuestDriver;
import dev.jvmm.core.virtio.GuestDriver.Buf;
import dev.jvmm.core.virtio.GuestDriver.Used;
import dev.jvmm.core.virtio.Virtio;
import dev.jvmm.core.virtio.VirtioError;
import java.util.Arrays;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class VirtioNetDeviceTest {
    private static final byte[] MAC = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
    private final QueueNetBackend backend = new QueueNetBackend();
    private final VirtioNetDevice dev = new VirtioNetDevice(backend, MAC);
    private final GuestDriver g = new GuestDriver(dev);

    @AfterEach
    void close() {
        g.transport.close();
    }

    private static byte[] frame(int len, int seed) {
        byte[] f = new byte[len];
        for (int i = 0; i < len; i++) f[i] = (byte) (seed + i);
        return f;
    }

    private static void await(BooleanSupplier c, String what) throws InterruptedException {
        long end = System.nanoTime() + 5_000_000_000L;
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > end) fail("timed out waiting for " + what);
            Thread.sleep(2);
        }
    }

    private GuestDriver start() {
        return g.start(Virtio.bit(F_MAC) | Virtio.bit(F_STATUS), 16);
    }

    @Test
    void configCarriesMacAndLinkUp() {
        assertEquals(
                Virtio.bit(F_MAC) | Virtio.bit(F_STATUS),
                g.deviceFeatures() & 0xFFFF_FFFFL & ~(3L << 28));
        assertArrayEquals(MAC, g.readConfig(0, 6));
        assertArrayEquals(new byte[] {1, 0}, g.readConfig(6, 2));
        assertEquals(Virtio.ID_NET, g.r32(0x08));
    }

    @Test
    void transmitStripsTheHeader() throws InterruptedException {
        start();
        byte[] f = frame(60, 1);
        byte[] hdr = new byte[HDR_LEN];
        hdr[0] = 1; // whatever the guest puts there is not sent
        assertEquals(
                0,
                g.request(
                                TX,
                                g.out(hdr),
                                g.out(Arrays.copyOf(f, 20)),
                                g.out(Arrays.copyOfRange(f, 20, 60)))
                        .len());
        assertArrayEquals(f, backend.sent());
        assertEquals(1, dev.txFrames());
    }

    @Test
    void transmitChainWithoutAFrameIsDroppedAndCounted() {
        start();
        assertEquals(0, g.request(TX, g.out(new byte[HDR_LEN])).len());
        assertEquals(1, g.transport.errors(VirtioError.BAD_REQUEST));
        assertEquals(1, dev.txDropped());
        assertTrue(backend.fromGuest.isEmpty());
    }

    @Test
    void receivePrependsAZeroedHeaderAndWaitsForBuffers() throws InterruptedException {
        start();
        byte[] f1 = frame(64, 7), f2 = frame(1514, 9);
        backend.toGuest.add(f1);
        backend.toGuest.add(f2);
        Thread.sleep(50);
        assertEquals(0, g.usedIdx(RX)); // no buffer posted yet: the frame waits
        Buf b1 = g.in(1526);
        g.submit(RX, b1);
        g.kick(RX);
        await(() -> g.usedIdx(RX) == 1, "first frame");
        Buf b2 = g.in(1526);
        g.submit(RX, b2);
        g.kick(RX);
        await(() -> g.usedIdx(RX) == 2, "second frame");
        assertEquals(List.of(new Used(0, 76), new Used(1, 1526)), g.used(RX));
        byte[] hdr = new byte[HDR_LEN];
        hdr[10] = 1; // num_buffers = 1
        assertArrayEquals(hdr, Arrays.copyOf(g.bytes(b1), HDR_LEN));
        assertArrayEquals(f1, Arrays.copyOfRange(g.bytes(b1), HDR_LEN, HDR_LEN + 64));
        assertArrayEquals(f2, Arrays.copyOfRange(g.bytes(b2), HDR_LEN, HDR_LEN + 1514));
        assertEquals(2, dev.rxFrames());
    }

    @Test
    void frameTooBigForTheBufferIsDroppedAndTheBufferKept() throws InterruptedException {
        start();
        Buf small = g.in(100);
        g.submit(RX, small);
        g.kick(RX);
        backend.toGuest.add(frame(200, 3));
        await(() -> dev.rxDropped() == 1, "drop");
        assertEquals(0, g.usedIdx(RX));
        backend.toGuest.add(frame(88, 4)); // fits 100 with the header
        await(() -> g.usedIdx(RX) == 1, "fitting frame");
        assertEquals(List.of(new Used(0, 100)), g.used(RX));
        assertEquals(1, g.transport.errors(VirtioError.REQUEST_REJECTED));
    }

    @Test
    void framesWhileInactiveAreDropped() throws InterruptedException {
        start();
        g.w32(0x70, 0); // driver reset
        backend.toGuest.add(frame(60, 1));
        await(() -> dev.rxDropped() == 1, "drop while reset");
        start(); // and it works again after re-activation
        Buf b = g.in(100);
        g.submit(RX, b);
        g.kick(RX);
        backend.toGuest.add(frame(60, 2));
        await(() -> g.usedIdx(RX) == 1, "frame after restart");
    }

    @Test
    void closeUnblocksTheReceiveThreadAndClosesTheBackend() throws InterruptedException {
        start();
        backend.toGuest.add(frame(60, 1)); // a frame waiting for a buffer that never comes
        Thread.sleep(20);
        g.transport.close();
        assertTrue(backend.closed);
        Thread rx =
                Thread.getAllStackTraces().keySet().stream()
                        .filter(t -> t.getName().equals("virtio-net-rx") && t.isAlive())
                        .findFirst()
                        .orElse(null);
        if (rx != null) { // another test's device may still be closing its own
            rx.join(5000);
        }
        g.transport.close(); // idempotent
    }
}
