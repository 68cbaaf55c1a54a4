package dev.jvmm.core.virtio.blk;

import static dev.jvmm.core.virtio.blk.BlkTestSupport.*;
import static dev.jvmm.core.virtio.blk.VirtioBlkDevice.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.virtio.GuestDriver;
import dev.jvmm.core.virtio.GuestDriver.Buf;
import dev.jvmm.core.virtio.GuestDriver.Used;
import dev.jvmm.core.virtio.Virtio;
import dev.jvmm.core.virtio.VirtioError;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * virtio-blk happy paths and B1–B8 of PEER-RELIABILITY.md §5 (B7's kill -9 half is a boot-tier
 * test).
 */
class VirtioBlkDeviceTest {
    private static final int SECTORS = 64;
    @TempDir Path dir;
    private Path img;
    private byte[] original;
    private CountingBackend backend;
    private GuestDriver g;

    private void open(boolean readOnly) throws IOException {
        img = image(dir, SECTORS);
        original = Files.readAllBytes(img);
        backend = new CountingBackend(FileBlockBackend.open(img, readOnly));
        g =
                new GuestDriver(new VirtioBlkDevice(backend, "jvmm-disk-serial-0123456789"))
                        .start(0, 16);
    }

    @AfterEach
    void close() {
        if (g != null) g.transport.close();
    }

    private byte[] sectors(byte[] image, long sector, int n) {
        return Arrays.copyOfRange(image, (int) sector * 512, (int) (sector + n) * 512);
    }

    @Test
    void configAndFeatures() throws IOException {
        open(false);
        assertEquals(
                SECTORS,
                ByteBuffer.wrap(g.readConfig(0, 8)).order(ByteOrder.LITTLE_ENDIAN).getLong());
        assertEquals(
                254, ByteBuffer.wrap(g.readConfig(12, 4)).order(ByteOrder.LITTLE_ENDIAN).getInt());
        assertEquals(
                512, ByteBuffer.wrap(g.readConfig(20, 4)).order(ByteOrder.LITTLE_ENDIAN).getInt());
        long f = g.deviceFeatures();
        assertEquals(
                Virtio.bit(F_SEG_MAX) | Virtio.bit(F_BLK_SIZE) | Virtio.bit(F_FLUSH),
                f & 0xFFFF_FFL);
        assertEquals(Virtio.ID_BLOCK, g.r32(0x08));
    }

    @Test
    void readReturnsTheImageBytesWhateverTheLayout() throws IOException {
        open(false);
        byte[] h = header(T_IN, 5);
        // header split over two descriptors, data over two, status alone (ANY_LAYOUT)
        Buf h1 = g.out(Arrays.copyOf(h, 6)), h2 = g.out(Arrays.copyOfRange(h, 6, 16));
        Buf d1 = g.in(700), d2 = g.in(324), st = g.in(1);
        Used u = g.request(0, h1, h2, d1, d2, st);
        assertEquals(1025, u.len());
        assertEquals(S_OK, status(g, st));
        byte[] got = new byte[1024];
        System.arraycopy(g.bytes(d1), 0, got, 0, 700);
        System.arraycopy(g.bytes(d2), 0, got, 700, 324);
        assertArrayEquals(sectors(original, 5, 2), got);
        assertEquals(0, g.transport.errors());
    }

    @Test
    void writeThenReadBack() throws IOException {
        open(false);
        byte[] data = pattern(1536, 3);
        Buf st = g.in(1);
        assertEquals(
                1,
                g.request(
                                0,
                                header(g, T_OUT, 10),
                                g.out(Arrays.copyOf(data, 512)),
                                g.out(Arrays.copyOfRange(data, 512, 1536)),
                                st)
                        .len());
        assertEquals(S_OK, status(g, st));
        byte[] now = Files.readAllBytes(img);
        assertArrayEquals(data, sectors(now, 10, 3));
        byte[] expect = original.clone();
        System.arraycopy(data, 0, expect, 10 * 512, 1536);
        assertArrayEquals(expect, now, "bytes outside sectors 10-12 changed");
        Buf d = g.in(1536), st2 = g.in(1);
        g.request(0, header(g, T_IN, 10), d, st2);
        assertArrayEquals(data, g.bytes(d));
    }

    @Test
    void b7_flushForcesWrittenDataToTheFile() throws IOException {
        open(false);
        byte[] data = pattern(512, 9);
        g.request(0, header(g, T_OUT, 0), g.out(data), g.in(1));
        Buf st = g.in(1);
        assertEquals(1, g.request(0, header(g, T_FLUSH, 0), st).len());
        assertEquals(S_OK, status(g, st));
        assertEquals(1, backend.flushes.get());
        assertArrayEquals(data, sectors(Files.readAllBytes(img), 0, 1));
    }

