package dev.jvmm.core.device;

import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.memory.GuestMemoryException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class MmioBusTest {
    /** Records accesses; reads return the low byte of the offset in every byte. */
    static final class Recorder implements MmioDevice {
        final List<String> log = new ArrayList<>();

        @Override
        public synchronized void read(long offset, byte[] data) {
            log.add("r" + offset + "/" + data.length);
            Arrays.fill(data, (byte) offset);
        }

        @Override
        public synchronized void write(long offset, byte[] data) {
            log.add("w" + offset + "=" + data[0]);
        }
    }

    @Test
    void routesByAddressWithRelativeOffsets() {
        MmioBus bus = new MmioBus();
        Recorder a = new Recorder(), b = new Recorder(), c = new Recorder();
        bus.register(0x2000, 0x100, b, "b"); // out of order on purpose
        bus.register(0x1000, 0x1000, a, "a"); // adjacent to b: allowed
        bus.register(0x9000_0000L, 8, c, "c");
        assertEquals(
                List.of("a", "b", "c"), bus.regions().stream().map(MmioBus.Region::name).toList());

        byte[] d = new byte[4];
        bus.dispatch(0x1000, d, false);
        bus.dispatch(0x1fff, new byte[1], false);
        bus.dispatch(0x2000, new byte[] {5}, true);
        bus.dispatch(0x20ff, new byte[8], false);
        bus.dispatch(0x9000_0007L, new byte[] {9}, true);
        assertEquals(List.of("r0/4", "r4095/1"), a.log);
        assertEquals(List.of("w0=5", "r255/8"), b.log);
        assertEquals(List.of("w7=9"), c.log);
        assertEquals("b", bus.find(0x20ff).name());
        assertNull(bus.find(0x2100));
        assertNull(bus.find(0xfff));
        assertEquals(0, bus.holeReads() + bus.holeWrites());
    }

    @Test
    void overlapsRefusedNamingBoth() {
        MmioBus bus = new MmioBus();
        bus.register(0x1000, 0x1000, new Recorder(), "uart");
        for (long[] r :
                new long[][] {
                    {0x1000, 1}, {0xfff, 2}, {0x1fff, 0x10}, {0x800, 0x2000}, {0x1800, 4}
                }) {
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> bus.register(r[0], r[1], new Recorder(), "rtc"));
            assertTrue(
                    e.getMessage().contains("rtc")
                            && e.getMessage().contains("uart [0x1000, 0x2000)"),
                    e.getMessage());
        }
        bus.register(0xfff, 1, new Recorder(), "below");
        bus.register(0x2000, 1, new Recorder(), "above");
        assertEquals(3, bus.regions().size());
    }

    @Test
    void badRangesAndDuplicateNamesRefused() {
        MmioBus bus = new MmioBus();
        bus.register(0x1000, 0x10, new Recorder(), "x");
        assertThrows(
                IllegalArgumentException.class,
                () -> bus.register(0x5000, 0, new Recorder(), "zero"));
        assertThrows(
                IllegalArgumentException.class, () -> bus.register(-1, 4, new Recorder(), "neg"));
        assertThrows(
                IllegalArgumentException.class,
                () -> bus.register(Long.MAX_VALUE - 1, 4, new Recorder(), "wrap"));
        assertThrows(
                IllegalArgumentException.class, () -> bus.register(0x8000, 4, new Recorder(), "x"));
        assertThrows(NullPointerException.class, () -> bus.register(0x8000, 4, null, "n"));
    }

    @Test
    void holesReadZeroAreCountedAndLoggedOncePerAddress() {
        MmioBus bus = new MmioBus();
        bus.register(0x1000, 0x10, new Recorder(), "dev");
        byte[] d = {1, 2, 3, 4};
        bus.dispatch(0x1010, d, false);
        assertArrayEquals(new byte[4], d);
        bus.dispatch(0x1010, new byte[4], false);
        bus.dispatch(0x1010, new byte[] {7}, true);
        bus.dispatch(-8, new byte[8], false);
        assertEquals(3, bus.holeReads());
        assertEquals(1, bus.holeWrites());
        assertEquals(2, bus.loggedHoleCount());
        for (int i = 0; i < 10_000; i++) bus.dispatch(0x10_0000L + i * 8L, new byte[8], false);
        assertEquals(MmioBus.MAX_LOGGED_HOLES, bus.loggedHoleCount(), "log set stays bounded");
        assertEquals(10_003, bus.holeReads());
    }

    @Test
    void deviceGuestErrorsAreContainedAndCounted() {
        MmioBus bus = new MmioBus();
        bus.register(
                0x1000,
                0x10,
                new MmioDevice() {
                    @Override
                    public void read(long offset, byte[] data) {
                        data[0] = 0x55; // partial result must not leak out
                        throw new GuestMemoryException(0xdead0000L, 16, "is outside guest RAM");
                    }

                    @Override
                    public void write(long offset, byte[] data) {
                        throw new IndexOutOfBoundsException("ring index");
                    }
                },
                "virtio");
        byte[] d = new byte[2];
        bus.dispatch(0x1000, d, false);
        assertArrayEquals(new byte[2], d);
        bus.dispatch(0x1004, new byte[4], true);
        assertEquals(2, bus.deviceErrors());
        assertEquals(2, bus.deviceErrors("virtio"));
        assertEquals(0, bus.deviceErrors("nope"));
    }

    @Test
    void vmmBugsStillPropagate() {
        MmioBus bus = new MmioBus();
        bus.register(
                0,
                4,
                new MmioDevice() {
                    @Override
                    public void read(long offset, byte[] data) {
                        throw new IllegalStateException("bug");
                    }

                    @Override
                    public void write(long offset, byte[] data) {}
                },
                "buggy");
        assertThrows(IllegalStateException.class, () -> bus.dispatch(0, new byte[4], false));
        assertThrows(IllegalArgumentException.class, () -> bus.dispatch(0, new byte[3], false));
        assertThrows(IllegalArgumentException.class, () -> bus.dispatch(0, new byte[0], true));
    }

    @Test
    void concurrentDispatchFromSeveralThreads() throws Exception {
        MmioBus bus = new MmioBus();
        AtomicLong[] hits = new AtomicLong[16];
        for (int i = 0; i < hits.length; i++) {
            AtomicLong h = new AtomicLong();
            hits[i] = h;
            bus.register(
                    0x1000L * (i + 1),
                    0x100,
                    new MmioDevice() {
                        @Override
                        public void read(long offset, byte[] data) {
                            h.incrementAndGet();
                            data[0] = (byte) offset;
                        }

                        @Override
                        public void write(long offset, byte[] data) {
                            h.incrementAndGet();
                        }
                    },
                    "d" + i);
        }
        int threads = 4, per = 50_000;
        List<Thread> ts = new ArrayList<>();
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int t = 0; t < threads; t++) {
            int seed = t;
            Thread th =
                    new Thread(
                            () -> {
                                try {
                                    byte[] d = new byte[4];
                                    for (int i = 0; i < per; i++) {
                                        int dev = (i + seed) % 16;
                                        long off = i % 0x100;
                                        bus.dispatch(0x1000L * (dev + 1) + off, d, (i & 1) == 0);
                                        if ((i & 1) == 1 && d[0] != (byte) off)
                                            throw new AssertionError("wrong data");
                                        bus.dispatch(
                                                0x1000L * (dev + 1) + 0x100,
                                                d,
                                                false); // hole just past it
                                    }
                                } catch (Throwable e) {
                                    failures.add(e);
                                }
                            });
            ts.add(th);
            th.start();
        }
        for (Thread th : ts) th.join();
        assertEquals(List.of(), failures);
        assertEquals((long) threads * per, Arrays.stream(hits).mapToLong(AtomicLong::get).sum());
        assertEquals((long) threads * per, bus.holeReads());
    }
}
