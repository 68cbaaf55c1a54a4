package dev.jvmm.core.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The vCPU gate without KVM: each "vCPU" is a thread with VcpuThread's loop shape (run a slice of
 * "guest" unless the gate is closed or work is posted, then park in the gate), and its kick only
 * ends the current slice. A vCPU that ignores kicks stands for one stuck outside the guest.
 */
class VcpuGateTest {
    private static final long SECOND = 1_000_000_000L;

    private final AtomicBoolean stopped = new AtomicBoolean();
    private final List<Thread> threads = new ArrayList<>();
    private final List<FakeVcpu> cpus = new ArrayList<>();
    private VcpuGate gate;

    private final class FakeVcpu implements Runnable {
        final int id;
        final AtomicLong slices = new AtomicLong(); // "guest instructions": grow while running
        volatile boolean stuck; // ignores kicks: never leaves its slice
        final VcpuMailbox mailbox = new VcpuMailbox(() -> {});
        final ExitDispatcher.VcpuRegisters regs;

        FakeVcpu(int id) {
            this.id = id;
            this.regs =
                    new ExitDispatcher.VcpuRegisters() {
                        @Override
                        public int cpu() {
                            return id;
                        }

                        @Override
                        public long get(long regId) {
                            return regId + id;
                        }

                        @Override
                        public void set(long regId, long value) {}
                    };
        }

        @Override
        public void run() {
            try {
                while (!stopped.get()) {
                    if (gate.isClosed() || !mailbox.isEmpty()) {
                        if (!mailbox.isEmpty()) mailbox.drain(regs);
                        else gate.park(id, mailbox, regs, stopped::get);
                        continue;
                    }
                    do {
                        slices.incrementAndGet();
                        Thread.sleep(1);
                    } while (stuck && !stopped.get());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void start(int n) {
        for (int i = 0; i < n; i++) cpus.add(new FakeVcpu(i));
        gate = new VcpuGate(cpus.stream().map(c -> c.mailbox).toList(), stopped::get);
        for (FakeVcpu c : cpus) threads.add(Thread.ofPlatform().name("vcpu" + c.id).start(c));
    }

    /**
     * Returns once {@code c} is inside its never-ending slice: two slices after the flag was set,
     * the loop condition has seen it.
     */
    private static void makeStuck(FakeVcpu c) throws InterruptedException {
        c.stuck = true;
        long start = c.slices.get();
        long end = System.nanoTime() + 5 * SECOND;
        while (c.slices.get() < start + 2 && System.nanoTime() < end) Thread.sleep(1);
        assertTrue(c.slices.get() >= start + 2, "vcpu" + c.id + " runs");
    }

    @AfterEach
    void stopAll() throws InterruptedException {
        stopped.set(true);
        cpus.forEach(c -> c.mailbox.wake());
        for (Thread t : threads) t.join(5000);
        for (Thread t : threads) assertFalse(t.isAlive(), t.getName() + " left running");
    }

    @Test
    void pauseReturnsWithEveryVcpuParkedAndNoneRunsUntilResume() throws Exception {
        start(3);
        gate.pause(System.nanoTime() + 5 * SECOND);
        long[] before = cpus.stream().mapToLong(c -> c.slices.get()).toArray();
        Thread.sleep(200);
        for (FakeVcpu c : cpus)
            assertEquals(before[c.id], c.slices.get(), "vcpu" + c.id + " ran while paused");
        gate.resume();
        long end = System.nanoTime() + 5 * SECOND;
        for (FakeVcpu c : cpus) {
            while (c.slices.get() == before[c.id] && System.nanoTime() < end) Thread.sleep(5);
            assertTrue(c.slices.get() > before[c.id], "vcpu" + c.id + " runs after resume");
        }
    }

    @Test
    void aVcpuThatDoesNotStopFailsThePauseByNameAndTheOthersRunOn() throws Exception {
        start(2);
        makeStuck(cpus.get(1));
        long t0 = System.nanoTime();
        PauseException e =
                assertThrows(
                        PauseException.class, () -> gate.pause(System.nanoTime() + SECOND / 2));
        assertTrue(System.nanoTime() - t0 < 3 * SECOND, "bounded");
        assertEquals("vcpu1 did not leave KVM_RUN", e.getMessage());
        assertTrue(e.timedOut());
        assertFalse(gate.isClosed(), "the gate opened again");
        long before = cpus.get(0).slices.get();
        long end = System.nanoTime() + 5 * SECOND;
        while (cpus.get(0).slices.get() == before && System.nanoTime() < end) Thread.sleep(5);
        assertTrue(cpus.get(0).slices.get() > before, "vcpu0 runs on");
    }

    @Test
    void workRunsOnEachParkedVcpusOwnThreadWithItsRegisters() throws Exception {
        start(2);
        PauseException notPaused =
                assertThrows(
                        PauseException.class,
                        () -> gate.runOnEach(r -> {}, System.nanoTime() + SECOND));
        assertEquals("the vCPUs are not paused", notPaused.getMessage());
        gate.pause(System.nanoTime() + 5 * SECOND);
        Set<String> seen = ConcurrentHashMap.newKeySet();
        gate.runOnEach(
                r -> seen.add(Thread.currentThread().getName() + "=" + r.get(100)),
                System.nanoTime() + 5 * SECOND);
        assertEquals(Set.of("vcpu0=100", "vcpu1=101"), seen);
        gate.resume();
    }

    @Test
    void aStopEndsThePauseWaitAndReleasesParkedVcpus() throws Exception {
        start(2);
        makeStuck(cpus.get(1));
        Thread stopper =
                Thread.ofPlatform()
                        .start(
                                () -> {
                                    try {
                                        Thread.sleep(200);
                                    } catch (InterruptedException e) {
                                        return;
                                    }
                                    stopped.set(true);
                                    cpus.forEach(c -> c.mailbox.wake()); // what the kickers do
                                });
        long t0 = System.nanoTime();
        PauseException e =
                assertThrows(
                        PauseException.class, () -> gate.pause(System.nanoTime() + 10 * SECOND));
        assertEquals("the VM is stopping", e.getMessage());
        assertTrue(System.nanoTime() - t0 < 5 * SECOND, "the stop ended the wait");
        stopper.join();
        for (Thread t : threads) t.join(Duration.ofSeconds(5));
        for (Thread t : threads) assertFalse(t.isAlive(), t.getName() + " still parked");
    }

    @Test
    void aStopWhilePausedReleasesTheParkedVcpus() throws Exception {
        start(2);
        gate.pause(System.nanoTime() + 5 * SECOND);
        stopped.set(true);
        cpus.forEach(c -> c.mailbox.wake());
        for (Thread t : threads) t.join(Duration.ofSeconds(5));
        for (Thread t : threads) assertFalse(t.isAlive(), t.getName() + " still parked");
    }
}
