package dev.jvmm.core.hypercall.sdei;

import static dev.jvmm.core.hypercall.sdei.Sdei.*;
import static dev.jvmm.core.hypercall.sdei.SdeiHarness.EP;
import static dev.jvmm.core.hypercall.sdei.SdeiHarness.EP2;
import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.snapshot.SnapshotException;
import dev.jvmm.core.snapshot.StateJson;
import dev.jvmm.kvm.RegIds;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The SDEI dispatcher across a snapshot: running handlers resume their interrupted contexts. */
class SdeiSnapshotTest {
    private static final SdeiEventSpec NORMAL = new SdeiEventSpec(100, false, false);
    private static final SdeiEventSpec CRITICAL = new SdeiEventSpec(300, false, true);
    private static final SdeiEventSpec SHARED = new SdeiEventSpec(200, true, false);
    private static final long PC = 0xffff_8000_0081_2340L, PSTATE = 0x6000_0345L;

    /**
     * vCPU 0 runs event 100's handler with the critical 300 nested on top; vCPU 1 has an
     * EVENT_SIGNAL from vCPU 0 not yet delivered; shared 200 is registered, routed to vCPU 1 and
     * disabled.
     */
    private static SdeiHarness busy() {
        SdeiHarness h = new SdeiHarness(2, NORMAL, CRITICAL, SHARED);
        h.ready(0, 100, EP);
        h.ready(0, 300, EP2);
        h.ready(1, 0, EP);
        assertEquals(
                SUCCESS, h.call(1, EVENT_REGISTER, 200, EP2, 0x77, RM_PE, SdeiHarness.mpidr(1)));
        h.at(0, PC, PSTATE);
        h.sdei.inject(100, 0);
        assertTrue(h.sdei.deliverPending(0, h.cpu[0]));
        h.cpu[0].with(RegIds.x(5), 0x5555).with(RegIds.PC, EP + 0x80); // the handler runs on
        h.sdei.inject(300, 0);
        assertTrue(h.sdei.deliverPending(0, h.cpu[0]));
        assertEquals(SUCCESS, h.call(0, EVENT_SIGNAL, 0, SdeiHarness.mpidr(1)));
        return h;
    }

    private static SdeiHarness restored(String json) {
        SdeiHarness r = new SdeiHarness(2, NORMAL, CRITICAL, SHARED);
        r.sdei.restoreState(StateJson.read(json, SdeiState.class, "sdei"));
        return r;
    }

    @Test
    void completeResumesTheSavedContextsAndTheSignalIsDelivered() {
        SdeiHarness h = busy();
        String json = StateJson.write(h.sdei.saveState());
        SdeiHarness r = restored(json);
        assertEquals(json, StateJson.write(r.sdei.saveState()), "saving the restored part");
        assertEquals(List.of(1), r.wakes, "vCPU 1 is woken for the undelivered signal");

        // The vCPU registers come back from the snapshot: copy vCPU 0's live handler state.
        r.cpu[0] = h.cpu[0];
        r.call(0, EVENT_COMPLETE, 0); // the critical handler ends: back into event 100's handler
        assertEquals(EP + 0x80, r.cpu[0].pc());
        assertEquals(0x5555, r.cpu[0].x(5));
        assertEquals(0x7007, r.call(0, EVENT_CONTEXT, 7), "event 100's interrupted x7");
        r.call(0, EVENT_COMPLETE, 0);
        assertEquals(PC, r.cpu[0].pc(), "resumes exactly where event 100 interrupted");
        assertEquals(PSTATE, r.cpu[0].pstate());
        for (int i = 0; i < 18; i++) assertEquals(0x7000L + i, r.cpu[0].x(i), "x" + i);
        assertEquals(STATUS_REGISTERED | STATUS_ENABLED, r.status(0, 100));

        assertTrue(r.sdei.deliverPending(1, r.cpu[1]));
        assertEquals(EVENT_0, r.cpu[1].x(0));
        assertEquals(EP, r.cpu[1].pc());
        assertEquals(1, r.call(1, EVENT_GET_INFO, 200, INFO_ROUTING_MODE));
        assertEquals(
                SdeiHarness.mpidr(1) & MPIDR_AFFINITY_MASK,
                r.call(1, EVENT_GET_INFO, 200, INFO_ROUTING_AFFINITY));
    }

    private static void refused(String json, SdeiHarness into, String expected) {
        String before = StateJson.write(into.sdei.saveState());
        SnapshotException e =
                assertThrows(
                        SnapshotException.class,
                        () ->
                                into.sdei.restoreState(
                                        StateJson.read(json, SdeiState.class, "sdei")));
        assertTrue(e.getMessage().startsWith("snapshot: sdei: "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertEquals(before, StateJson.write(into.sdei.saveState()), "nothing applied");
    }

    @Test
    void anotherEventSetIsRefused() {
        String json = StateJson.write(busy().sdei.saveState());
        refused(json, new SdeiHarness(2, NORMAL, SHARED), "the snapshot offers events");
        refused(json, new SdeiHarness(3, NORMAL, CRITICAL, SHARED), "this VM has 3 vCPUs");
    }

    @Test
    void inconsistentRecordsAreRefused() {
        SdeiState s = busy().sdei.saveState();
        SdeiState.Pe pe0 = s.pes().get(0);
        List<SdeiState.Pe> swapped = new ArrayList<>(s.pes());
        swapped.set(
                0,
                new SdeiState.Pe(
                        0,
                        pe0.mpidr(),
                        false,
                        List.of(pe0.running().get(1), pe0.running().get(0))));
        refused(
                StateJson.write(new SdeiState(s.version(), s.events(), swapped)),
                new SdeiHarness(2, NORMAL, CRITICAL, SHARED),
                "only a critical handler may run on top of a normal one");
        List<SdeiState.Pe> dropped = new ArrayList<>(s.pes());
        dropped.set(0, new SdeiState.Pe(0, pe0.mpidr(), false, List.of(pe0.running().get(0))));
        refused(
                StateJson.write(new SdeiState(s.version(), s.events(), dropped)),
                new SdeiHarness(2, NORMAL, CRITICAL, SHARED),
                "event 300 runs on no PE's stack");
        SdeiState.Dispatch d = pe0.running().get(0);
        List<SdeiState.Pe> shortCtx = new ArrayList<>(s.pes());
        shortCtx.set(
                0,
                new SdeiState.Pe(
                        0,
                        pe0.mpidr(),
                        false,
                        List.of(
                                new SdeiState.Dispatch(d.event(), d.x().subList(0, 3), 0, 0),
                                pe0.running().get(1))));
        refused(
                StateJson.write(new SdeiState(s.version(), s.events(), shortCtx)),
                new SdeiHarness(2, NORMAL, CRITICAL, SHARED),
                "needs x0..x17");
        refused(
                StateJson.write(new SdeiState(2, s.events(), s.pes())),
                new SdeiHarness(2, NORMAL, CRITICAL, SHARED),
                "version 0x2");
    }
}
