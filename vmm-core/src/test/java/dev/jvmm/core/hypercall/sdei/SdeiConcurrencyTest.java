package dev.jvmm.core.hypercall.sdei;

import static dev.jvmm.core.hypercall.sdei.SdeiHarness.EP;
import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.hypercall.FakeRegisters;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Several "vCPU" threads take and complete a shared event while the host injects it: every QUEUED
 * trigger is dispatched exactly once and the handler never runs on two PEs at the same time.
 */
class SdeiConcurrencyTest {
    @Test
    void everyQueuedTriggerIsDispatchedExactlyOnce() throws Exception {
        int cpus = 3, triggers = 3000;
        SdeiHarness h = new SdeiHarness(cpus, new SdeiEventSpec(200, true, false));
        h.register(0, 200, EP);
        h.enable(0, 200);
        for (int c = 0; c < cpus; c++) h.unmask(c);
        AtomicInteger overlap = new AtomicInteger(), handled = new AtomicInteger();
        AtomicBoolean done = new AtomicBoolean();
        List<Thread> pes = new ArrayList<>();
        for (int c = 0; c < cpus; c++) {
            int cpu = c;
            FakeRegisters regs = h.cpu[c];
            pes.add(
                    Thread.ofPlatform()
                            .start(
                                    () -> {
                                        while (true) {
                                            // read before the snapshot: a snapshot taken before
                                            // the last inject must not end the loop once done is
                                            // set (that lost a queued trigger under load)
                                            boolean injectedAll = done.get();
                                            h.sdei.deliverPending(cpu, regs);
                                            // a COMPLETE may re-enter the handler at once
                                            // (afterCall): count entries, not deliverPending
                                            SdeiSnapshot s = h.sdei.snapshot();
                                            if (s.pes().stream()
                                                            .filter(p -> !p.running().isEmpty())
                                                            .count()
                                                    > 1) overlap.incrementAndGet();
                                            if (!s.pes().get(cpu).running().isEmpty()) {
                                                handled.incrementAndGet();
                                                h.call(cpu, Sdei.EVENT_COMPLETE, 0);
                                            } else if (injectedAll
                                                    && !s.events()
                                                            .get(1)
                                                            .instances()
                                                            .get(0)
                                                            .pending()
                                                    && s.pes().stream()
                                                            .allMatch(p -> p.running().isEmpty())) {
                                                break;
                                            } else {
                                                Thread.onSpinWait();
                                            }
                                        }
                                    }));
        }
        int queued = 0;
        for (int i = 0; i < triggers; i++) {
            if (h.sdei.inject(200, 0) == SignalOutcome.QUEUED) queued++;
        }
        done.set(true);
        for (Thread t : pes) {
            t.join(30_000);
            assertFalse(t.isAlive(), "a PE thread did not finish");
        }
        assertEquals(0, overlap.get(), "a shared event ran on two PEs at once");
        assertEquals(queued, handled.get());
        assertEquals(queued, h.sdei.snapshot().events().get(1).instances().get(0).dispatches());
        assertTrue(queued > 0);
    }
}
