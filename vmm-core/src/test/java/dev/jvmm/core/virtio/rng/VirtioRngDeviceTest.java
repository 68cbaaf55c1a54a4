package dev.jvmm.core.virtio.rng;

import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.virtio.GuestDriver;
import dev.jvmm.core.virtio.GuestDriver.Buf;
import dev.jvmm.core.virtio.Virtio;
import dev.jvmm.core.virtio.VirtioError;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Random;
import org.junit.jupiter.api.Test;

class VirtioRngDeviceTest {
    @Test
    void fillsOneMebibyteAcrossRequestsWithTheSourceBytesInOrder() {
        byte[] source = new byte[1 << 20];
        new Random(42).nextBytes(source);
        VirtioRngDevice dev = new VirtioRngDevice(new ByteArrayInputStream(source));
        GuestDriver g = new GuestDriver(dev).start(0, 16);
        assertEquals(Virtio.ID_RNG, g.r32(0x08));
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        Buf b = g.in(48 * 1024); // Linux asks for small amounts; any size works
        while (got.size() < source.length) {
            int want = Math.min(b.len(), source.length - got.size());
            Buf req = new Buf(b.addr(), want, true);
            assertEquals(want, g.request(0, req).len());
            got.write(g.bytes(req), 0, want);
        }
        assertArrayEquals(source, got.toByteArray());
        assertEquals(1 << 20, dev.bytesServed());
        assertEquals(0, g.transport.errors());
    }

    @Test
    void oneRequestIsBoundedTo64KiB() {
        VirtioRngDevice dev = new VirtioRngDevice(new ByteArrayInputStream(new byte[1 << 20]));
        GuestDriver g = new GuestDriver(dev).start(0, 16);
        Buf big = g.in(200_000);
        assertEquals(VirtioRngDevice.MAX_BYTES_PER_REQUEST, g.request(0, big).len());
        assertEquals(0, g.bytes(big)[65535]);
        assertEquals((byte) 0xEE, g.bytes(big)[65536]); // beyond the bound: untouched
    }

    @Test
    void endedOrFailingSourceAnswersLengthZero() {
        VirtioRngDevice dev = new VirtioRngDevice(new ByteArrayInputStream(new byte[10]));
        GuestDriver g = new GuestDriver(dev).start(0, 16);
        assertEquals(0, g.request(0, g.in(16)).len());
        assertEquals(1, g.transport.errors(VirtioError.BACKEND_IO));
        VirtioRngDevice failing =
                new VirtioRngDevice(
                        new InputStream() {
                            @Override
                            public int read() throws IOException {
                                throw new IOException("EIO");
                            }

                            @Override
                            public int read(byte[] b, int off, int len) throws IOException {
                                throw new IOException("EIO");
                            }
                        });
        GuestDriver g2 = new GuestDriver(failing).start(0, 16);
        assertEquals(0, g2.request(0, g2.in(16)).len());
        assertEquals(1, g2.transport.errors(VirtioError.BACKEND_IO));
        assertFalse(g2.transport.needsReset());
    }

    @Test
    void closeClosesTheSourceAndLaterNotificationsAreIgnored() {
        boolean[] closed = {false};
        VirtioRngDevice dev =
                new VirtioRngDevice(
                        new ByteArrayInputStream(new byte[100]) {
                            @Override
                            public void close() {
                                closed[0] = true;
                            }
                        });
        GuestDriver g = new GuestDriver(dev).start(0, 16);
        g.transport.close();
        assertTrue(closed[0]);
        g.submit(0, g.in(8));
        g.kick(0);
        assertEquals(0, g.usedIdx(0));
    }
}
