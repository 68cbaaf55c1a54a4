package dev.jvmm.kvm.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** EventFd and PollSet against the real kernel (the same syscalls on x86_64 and arm64). */
class EventFdTest {
    @Test
    void signalsAddUpAndDrainResetsTheCounter() {
        try (EventFd e = EventFd.create("test")) {
            assertEquals(0, e.drain());
            e.signal();
            e.signal();
            e.signal();
            assertEquals(3, e.drain());
            assertEquals(0, e.drain());
        }
    }

    @Test
    void pollSetReportsExactlyTheSignalledFd() {
        try (EventFd a = EventFd.create("a");
                EventFd b = EventFd.create("b");
                EventFd c = EventFd.create("c")) {
            PollSet set = new PollSet(Poll.POLLIN, a.fd(), b.fd(), c.fd());
            assertEquals(3, set.size());
            assertEquals(0, set.await(0));
            b.signal();
            assertEquals(1, set.await(1000));
            assertEquals(0, set.revents(0));
            assertEquals(Poll.POLLIN, set.revents(1));
            assertEquals(0, set.revents(2));
            assertEquals(1, b.drain());
            assertEquals(0, set.await(0));
            assertThrows(IndexOutOfBoundsException.class, () -> set.revents(3));
        }
    }

    @Test
    void aSignalFromAnotherThreadWakesABlockedPoll() throws Exception {
        try (EventFd stop = EventFd.create("stop")) {
            PollSet set = new PollSet(Poll.POLLIN, stop.fd());
            CompletableFuture<Integer> waiter = CompletableFuture.supplyAsync(() -> set.await(-1));
            Thread.sleep(50);
            stop.signal();
            assertEquals(1, waiter.get(5, TimeUnit.SECONDS));
            assertEquals(Poll.POLLIN, set.revents(0));
        }
    }

    @Test
    void aClosedEventFdRefusesUse() {
        EventFd e = EventFd.create("gone");
        e.close();
        e.close(); // idempotent
        IllegalStateException x = assertThrows(IllegalStateException.class, e::signal);
        assertEquals("eventfd gone is closed", x.getMessage());
    }

    @Test
    void anEmptyPollSetIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new PollSet(Poll.POLLIN));
    }
}
