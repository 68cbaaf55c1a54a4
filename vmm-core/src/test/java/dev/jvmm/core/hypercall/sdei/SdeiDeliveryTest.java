package dev.jvmm.core.hypercall.sdei;

import static dev.jvmm.core.hypercall.sdei.Sdei.*;
import static dev.jvmm.core.hypercall.sdei.SdeiHarness.ARG;
import static dev.jvmm.core.hypercall.sdei.SdeiHarness.EP;
import static dev.jvmm.core.hypercall.sdei.SdeiHarness.EP2;
import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.kvm.RegIds;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Delivery into the registers, EVENT_CONTEXT, COMPLETE, COMPLETE_AND_RESUME, masking and
 * priorities.
 */
class SdeiDeliveryTest {
    private static final SdeiEventSpec NORMAL = new SdeiEventSpec(100, false, false);
    private static final SdeiEventSpec NORMAL2 = new SdeiEventSpec(101, false, false);
    private static final SdeiEventSpec CRITICAL = new SdeiEventSpec(300, false, true);
    private static final SdeiEventSpec SHARED = new SdeiEventSpec(200, true, false);
    private static final long INTERRUPTED_PC = 0xffff_8000_0081_2340L,
            INTERRUPTED_PSTATE = 0x6000_0345L;

    private final SdeiHarness h = new SdeiHarness(2, NORMAL, NORMAL2, CRITICAL, SHARED);

    @Test
    void injectedEventEntersTheHandlerWithTheSpecifiedRegisters() {
        h.ready(0, 100, EP);
        h.at(0, INTERRUPTED_PC, INTERRUPTED_PSTATE);
        long[] before = h.gprs(0);
        assertEquals(SignalOutcome.QUEUED, h.sdei.inject(100, 0));
        assertEquals(List.of(0), h.wakes, "the target vCPU is kicked");
        h.cpu[0].clearLog();
        assertTrue(h.sdei.deliverPending(0, h.cpu[0]));

        assertEquals(100, h.cpu[0].x(0), "x0 = event");
        assertEquals(ARG, h.cpu[0].x(1), "x1 = registered argument");
        assertEquals(INTERRUPTED_PC, h.cpu[0].x(2), "x2 = interrupted PC");
        assertEquals(INTERRUPTED_PSTATE, h.cpu[0].x(3), "x3 = interrupted PSTATE");
        assertEquals(EP, h.cpu[0].pc());
        assertEquals(0x3C5, h.cpu[0].pstate(), "EL1h, DAIF masked");
        assertEquals(0x7004, h.cpu[0].x(4), "x4.. are the interrupted values");
        assertFalse(h.cpu[0].writes.contains(RegIds.ELR_EL1), "ELR_EL1 is not touched at dispatch");
        assertFalse(h.cpu[0].writes.contains(RegIds.spsr(0)));
        assertEquals(STATUS_REGISTERED | STATUS_ENABLED | STATUS_RUNNING, h.status(0, 100));

        for (int i = 0; i < 18; i++)
            assertEquals(before[i], h.call(0, EVENT_CONTEXT, i), "EVENT_CONTEXT x" + i);
        assertEquals(INVALID_PARAMETERS, h.call(0, EVENT_CONTEXT, 18));

        h.cpu[0].with(RegIds.PC, EP + 0x40); // the handler ran a little
        h.cpu[0].clearLog();
        h.call(0, EVENT_COMPLETE, 0);
        assertArrayEquals(before, h.gprs(0), "x0..x17 restored");
        assertEquals(INTERRUPTED_PC, h.cpu[0].pc(), "resumes exactly where it was");
        assertEquals(INTERRUPTED_PSTATE, h.cpu[0].pstate());
        assertEquals(STATUS_REGISTERED | STATUS_ENABLED, h.status(0, 100));
        assertEquals(1, h.sdei.snapshot().events().get(1).instances().get(0).dispatches());
    }

    @Test
    void completeAndResumeTakesAnExceptionToTheResumeAddress() {
        h.ready(0, 100, EP);
        h.at(0, INTERRUPTED_PC, INTERRUPTED_PSTATE);
        long[] before = h.gprs(0);
        h.sdei.inject(100, 0);
        h.sdei.deliverPending(0, h.cpu[0]);
        h.cpu[0].with(RegIds.ELR_EL1, 0x1111).with(RegIds.spsr(0), 0x2222);
        h.call(0, EVENT_COMPLETE_AND_RESUME, 0xffff_8000_0001_0280L);
        assertArrayEquals(before, h.gprs(0), "x0..x17 of the interrupted context");
        assertEquals(0xffff_8000_0001_0280L, h.cpu[0].pc());
        assertEquals(0x3C5, h.cpu[0].pstate());
        assertEquals(INTERRUPTED_PC, h.cpu[0].get(RegIds.ELR_EL1));
        assertEquals(INTERRUPTED_PSTATE, h.cpu[0].get(RegIds.spsr(0)));
        assertEquals(STATUS_REGISTERED | STATUS_ENABLED, h.status(0, 100));
    }

