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
}