    @Test
    void getIdReturnsTheFirst20BytesOfTheSerial() throws IOException {
        open(false);
        Buf id = g.in(20), st = g.in(1);
        assertEquals(21, g.request(0, header(g, T_GET_ID, 0), id, st).len());
        assertEquals(
                "jvmm-disk-serial-012",
                new String(g.bytes(id), java.nio.charset.StandardCharsets.US_ASCII));
        assertEquals(S_OK, status(g, st));
        Buf shortId = g.in(8), st2 = g.in(1);
        assertEquals(9, g.request(0, header(g, T_GET_ID, 0), shortId, st2).len());
        assertEquals(
                "jvmm-dis",
                new String(g.bytes(shortId), java.nio.charset.StandardCharsets.US_ASCII));
    }

    @Test
    void b1_headerShorterThan16BytesIsReturnedWithLengthZero() throws IOException {
        open(false);
        Buf st = g.in(1);
        assertEquals(0, g.request(0, g.out(Arrays.copyOf(header(T_OUT, 0), 15)), st).len());
        assertEquals(0xEE, status(g, st)); // no status written
        assertEquals(1, g.transport.errors(VirtioError.BAD_REQUEST));
        assertEquals(1, g.transport.errors());
        assertArrayEquals(original, Files.readAllBytes(img));
        assertFalse(g.transport.needsReset());
    }

    @Test
    void b1_chainOfOnlyAHeaderIsReturnedWithLengthZero() throws IOException {
        open(false);
        assertEquals(0, g.request(0, header(g, T_IN, 0)).len());
        assertEquals(1, g.transport.errors(VirtioError.BAD_REQUEST));
    }

    @Test
    void b2_sectorPastTheEndOrOverflowingIsIoerr() throws IOException {
        open(false);
        long[][] cases = {
            {SECTORS, 1},
            {SECTORS - 1, 2},
            {0x0080_0000_0000_0000L, 1},
            {-1L, 1},
            {Long.MAX_VALUE / 256, 2}
        };
        for (long[] c : cases) {
            for (int type : new int[] {T_IN, T_OUT}) {
                Buf data =
                        type == T_IN ? g.in((int) c[1] * 512) : g.out(pattern((int) c[1] * 512, 1));
                Buf st = g.in(1);
                assertEquals(1, g.request(0, header(g, type, c[0]), data, st).len());
                assertEquals(S_IOERR, status(g, st), "sector " + Long.toUnsignedString(c[0]));
                if (type == T_IN) assertEquals(0xEE, g.bytes(data)[0] & 0xff);
            }
        }
        assertEquals(2L * cases.length, g.transport.errors(VirtioError.REQUEST_REJECTED));
        assertEquals(2L * cases.length, g.transport.errors());
        assertArrayEquals(original, Files.readAllBytes(img));
        Buf last = g.in(512), st = g.in(1);
        g.request(0, header(g, T_IN, SECTORS - 1), last, st); // the last sector itself is fine
        assertEquals(S_OK, status(g, st));
        assertArrayEquals(sectors(original, SECTORS - 1, 1), g.bytes(last));
    }

    @Test
    void b3_dataLengthNotAMultipleOf512IsIoerr() throws IOException {
        open(false);
        for (int len : new int[] {1, 511, 513}) {
            Buf st = g.in(1), st2 = g.in(1);
            g.request(0, header(g, T_IN, 0), g.in(len), st);
            g.request(0, header(g, T_OUT, 0), g.out(pattern(len, 2)), st2);
            assertEquals(S_IOERR, status(g, st));
            assertEquals(S_IOERR, status(g, st2));
        }
        assertEquals(6, g.transport.errors(VirtioError.REQUEST_REJECTED));
        assertArrayEquals(original, Files.readAllBytes(img));
    }

    @Test
    void b4_readOnlyStatusDescriptorIsReturnedWithLengthZero() throws IOException {
        open(false);
        Buf st = g.out(new byte[] {(byte) 0xEE});
        assertEquals(0, g.request(0, header(g, T_OUT, 0), g.out(pattern(512, 4)), st).len());
        assertEquals(1, g.transport.errors(VirtioError.BAD_REQUEST));
        assertArrayEquals(original, Files.readAllBytes(img));
    }