    @Test
    void handlerPstateFollowsPanSsbsMteAndDit() {
        HandlerPstate all = new HandlerPstate(true, true, true);
        SdeiHarness f = new SdeiHarness(1, all, NORMAL);
        f.ready(0, 100, EP);
        f.at(0, INTERRUPTED_PC, HandlerPstate.PSTATE_DIT | 0x5);
        f.cpu[0].with(RegIds.SCTLR_EL1, HandlerPstate.SCTLR_DSSBS); // SPAN = 0: PAN forced
        f.sdei.inject(100, 0);
        f.sdei.deliverPending(0, f.cpu[0]);
        assertEquals(
                0x3C5
                        | HandlerPstate.PSTATE_PAN
                        | HandlerPstate.PSTATE_SSBS
                        | HandlerPstate.PSTATE_TCO
                        | HandlerPstate.PSTATE_DIT,
                f.cpu[0].pstate());
        f.call(0, EVENT_COMPLETE_AND_RESUME, 0x9000);
        assertEquals(
                0x3C5
                        | HandlerPstate.PSTATE_PAN
                        | HandlerPstate.PSTATE_SSBS
                        | HandlerPstate.PSTATE_TCO
                        | HandlerPstate.PSTATE_DIT,
                f.cpu[0].pstate(),
                "the resume 'exception' follows the same rules");
    }

    @Test
    void maskedPeKeepsTheEventPendingUntilUnmask() {
        h.register(0, 100, EP);
        h.enable(0, 100);
        assertEquals(SignalOutcome.QUEUED, h.sdei.inject(100, 0));
        assertEquals(SignalOutcome.ALREADY_PENDING, h.sdei.inject(100, 0));
        assertFalse(h.sdei.deliverPending(0, h.cpu[0]), "PE masked");
        h.at(0, 0x4800, 0x5);
        h.unmask(0); // the call itself delivers once its result is written
        assertEquals(EP, h.cpu[0].pc());
        assertEquals(0x4800, h.cpu[0].x(2), "interrupted PC: the instruction after the HVC");
        assertEquals(
                SUCCESS,
                h.call(0, EVENT_CONTEXT, 0),
                "the interrupted x0 holds PE_UNMASK's result");
        assertEquals(0, h.call(0, EVENT_CONTEXT, 1), "x1..x3 zeroed by the result write");
        assertEquals(
                0x7006,
                h.call(0, EVENT_CONTEXT, 6),
                "x6 as the caller left it (x4, x5 were call arguments)");
    }

    @Test
    void disabledOrUnregisteredEvents() {
        assertEquals(SignalOutcome.NOT_REGISTERED, h.sdei.inject(100, 0));
        h.register(0, 100, EP);
        h.unmask(0);
        assertEquals(SignalOutcome.QUEUED, h.sdei.inject(100, 0));
        assertFalse(h.sdei.deliverPending(0, h.cpu[0]), "disabled: stays pending");
        h.at(0, 0x4900, 0x5);
        h.enable(0, 100);
        assertEquals(EP, h.cpu[0].pc(), "enabling delivers it");
        h.call(0, EVENT_COMPLETE, 0);
        h.sdei.inject(100, 0);
        h.call(0, EVENT_DISABLE, 100);
        h.call(0, EVENT_UNREGISTER, 100);
        h.register(0, 100, EP);
        h.enable(0, 100);
        assertEquals(0x4900, h.cpu[0].pc(), "unregistering dropped the pending trigger");
        assertEquals(SignalOutcome.NOT_REGISTERED, h.sdei.inject(100, 1), "private: per PE");
    }

