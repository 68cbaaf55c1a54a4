package dev.jvmm.core.virtio.blk;

import static dev.jvmm.core.virtio.blk.BlkTestSupport.*;
import static dev.jvmm.core.virtio.blk.VirtioBlkDevice.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.virtio.GuestDriver;
import dev.jvmm.core.virtio.GuestDriver.Used;
import dev.jvmm.core.virtio.Virtio;
import dev.jvmm.core.virtio.VirtioError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * B9 of PEER-RELIABILITY.md §5: seeded cases, each a valid random request with at most one field
 * corrupted, and the exact outcome each corruption must have (used length, status byte, which error
 * counter moved, the image bytes against a model). Every 25 cases a plain read proves the device
 * still works. The seed is fixed and in the failure message, so a failure reproduces.
 */
class BlkRandomizedRequestTest {
    static final long SEED = 0x5EED_B10CL;
    static final int CASES = 1200;
    static final int SECTORS = 128;

    enum Corruption {
        NONE,
        TYPE,
        SECTOR_PAST_END,
        SECTOR_OVERFLOW,
        DATA_LENGTH,
        HEADER_SHORT,
        STATUS_READ_ONLY,
        STATUS_MISSING,
        ADDRESS_OUTSIDE_RAM,
        ZERO_LENGTH,
        NEXT_OUT_OF_RANGE,
        LOOP
    }

    /** One descriptor as the test lays it out (index i links to i+1). */
    private record D(long addr, long len, boolean writable) {}

    @TempDir Path dir;