    @Test
    void b4_zeroByteStatusDescriptorIsRejectedByTheRing() throws IOException {
        open(false);
        Buf st = new Buf(g.in(1).addr(), 0, true);
        assertEquals(0, g.request(0, header(g, T_OUT, 0), g.out(pattern(512, 4)), st).len());
        assertEquals(1, g.transport.errors(VirtioError.ZERO_LENGTH));
        assertEquals(1, g.transport.errors());
        assertArrayEquals(original, Files.readAllBytes(img));
    }

    @Test
    void b5_writeToReadOnlyDiskIsIoerrAndTheFileIsUnchanged() throws IOException {
        open(true);
        assertEquals(Virtio.bit(F_RO), g.deviceFeatures() & Virtio.bit(F_RO));
        Buf st = g.in(1);
        assertEquals(1, g.request(0, header(g, T_OUT, 0), g.out(pattern(512, 5)), st).len());
        assertEquals(S_IOERR, status(g, st));
        assertEquals(1, g.transport.errors(VirtioError.REQUEST_REJECTED));
        Buf fst = g.in(1);
        g.request(0, header(g, T_FLUSH, 0), fst);
        assertEquals(S_OK, status(g, fst));
        Buf d = g.in(512), rst = g.in(1);
        g.request(0, header(g, T_IN, 3), d, rst); // reads still work
        assertEquals(S_OK, status(g, rst));
        assertArrayEquals(sectors(original, 3, 1), g.bytes(d));
        g.transport.close();
        assertArrayEquals(original, Files.readAllBytes(img));
    }

    @Test
    void b6_unknownAndUnofferedTypesAreUnsupp() throws IOException {
        open(false);
        for (int type : new int[] {T_DISCARD, T_WRITE_ZEROES, 2, 99, -1}) {
            Buf st = g.in(1);
            assertEquals(1, g.request(0, header(g, type, 0), g.out(pattern(16, 6)), st).len());
            assertEquals(S_UNSUPP, status(g, st), "type " + type);
        }
        assertEquals(0, g.transport.errors());
        assertArrayEquals(original, Files.readAllBytes(img));
    }

    @Test
    void b8_closeFlushesAndClosesTheBackendOnce() throws IOException {
        open(false);
        g.request(0, header(g, T_OUT, 1), g.out(pattern(512, 8)), g.in(1));
        g.transport.close();
        g.transport.close();
        assertEquals(1, backend.closes.get());
        assertThrows(
                IOException.class,
                () -> backend.inner.read(0, ByteBuffer.allocate(1))); // channel closed
        assertArrayEquals(pattern(512, 8), sectors(Files.readAllBytes(img), 1, 1));
    }

    @Test
    void imageInUseIsRefusedNamingThePath() throws IOException {
        open(false);
        IOException e = assertThrows(IOException.class, () -> FileBlockBackend.open(img, false));
        assertTrue(e.getMessage().startsWith(img + ": disk image is in use"), e.getMessage());
        assertThrows(IOException.class, () -> FileBlockBackend.open(img, true));
        g.transport.close();
        FileBlockBackend.open(img, false).close(); // free again once closed
        try (FileBlockBackend a = FileBlockBackend.open(img, true)) {
            assertEquals(SECTORS * 512L, a.size());
            // read-only opens share the lock (the same image twice in one VM is refused by
            // FileRoles instead)
            FileBlockBackend.open(img, true).close();
            assertThrows(IOException.class, () -> FileBlockBackend.open(img, false));
        }
    }

    @Test
    void backendFailureIsIoerrAndCounted() throws IOException {
        open(false);
        backend.fail = true;
        for (int type : new int[] {T_IN, T_OUT, T_FLUSH}) {
            Buf st = g.in(1);
            Buf data = type == T_IN ? g.in(512) : g.out(pattern(512, 1));
            assertEquals(1, g.request(0, header(g, type, 0), data, st).len());
            assertEquals(S_IOERR, status(g, st));
        }
        assertEquals(3, g.transport.errors(VirtioError.BACKEND_IO));
        assertFalse(g.transport.needsReset());
    }

    @Test
    void closeFromAnotherThreadWhileRequestsRunIsSafe() throws Exception {
        open(false);
        Thread guest =
                new Thread(
                        () -> {
                            for (int i = 0; i < 200; i++) {
                                long mark = g.mark();
                                g.submit(
                                        0,
                                        header(g, T_OUT, i % SECTORS),
                                        g.out(pattern(512, i)),
                                        g.in(1));
                                g.kick(0);
                                g.used(0);
                                g.freeBuffersAfter(mark);
                            }
                        });
        guest.start();
        Thread.sleep(5);
        g.transport.close();
        guest.join(10_000);
        assertFalse(guest.isAlive());
        assertEquals(1, backend.closes.get());
        assertEquals(Files.size(img), (long) original.length);
    }
}
