package dev.jvmm.core.memory;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class GuestRamTest {
    private final MemorySegment seg = MemorySegment.ofArray(new byte[4096]);
    private final AtomicInteger unmaps = new AtomicInteger();

    /** Set when the unmapper runs while a user thread is still inside its access loop. */
    private final AtomicReference<String> unmappedUnderUser = new AtomicReference<>();

    private volatile boolean userInside;
    private final GuestRam ram =
            new GuestRam(
                    seg,
                    s -> {
                        if (userInside)
                            unmappedUnderUser.set("unmapped while a user was touching it");
                        unmaps.incrementAndGet();
                    });

    /**
     * A device thread that keeps writing guest memory until told to stop (a late vCPU or notifier).
     */
    private Thread lateUser(CountDownLatch stop) {
        return Thread.ofPlatform()
                .daemon()
                .name("late-vcpu")
                .start(
                        () -> {
                            userInside = true;
                            try {
                                while (stop.getCount() > 0) {
                                    seg.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
                                    Thread.onSpinWait();
                                }
                            } finally {
                                userInside = false;
                            }
                        });
    }

    @Test
    void aLateThreadKeepsTheMappingAndALaterReleaseUnmapsOnceItEnded() throws Exception {
        CountDownLatch stop = new CountDownLatch(1);
        Thread t = lateUser(stop);
        ram.addUser(t);
        while (!userInside) Thread.onSpinWait();

        long t0 = System.nanoTime();
        assertFalse(ram.release(Duration.ofMillis(300)), "must not unmap under a running thread");
        assertTrue(
                System.nanoTime() - t0 >= Duration.ofMillis(300).toNanos(),
                "waited for the thread first");
        assertEquals(0, unmaps.get());
        assertTrue(ram.isLeaked());
        assertFalse(ram.isUnmapped());
        assertFalse(ram.release(Duration.ZERO), "still in use");
        assertEquals(0, unmaps.get());

        stop.countDown();
        t.join();
        assertTrue(ram.release(Duration.ofSeconds(5)));
        assertTrue(ram.release(Duration.ofSeconds(5)), "idempotent");
        assertEquals(1, unmaps.get());
        assertNull(unmappedUnderUser.get());
        assertThrows(IllegalStateException.class, () -> ram.addUser(Thread.currentThread()));
    }

    @Test
    void usersThatEndWithinTheWaitAreJoinedAndTheMemoryUnmapped() throws Exception {
        CountDownLatch stop = new CountDownLatch(1);
        Thread t = lateUser(stop);
        ram.addUser(t);
        while (!userInside) Thread.onSpinWait();
        Thread.ofPlatform()
                .daemon()
                .start(
                        () -> {
                            try {
                                Thread.sleep(200);
                            } catch (InterruptedException ignored) {
                                // ends the stopper early; the test then fails on the timing below
                            }
                            stop.countDown();
                        });
        assertTrue(ram.release(Duration.ofSeconds(10)));
        assertFalse(t.isAlive());
        assertEquals(1, unmaps.get());
        assertNull(unmappedUnderUser.get());
    }

    @Test
    void endedUsersAreForgottenSoRebootsInPlaceDoNotAccumulateThem() throws Exception {
        for (int i = 0; i < 1000; i++) {
            Thread t = Thread.ofPlatform().start(() -> {});
            t.join();
            ram.addUser(t);
        }
        assertTrue(ram.awaitUsers(Duration.ZERO).isEmpty());
        ram.close();
        assertEquals(1, unmaps.get());
    }

    /**
     * Guest RAM is 2 MiB aligned, exactly as long as asked (the over-mapped ends are gone), and
     * advised MADV_HUGEPAGE ("hg" in the mapping's VmFlags), as QEMU and kvmtool map it.
     */
    @Test
    void mappedRamIsHugePageAlignedAndAdvised() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(
                java.nio.file.Files.isDirectory(
                        java.nio.file.Path.of("/sys/kernel/mm/transparent_hugepage")),
                "this kernel has no transparent huge pages");
        long bytes = 3 * GuestRam.HUGE_PAGE;
        try (GuestRam ram = GuestRam.map(bytes)) {
            long a = ram.segment().address();
            assertEquals(0, a % GuestRam.HUGE_PAGE, Long.toHexString(a));
            assertEquals(bytes, ram.segment().byteSize());
            ram.segment().set(ValueLayout.JAVA_BYTE, bytes - 1, (byte) 7); // the last byte is ours
            String vma = null, flags = null;
            for (String line :
                    java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/smaps"))) {
                if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                    int dash = line.indexOf('-'), space = line.indexOf(' ');
                    boolean ours = Long.parseUnsignedLong(line.substring(0, dash), 16) == a;
                    vma = ours ? line : null;
                    long end = Long.parseUnsignedLong(line.substring(dash + 1, space), 16);
                    if (ours) assertEquals(a + bytes, end, line);
                } else if (vma != null && line.startsWith("VmFlags:")) {
                    flags = line;
                    vma = null;
                }
            }
            assertNotNull(flags, "the mapping starts at its aligned address");
            assertTrue((flags + " ").contains(" hg "), flags);
        }
    }
}