    @Test
    void seed5eedb10c_1200MutatedRequestsHaveTheirExactOutcome() throws Exception {
        Path img = image(dir, SECTORS);
        byte[] model = Files.readAllBytes(img);
        VirtioBlkDevice dev = new VirtioBlkDevice(FileBlockBackend.open(img, false), "rnd");
        GuestDriver g = new GuestDriver(dev).start(0, 16);
        long desc = g.ring(0).desc;
        long mark = g.mark();
        Random rnd = new Random(SEED);
        Map<Corruption, Integer> seen = new EnumMap<>(Corruption.class);
        for (int n = 0; n < CASES; n++) {
            String where = "seed 0x" + Long.toHexString(SEED) + " case " + n;
            g.freeBuffersAfter(mark);
            int type = new int[] {T_IN, T_OUT, T_FLUSH, T_GET_ID}[rnd.nextInt(4)];
            boolean io = type == T_IN || type == T_OUT;
            int count = 1 + rnd.nextInt(4);
            long sector = rnd.nextInt(SECTORS - count + 1);
            int dataLen = type == T_GET_ID ? 20 : io ? count * 512 : 0;
            List<Corruption> options =
                    new ArrayList<>(
                            List.of(
                                    Corruption.NONE,
                                    Corruption.TYPE,
                                    Corruption.STATUS_READ_ONLY,
                                    Corruption.ADDRESS_OUTSIDE_RAM,
                                    Corruption.ZERO_LENGTH,
                                    Corruption.NEXT_OUT_OF_RANGE,
                                    Corruption.LOOP));
            if (io)
                options.addAll(
                        List.of(
                                Corruption.SECTOR_PAST_END,
                                Corruption.SECTOR_OVERFLOW,
                                Corruption.DATA_LENGTH));
            if (type == T_OUT || type == T_FLUSH) options.add(Corruption.STATUS_MISSING);
            // OUT data follows the header in the readable stream, so a short header descriptor is
            // not a short header.
            if (type != T_OUT) options.add(Corruption.HEADER_SHORT);
            Corruption cor = options.get(rnd.nextInt(options.size()));
            seen.merge(cor, 1, Integer::sum);

            if (cor == Corruption.TYPE) type = 14 + rnd.nextInt(1000);
            if (cor == Corruption.SECTOR_PAST_END)
                sector = (long) SECTORS - count + 1 + rnd.nextInt(1000);
            if (cor == Corruption.SECTOR_OVERFLOW)
                sector = Long.MIN_VALUE + rnd.nextInt(1 << 20) * 2L; // ≥ 2^63: sector*512 overflows
            if (cor == Corruption.DATA_LENGTH)
                dataLen += rnd.nextBoolean() ? 1 + rnd.nextInt(511) : -(1 + rnd.nextInt(511));

            byte[] hdr = header(type, sector);
            byte[] outData = pattern(Math.max(dataLen, 0), rnd.nextInt());
            List<D> ds = new ArrayList<>();
            int hsplit = cor == Corruption.HEADER_SHORT ? 1 + rnd.nextInt(15) : 16;
            int cut = 1 + rnd.nextInt(hsplit); // header over one or two descriptors
            long h = g.out(hdr).addr();
            ds.add(new D(h, cut, false));
            if (cut < hsplit) ds.add(new D(h + cut, hsplit - cut, false));
            long data = 0;
            if (dataLen > 0) {
                data = type == T_OUT ? g.out(outData).addr() : g.in(dataLen).addr();
                int dcut = 1 + rnd.nextInt(dataLen);
                ds.add(new D(data, dcut, type != T_OUT));
                if (dcut < dataLen) ds.add(new D(data + dcut, dataLen - dcut, type != T_OUT));
            }
            long st = g.in(1).addr();
            if (cor != Corruption.STATUS_MISSING)
                ds.add(new D(st, 1, cor != Corruption.STATUS_READ_ONLY));

            int bad = rnd.nextInt(ds.size());
            int loopTo = -1, nextOverride = -1;
            if (cor == Corruption.ADDRESS_OUTSIDE_RAM) {
                D d = ds.get(bad);
                long addr =
                        rnd.nextBoolean()
                                ? GuestDriver.RAM_BASE + g.mem.size() - rnd.nextInt((int) d.len())
                                : rnd.nextLong(GuestDriver.RAM_BASE);
                ds.set(bad, new D(addr, d.len(), d.writable()));
            }
            if (cor == Corruption.ZERO_LENGTH)
                ds.set(bad, new D(ds.get(bad).addr(), 0, ds.get(bad).writable()));
            if (cor == Corruption.LOOP) loopTo = rnd.nextInt(ds.size());
            if (cor == Corruption.NEXT_OUT_OF_RANGE) {
                if (ds.size() == 1) ds.add(new D(st, 1, true));
                bad = rnd.nextInt(ds.size() - 1);
                nextOverride = 16 + rnd.nextInt(0xffff - 16);
            }
            for (int i = 0; i < ds.size(); i++) {
                boolean last = i == ds.size() - 1;
                int flags =
                        (ds.get(i).writable() ? Virtio.DESC_F_WRITE : 0)
                                | (last && loopTo < 0 ? 0 : Virtio.DESC_F_NEXT);
                int next =
                        last
                                ? Math.max(loopTo, 0)
                                : (cor == Corruption.NEXT_OUT_OF_RANGE && i == bad
                                        ? nextOverride
                                        : i + 1);
                g.writeDesc(desc, i, ds.get(i).addr(), ds.get(i).len(), flags, next);
            }
            g.mem.writeByte(st, (byte) 0xEE);

            // The exact outcome of this corruption.
            VirtioError err = null;
            int expectStatus = -1; // -1: status byte untouched, used length 0
            switch (cor) {
                case NONE -> expectStatus = S_OK;
                case TYPE -> expectStatus = S_UNSUPP;
                case SECTOR_PAST_END, SECTOR_OVERFLOW, DATA_LENGTH -> {
                    expectStatus = S_IOERR;
                    err = VirtioError.REQUEST_REJECTED;
                }
                case HEADER_SHORT, STATUS_MISSING -> err = VirtioError.BAD_REQUEST;
                case STATUS_READ_ONLY ->
                        err =
                                type == T_IN || type == T_GET_ID
                                        ? VirtioError.READABLE_AFTER_WRITABLE
                                        : VirtioError.BAD_REQUEST;
                case ADDRESS_OUTSIDE_RAM -> err = VirtioError.ADDRESS_OUT_OF_RANGE;
                case ZERO_LENGTH -> err = VirtioError.ZERO_LENGTH;
                case NEXT_OUT_OF_RANGE -> err = VirtioError.NEXT_OUT_OF_RANGE;
                // Looping back from a writable descriptor to a readable one breaks the order before
                // the length bound.
                case LOOP ->
                        err =
                                !ds.get(loopTo).writable() && ds.stream().anyMatch(D::writable)
                                        ? VirtioError.READABLE_AFTER_WRITABLE
                                        : VirtioError.CHAIN_LOOP;
            }
            long before = err == null ? 0 : g.transport.errors(err), total = g.transport.errors();
            g.publish(0, 0);
            assertDoesNotThrow(() -> g.kick(0), where);
            List<Used> used = g.used(0);
            assertEquals(1, used.size(), where + " " + cor);
            int expectLen =
                    expectStatus < 0
                            ? 0
                            : 1
                                    + (expectStatus == S_OK && (type == T_IN || type == T_GET_ID)
                                            ? dataLen
                                            : 0);
            assertEquals(new Used(0, expectLen), used.get(0), where + " " + cor + " type " + type);
            if (expectStatus >= 0 || cor != Corruption.ADDRESS_OUTSIDE_RAM) {
                assertEquals(
                        expectStatus < 0 ? 0xEE : expectStatus,
                        g.mem.readByte(st) & 0xff,
                        where + " " + cor);
            }
            assertEquals(
                    total + (err == null ? 0 : 1),
                    g.transport.errors(),
                    where + " " + cor + " " + g.transport.errorCounter());
            if (err != null) assertEquals(before + 1, g.transport.errors(err), where + " " + cor);
            assertFalse(g.transport.needsReset(), where);

            if (cor == Corruption.NONE && type == T_OUT)
                System.arraycopy(outData, 0, model, (int) sector * 512, dataLen);
            if (cor == Corruption.NONE && type == T_IN) {
                assertArrayEquals(
                        Arrays.copyOfRange(model, (int) sector * 512, (int) sector * 512 + dataLen),
                        g.bytes(data, dataLen),
                        where);
            }
            byte[] now = Files.readAllBytes(img);
            assertEquals(SECTORS * 512, now.length, where + ": image size changed");
            assertArrayEquals(model, now, where + " " + cor + ": image differs from the model");

            if (n % 25 == 24) { // a valid request after the garbage still works
                g.freeBuffersAfter(mark);
                int s = rnd.nextInt(SECTORS);
                var d = g.in(512);
                var sb = g.in(1);
                assertEquals(513, g.request(0, header(g, T_IN, s), d, sb).len(), where);
                assertEquals(S_OK, status(g, sb), where);
                assertArrayEquals(
                        Arrays.copyOfRange(model, s * 512, s * 512 + 512), g.bytes(d), where);
            }
        }
        for (Corruption c : Corruption.values())
            assertTrue(seen.getOrDefault(c, 0) >= 20, "too few " + c + ": " + seen);
        g.transport.close();
        assertArrayEquals(model, Files.readAllBytes(img));
    }
}
