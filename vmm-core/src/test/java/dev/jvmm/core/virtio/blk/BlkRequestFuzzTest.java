package dev.jvmm.core.virtio.blk;

import static org.junit.jupiter.api.Assertions.*;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.jvmm.core.virtio.GuestDriver;
import dev.jvmm.core.virtio.GuestDriver.Used;
import dev.jvmm.core.virtio.Virtio;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Jazzer target for virtio-blk request parsing: a chain of fuzzer-chosen descriptors (header
 * fields, data lengths, directions, addresses, optionally behind an indirect table) against a
 * 16-sector image. Invariants: nothing escapes, exactly one used entry, a status byte of
 * OK/IOERR/UNSUPP whenever the used length is non-zero, the image keeps its size, and only an OK
 * OUT request changes it, inside its sectors.
 */
class BlkRequestFuzzTest {
    static final int SECTORS = 16;
    private static Path image;

    private record D(long addr, int len, boolean writable) {}

    private static synchronized Path image() throws IOException {
        if (image == null) {
            image = Files.createTempFile("jvmm-blk-fuzz", ".img");
            image.toFile().deleteOnExit();
            Files.write(image, new byte[SECTORS * 512]);
        }
        return image;
    }

    @FuzzTest(maxDuration = "30s")
    @SuppressWarnings(
            "IdentityBinaryExpression") // two draws, not one twice: && of two consumeBoolean()
    // calls
    void request(FuzzedDataProvider data) throws IOException {
        Path img = image();
        byte[] before = Files.readAllBytes(img);
        boolean indirect = data.consumeBoolean();
        VirtioBlkDevice dev =
                new VirtioBlkDevice(FileBlockBackend.open(img, data.consumeBoolean()), "fuzz");
        GuestDriver g = new GuestDriver(dev, 256 * 1024);
        try {
            g.start(indirect ? Virtio.bit(Virtio.F_RING_INDIRECT_DESC) : 0, 8);
            int type = data.pickValue(new int[] {0, 1, 4, 8, 11, 13, data.consumeInt()});
            long sector =
                    data.consumeBoolean() ? data.consumeLong(0, SECTORS + 1) : data.consumeLong();
            byte[] hdr =
                    ByteBuffer.allocate(16)
                            .order(ByteOrder.LITTLE_ENDIAN)
                            .putInt(type)
                            .putInt(0)
                            .putLong(sector)
                            .array();
            List<D> ds = new ArrayList<>();
            int hlen = data.consumeBoolean() ? 16 : data.consumeInt(0, 16);
            if (hlen > 0)
                ds.add(
                        new D(
                                g.out(hdr).addr(),
                                hlen,
                                data.consumeBoolean() && data.consumeBoolean()));
            int n = data.consumeInt(0, 4);
            for (int i = 0; i < n; i++) {
                int len = data.pickValue(new int[] {512, 1024, data.consumeInt(0, 2048)});
                boolean w = data.consumeBoolean();
                ds.add(
                        new D(
                                w
                                        ? g.in(Math.max(len, 1)).addr()
                                        : g.out(new byte[Math.max(len, 1)]).addr(),
                                len,
                                w));
            }
            if (data.consumeBoolean())
                ds.add(
                        new D(
                                g.in(1).addr(),
                                data.consumeInt(0, 2),
                                !data.consumeBoolean() || data.consumeBoolean()));
            if (!ds.isEmpty() && data.consumeInt(0, 9) == 0) {
                int i = data.consumeInt(0, ds.size() - 1);
                ds.set(i, new D(data.consumeLong(), ds.get(i).len(), ds.get(i).writable()));
            }
            if (ds.isEmpty()) return;
            long table = g.ring(0).desc;
            boolean viaIndirect = data.consumeBoolean();
            if (viaIndirect) table = g.alloc(16L * ds.size(), 16);
            for (int i = 0; i < ds.size(); i++) {
                boolean last = i == ds.size() - 1;
                g.writeDesc(
                        table,
                        i,
                        ds.get(i).addr(),
                        ds.get(i).len(),
                        (ds.get(i).writable() ? Virtio.DESC_F_WRITE : 0)
                                | (last ? 0 : Virtio.DESC_F_NEXT),
                        i + 1);
            }
            if (viaIndirect)
                g.writeDesc(g.ring(0).desc, 0, table, 16L * ds.size(), Virtio.DESC_F_INDIRECT, 0);
            g.publish(0, 0);
            g.kick(0);
            List<Used> used = g.used(0);
            assertEquals(1, used.size());
            assertEquals(0, used.get(0).id());
            D status = ds.get(ds.size() - 1);
            if (used.get(0).len() > 0) {
                assertTrue(status.writable());
                int st = g.mem.readByte(status.addr() + status.len() - 1) & 0xff;
                assertTrue(st <= VirtioBlkDevice.S_UNSUPP, "status " + st);
                byte[] after = Files.readAllBytes(img);
                assertEquals(before.length, after.length);
                for (int i = 0; i < after.length; i++) {
                    if (after[i] != before[i]) {
                        assertEquals(VirtioBlkDevice.T_OUT, type);
                        assertEquals(VirtioBlkDevice.S_OK, st);
                        assertTrue(
                                i / 512 >= sector && i / 512 < sector + SECTORS,
                                "byte " + i + " outside the request");
                    }
                }
            } else {
                assertArrayEquals(before, Files.readAllBytes(img));
            }
            assertFalse(g.transport.needsReset());
        } finally {
            g.transport.close();
            Files.write(img, new byte[SECTORS * 512]);
        }
    }
}