    @Test
    void criticalPreemptsNormalAndCompletesBackIntoIt() {
        h.ready(0, 100, EP);
        h.ready(0, 300, EP2);
        h.at(0, INTERRUPTED_PC, INTERRUPTED_PSTATE);
        long[] outer = h.gprs(0);
        h.sdei.inject(100, 0);
        h.sdei.deliverPending(0, h.cpu[0]);
        h.at(0, EP + 0x80, 0x3c5); // inside the normal handler
        long[] inNormal = h.gprs(0);
        h.sdei.inject(300, 0);
        assertTrue(h.sdei.deliverPending(0, h.cpu[0]));
        assertEquals(EP2, h.cpu[0].pc());
        assertEquals(300, h.cpu[0].x(0));
        assertEquals(EP + 0x80, h.cpu[0].x(2), "the critical handler interrupted the normal one");
        assertEquals(List.of(100, 300), h.sdei.snapshot().pes().get(0).running());
        assertEquals(
                0x7005, h.call(0, EVENT_CONTEXT, 5), "EVENT_CONTEXT reads the innermost dispatch");

        h.call(0, EVENT_COMPLETE, 0);
        assertArrayEquals(inNormal, h.gprs(0));
        assertEquals(EP + 0x80, h.cpu[0].pc(), "back in the normal handler");
        assertEquals(List.of(100), h.sdei.snapshot().pes().get(0).running());
        h.call(0, EVENT_COMPLETE, 0);
        assertArrayEquals(outer, h.gprs(0));
        assertEquals(INTERRUPTED_PC, h.cpu[0].pc());
    }

    @Test
    void nothingPreemptsACriticalEventAndNormalWaitsForNormal() {
        h.ready(0, 100, EP);
        h.ready(0, 101, EP2);
        h.ready(0, 300, EP2 + 0x1000);
        h.sdei.inject(300, 0);
        h.sdei.deliverPending(0, h.cpu[0]);
        h.sdei.inject(100, 0);
        assertFalse(
                h.sdei.deliverPending(0, h.cpu[0]), "a normal event waits for the critical one");
        h.at(0, EP2 + 0x1040, 0x3c5);
        h.call(0, EVENT_COMPLETE, 0); // back to the original context ...
        assertEquals(EP, h.cpu[0].pc(), "... and the pending normal event is taken at once");
        assertEquals(List.of(100), h.sdei.snapshot().pes().get(0).running());
        h.sdei.inject(101, 0);
        assertFalse(h.sdei.deliverPending(0, h.cpu[0]), "normal does not pre-empt normal");
        h.call(0, EVENT_COMPLETE, 0);
        assertEquals(EP2, h.cpu[0].pc());
        h.call(0, EVENT_COMPLETE, 0);
        assertEquals(List.of(), h.sdei.snapshot().pes().get(0).running());
    }

    @Test
    void criticalGoesFirstWhenBothArePending() {
        h.ready(0, 100, EP);
        h.ready(0, 300, EP2);
        h.call(0, PE_MASK);
        h.sdei.inject(100, 0);
        h.sdei.inject(300, 0);
        h.unmask(0);
        assertEquals(EP2, h.cpu[0].pc());
        assertEquals(List.of(300), h.sdei.snapshot().pes().get(0).running());
    }

    @Test
    void unregisterWhileRunningIsPendingUntilComplete() {
        h.ready(0, 100, EP);
        h.sdei.inject(100, 0);
        h.sdei.deliverPending(0, h.cpu[0]);
        assertEquals(PENDING, h.call(0, EVENT_UNREGISTER, 100));
        assertEquals(STATUS_RUNNING, h.status(0, 100), "running, no longer registered");
        assertEquals(PENDING, h.call(0, EVENT_UNREGISTER, 100), "again while it still runs");
        assertEquals(DENIED, h.enable(0, 100));
        assertEquals(
                0x1011, h.call(0, EVENT_CONTEXT, 17), "the interrupted context is still readable");
        h.call(0, EVENT_COMPLETE, 0);
        assertEquals(0, h.status(0, 100));
        assertEquals(DENIED, h.call(0, EVENT_UNREGISTER, 100));
        assertEquals(SignalOutcome.NOT_REGISTERED, h.sdei.inject(100, 0));
    }

    @Test
    void resetsWithARunningEventAreDenied() {
        h.ready(0, 100, EP);
        h.register(0, 101, EP2);
        h.sdei.inject(100, 0);
        h.sdei.deliverPending(0, h.cpu[0]);
        assertEquals(DENIED, h.call(0, PRIVATE_RESET));
        assertEquals(STATUS_RUNNING, h.status(0, 100));
        assertEquals(0, h.status(0, 101), "the others are unregistered anyway");
        h.call(0, EVENT_COMPLETE, 0);
        h.register(1, 200, EP);
        h.enable(1, 200);
        h.unmask(1);
        h.sdei.inject(200, 0);
        h.sdei.deliverPending(1, h.cpu[1]);
        assertEquals(DENIED, h.call(0, SHARED_RESET));
        assertEquals(STATUS_RUNNING, h.status(1, 200));
    }

