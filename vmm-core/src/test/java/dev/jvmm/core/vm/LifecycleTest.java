package dev.jvmm.core.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.device.IrqLine;
import dev.jvmm.core.device.Pl031Rtc;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The order, rollback and idempotence of pause and resume over fake parts. */
class LifecycleTest {
    private final List<String> calls = new CopyOnWriteArrayList<>();
    private final AtomicBoolean stopping = new AtomicBoolean();

    private final class Part implements VmPart {
        final String name;
        volatile PauseException failure;

        Part(String name) {
            this.name = name;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public void pause(long deadlineNanos) throws PauseException {
            assertTrue(deadlineNanos > System.nanoTime(), "a deadline in the future");
            if (failure != null) throw failure;
            calls.add("pause " + name);
        }

        @Override
        public void resume() {
            calls.add("resume " + name);
        }
    }

    private final Part vcpus = new Part("vcpus"), blk = new Part("blk"), uart = new Part("uart");
    private final Lifecycle lifecycle =
            new Lifecycle(List.of(vcpus, blk, uart), Duration.ofSeconds(5), stopping::get);

    @Test
    void pausesInOrderAndResumesInReverse() throws Exception {
        assertTrue(lifecycle.pause());
        assertTrue(lifecycle.isPaused());
        assertTrue(lifecycle.resume());
        assertFalse(lifecycle.isPaused());
        assertEquals(
                List.of(
                        "pause vcpus",
                        "pause blk",
                        "pause uart",
                        "resume uart",
                        "resume blk",
                        "resume vcpus"),
                calls);
    }

    @Test
    void aSecondPauseAndAResumeWhileRunningChangeNothing() throws Exception {
        assertFalse(lifecycle.resume(), "not paused");
        assertTrue(lifecycle.pause());
        assertFalse(lifecycle.pause(), "already paused");
        assertEquals(List.of("pause vcpus", "pause blk", "pause uart"), calls);
        assertTrue(lifecycle.resume());
        assertFalse(lifecycle.resume());
        assertEquals(6, calls.size());
    }

    @Test
    void aPartThatDoesNotComeToRestResumesThoseBeforeItAndTheVmKeepsRunning() {
        blk.failure =
                new PauseException("virtio-mmio.0:virtio-blk: a request did not finish", true);
        PauseException e = assertThrows(PauseException.class, lifecycle::pause);
        assertEquals(
                "cannot pause: virtio-mmio.0:virtio-blk: a request did not finish within 5 s;"
                        + " the VM keeps running",
                e.getMessage());
        assertTrue(e.timedOut());
        assertFalse(lifecycle.isPaused());
        assertEquals(List.of("pause vcpus", "resume vcpus"), calls);
        // and a later pause can succeed
        blk.failure = null;
        calls.clear();
        assertDoesNotFail(lifecycle);
        assertTrue(lifecycle.isPaused());
    }

    @Test
    void aStoppingVmIsNotPaused() {
        stopping.set(true);
        PauseException e = assertThrows(PauseException.class, lifecycle::pause);
        assertEquals("cannot pause: the VM is stopping", e.getMessage());
        assertEquals(List.of(), calls);
    }

    @Test
    void theMachineOrderIsVcpusCounterDevicesUartRtc() {
        VcpuGate gate = new VcpuGate(List.of(), () -> false);
        Pl031Rtc rtc = new Pl031Rtc(IrqLine.NONE, InstantSource.system(), (when, task) -> () -> {});
        assertEquals(
                List.of("vcpus", "guest-counter", "uart", "rtc"),
                Lifecycle.parts(gate, VirtioDevices.none(), null, rtc).stream()
                        .map(VmPart::name)
                        .toList());
    }

    private static void assertDoesNotFail(Lifecycle l) {
        try {
            assertTrue(l.pause());
        } catch (PauseException e) {
            throw new AssertionError(e);
        }
    }
}
