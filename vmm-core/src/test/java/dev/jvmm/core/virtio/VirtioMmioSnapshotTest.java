package dev.jvmm.core.virtio;

import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.snapshot.SnapshotException;
import dev.jvmm.core.snapshot.StateJson;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** The virtio-mmio transport's registers and queues across a snapshot, and hostile records. */
class VirtioMmioSnapshotTest {
    private static final long BASE = 0xa00_0200L;
    private static final String KEY = "virtio.0xa000200";

    /** Two queues of 8, event-idx negotiated, a few requests served on each. */
    private static GuestDriver busy(LoopbackDevice dev) {
        GuestDriver g = new GuestDriver(dev, BASE);
        g.start(Virtio.bit(0) | Virtio.bit(Virtio.F_RING_EVENT_IDX), 8);
        for (int i = 0; i < 5; i++) g.request(0, g.out(new byte[] {(byte) i}), g.in(4));
        for (int i = 0; i < 11; i++) g.request(1, g.out(new byte[] {2}), g.in(2)); // wraps
        g.w32(0x30, 1); // QueueSel left at 1
        return g;
    }

    private static VirtioState saved(GuestDriver g) {
        return StateJson.read(StateJson.write(g.transport.saveState()), VirtioState.class, KEY);
    }

    @Test
    void registersAndRingIndicesComeBack() {
        LoopbackDevice dev = new LoopbackDevice(2, 8);
        GuestDriver g = busy(dev);
        int isr = g.r32(0x60);
        assertNotEquals(0, isr, "interrupts not yet acknowledged");
        String json = StateJson.write(g.transport.saveState());

        LoopbackDevice dev2 = new LoopbackDevice(2, 8);
        GuestDriver r = g.copyFor(dev2, BASE);
        r.transport.restoreState(StateJson.read(json, VirtioState.class, KEY));
        assertEquals(json, StateJson.write(r.transport.saveState()));
        assertEquals(1, dev2.activations, "activated once, as by DRIVER_OK");
        assertEquals(g.status(), r.status());
        assertEquals(isr, r.r32(0x60));
        assertEquals(g.r32(0xfc), r.r32(0xfc));
        assertEquals(1, r.r32(0x44), "QueueSel still 1 and that queue ready");
        assertEquals(0, r.interrupts.get(), "no interrupt replayed: the vGIC has it");

        // Queue 1 goes on at used index 11 (slot 3 of 8), with event-idx suppression intact.
        r.setUsedEvent(1, 11);
        GuestDriver.Used u = r.request(1, r.out(new byte[] {7}), r.in(2));
        assertEquals(2, u.len());
        assertEquals(12, r.usedIdx(1));
        assertEquals(12, r.availEvent(1), "the device asks for the next kick at avail 12");
        assertEquals(1, r.interrupts.get(), "used_event 11 was crossed: one interrupt");
        r.setUsedEvent(1, 100);
        r.request(1, r.out(new byte[] {7}), r.in(2));
        assertEquals(1, r.interrupts.get(), "used_event 100 suppresses the next one");
        assertEquals(6, r.request(0, r.out(new byte[] {1}), r.in(4)).len() + 2);
        assertEquals(6, r.usedIdx(0));
    }

    private static SnapshotException refused(
            GuestDriver g, UnaryOperator<VirtioState> change, String expected) {
        VirtioState s = change.apply(saved(g));
        LoopbackDevice fresh = new LoopbackDevice(2, 8);
        GuestDriver r = g.copyFor(fresh, BASE);
        SnapshotException e =
                assertThrows(SnapshotException.class, () -> r.transport.restoreState(s));
        assertTrue(e.getMessage().startsWith("snapshot: " + KEY + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        assertEquals(0, r.status(), "nothing applied");
        assertEquals(0, fresh.activations);
        return e;
    }

    private static VirtioState withQueue(VirtioState s, int i, VirtqueueState q) {
        List<VirtqueueState> qs = new ArrayList<>(s.queues());
        qs.set(i, q);
        return withQueues(s, qs);
    }

    private static VirtioState withQueues(VirtioState s, List<VirtqueueState> qs) {
        return new VirtioState(
                s.status(),
                s.deviceFeaturesSel(),
                s.driverFeaturesSel(),
                s.driverFeatures(),
                s.queueSel(),
                s.interruptStatus(),
                s.configGeneration(),
                s.needsReset(),
                qs,
                s.device());
    }

    private static VirtqueueState q(VirtqueueState q, int size, long desc, int nextAvail) {
        return new VirtqueueState(
                size,
                q.ready(),
                desc,
                q.avail(),
                q.used(),
                nextAvail,
                q.nextUsed(),
                q.signalledUsed(),
                q.broken());
    }

    @Test
    void hostileRecordsAreRefusedNamingTheTransportAndField() {
        GuestDriver g = busy(new LoopbackDevice(2, 8));
        VirtqueueState q0 = g.transport.saveState().queues().get(0);
        refused(g, s -> withQueue(s, 0, q(q0, 6, q0.desc(), 5)), "queue 0: queue size 6");
        refused(g, s -> withQueue(s, 0, q(q0, 16, q0.desc(), 5)), "queue 0: queue size 16");
        refused(g, s -> withQueue(s, 0, q(q0, 8, 0x1000, 5)), "not inside guest RAM");
        refused(g, s -> withQueue(s, 0, q(q0, 8, q0.desc(), 9)), "nextAvail 9 is ahead of");
        refused(g, s -> withQueue(s, 0, q(q0, 8, q0.desc(), 0x10005)), "is not a u16");
        refused(g, s -> withQueues(s, s.queues().subList(0, 1)), "queues: 1, the device has 2");
        refused(
                g,
                s ->
                        new VirtioState(
                                s.status(),
                                0,
                                0,
                                s.driverFeatures() | 1L << 40,
                                0,
                                0,
                                0,
                                false,
                                s.queues(),
                                null),
                "bit 40, which the device never offered");
        refused(
                g,
                s ->
                        new VirtioState(
                                Virtio.STATUS_DRIVER_OK,
                                0,
                                0,
                                s.driverFeatures(),
                                0,
                                0,
                                0,
                                false,
                                s.queues(),
                                null),
                "skips a step");
        refused(
                g,
                s ->
                        new VirtioState(
                                s.status(),
                                0,
                                0,
                                s.driverFeatures(),
                                0,
                                0,
                                0,
                                false,
                                s.queues(),
                                java.util.Map.of("x", 1)),
                "device state given for");
    }
}