    @Test
    void sharedEventsFollowTheirRouting() {
        h.register(0, 200, EP); // RM_ANY
        h.enable(0, 200);
        h.unmask(1);
        assertEquals(SignalOutcome.QUEUED, h.sdei.inject(200, 0));
        assertEquals(List.of(0, 1), h.wakes, "any PE may take it: all are woken");
        assertFalse(h.sdei.deliverPending(0, h.cpu[0]), "PE 0 is masked");
        assertTrue(h.sdei.deliverPending(1, h.cpu[1]));
        assertEquals(1, h.sdei.snapshot().events().get(3).instances().get(0).runningOn());
        assertEquals(SignalOutcome.QUEUED, h.sdei.inject(200, 1), "triggered again while running");
        h.unmask(0);
        assertEquals(0x4000, h.cpu[0].pc(), "not while it runs elsewhere");
        h.wakes.clear();
        h.call(1, EVENT_COMPLETE, 0);
        assertEquals(List.of(0), h.wakes, "completion offers the new trigger to the other PE");
        assertEquals(EP, h.cpu[1].pc(), "the completing PE takes it itself first");

        h.call(1, EVENT_COMPLETE, 0);
        h.call(0, EVENT_DISABLE, 200);
        h.call(0, EVENT_ROUTING_SET, 200, RM_PE, SdeiHarness.mpidr(0));
        h.enable(0, 200);
        h.wakes.clear();
        h.sdei.inject(200, 1);
        assertEquals(List.of(0), h.wakes);
        assertFalse(h.sdei.deliverPending(1, h.cpu[1]), "routed to PE 0 only");
        assertTrue(h.sdei.deliverPending(0, h.cpu[0]));
    }

    @Test
    void eventSignalFromCpu0ReachesCpu1() {
        h.ready(1, 0, EP);
        h.at(1, 0x9990, 0x5);
        assertEquals(SUCCESS, h.call(0, EVENT_SIGNAL, 0, SdeiHarness.mpidr(1)));
        assertEquals(List.of(1), h.wakes);
        assertEquals(0x4000, h.cpu[0].pc(), "the signalling PE is not interrupted");
        assertTrue(h.sdei.deliverPending(1, h.cpu[1]));
        assertEquals(0, h.cpu[1].x(0));
        assertEquals(0x9990, h.cpu[1].x(2));
    }

    @Test
    void signalToSelfIsTakenRightAfterTheCall() {
        h.ready(0, 0, EP);
        h.at(0, 0x5550, 0x5);
        h.call(0, EVENT_SIGNAL, 0, SdeiHarness.mpidr(0));
        assertEquals(EP, h.cpu[0].pc());
        assertEquals(0x5550, h.cpu[0].x(2));
        assertEquals(List.of(), h.wakes, "no kick needed for the calling vCPU");
    }

    @Test
    void injectRejectsUnknownEventsAndCpus() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> h.sdei.inject(7, 0));
        assertEquals("no SDEI event 7; this VM offers [0, 100, 101, 200, 300]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> h.sdei.inject(100, 2));
        assertEquals("no vCPU 2 for private SDEI event 100 (the VM has 2)", e.getMessage());
        assertEquals(
                SignalOutcome.NOT_REGISTERED,
                h.sdei.inject(200, 99),
                "shared events ignore the CPU");
    }

    @Test
    void resetReturnsToTheBootState() {
        h.ready(0, 100, EP);
        h.sdei.inject(100, 0);
        h.sdei.deliverPending(0, h.cpu[0]);
        h.sdei.reset();
        SdeiSnapshot s = h.sdei.snapshot();
        assertTrue(s.pes().stream().allMatch(SdeiSnapshot.Pe::masked));
        assertTrue(s.pes().stream().allMatch(p -> p.running().isEmpty()));
        assertTrue(
                s.events().stream()
                        .flatMap(ev -> ev.instances().stream())
                        .noneMatch(i -> i.registered() || i.pending() || i.running()));
    }

    @Test
    void snapshotDescribesEveryInstance() {
        h.register(1, 100, EP);
        SdeiSnapshot s = h.sdei.snapshot();
        assertEquals(
                List.of(0, 100, 101, 200, 300),
                s.events().stream().map(SdeiSnapshot.Event::number).toList());
        SdeiSnapshot.Event ev = s.events().get(1);
        assertFalse(ev.shared());
        assertEquals(2, ev.instances().size());
        assertEquals(
                new SdeiSnapshot.Instance(1, true, false, false, false, -1, EP, ARG, RM_PE, 1, 0),
                ev.instances().get(1));
        assertEquals(-1, s.events().get(3).instances().get(0).cpu());
        assertEquals(new SdeiSnapshot.Pe(1, 1, true, List.of()), s.pes().get(1));
    }
}
