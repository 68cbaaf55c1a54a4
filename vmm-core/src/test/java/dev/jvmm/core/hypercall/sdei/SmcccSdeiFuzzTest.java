package dev.jvmm.core.hypercall.sdei;

import static org.junit.jupiter.api.Assertions.*;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.jvmm.core.arch.DeviceTreeInput;
import dev.jvmm.core.hypercall.FakeRegisters;
import dev.jvmm.core.hypercall.FunctionRange;
import dev.jvmm.core.hypercall.HypercallConfig;
import dev.jvmm.core.hypercall.HypercallServices;
import dev.jvmm.core.hypercall.SmcccRouter;
import dev.jvmm.core.hypercall.SmcccService;
import dev.jvmm.core.hypercall.shared.SharedRegionService;
import dev.jvmm.kvm.RegIds;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;

/**
 * Jazzer target for the SMCCC router with the SDEI dispatcher (and the shared-region and vendor-hyp
 * services beside it): fuzzer-chosen call sequences from up to four fake vCPUs -- every SDEI
 * function ID of the block, other owners' IDs, denied and unclaimed ones, with fuzzed arguments --
 * interleaved with host-raised events (the control API's sdei-signal), the kicks that follow them,
 * the guest running on in a handler, and resets. Invariants: nothing escapes; every call is
 * answered with a valid SMCCC/SDEI result; a call outside the SDEI block never moves the PC or
 * PSTATE nor touches x4..x17; each delivery saves exactly the context it interrupted and each
 * successful COMPLETE / COMPLETE_AND_RESUME restores that context once (dispatches balance
 * completes plus what is still running); nothing of a registration survives UNREGISTER; the
 * snapshot is consistent (enabled implies registered, running matches the PE's dispatch stack, at
 * most a normal and a critical handler per PE). A plain {@code mvn verify} replays {@code
 * SmcccSdeiFuzzTestInputs/calls/}; {@code JAZZER_FUZZ=1} fuzzes.
 */
class SmcccSdeiFuzzTest {
    private static final SdeiEventSpec[] PLATFORM = {
        new SdeiEventSpec(100, false, false),
        new SdeiEventSpec(200, true, false),
        new SdeiEventSpec(300, false, true),
        new SdeiEventSpec(301, true, true)
    };
    private static final long[] EVENTS = {0, 100, 200, 300, 301, 7, 0x1_0000_0064L, -1};
    private static final long[] ENTRY = {0xffff_8000_1000_0000L, 0xffff_8000_1000_1000L, 0, 4};
    private static final int[] OTHER_IDS = {
        SharedRegionService.HYP_MEMINFO,
        SharedRegionService.MEM_SHARE,
        SharedRegionService.MEM_UNSHARE,
        0x8600_0000,
        0xC600_0000,
        0x8600_0001,
        0xC600_0005,
        0xC400_0040,
        0xC400_001F,
        0x8400_0020,
        0xC200_0001,
        0xC700_0000
    };
    private static final Set<Long> SDEI_ERRORS =
            Set.of(
                    Sdei.NOT_SUPPORTED,
                    Sdei.INVALID_PARAMETERS,
                    Sdei.DENIED,
                    Sdei.PENDING,
                    Sdei.OUT_OF_RESOURCE);

    /** A saved context as the model expects it; x[i] null where the test cannot know it. */
    @SuppressWarnings(
            "ArrayRecordComponent") // a saved context read register by register, never compared
    // whole
    private record Ctx(int event, Long[] x, Long pc, Long pstate) {}

    private int cpus;
    private SdeiDispatcher sdei;
    private SmcccRouter router;
    private FakeRegisters[] regs;
    private List<ArrayDeque<Ctx>> stacks;
    private List<Integer> wakes;
    private long dispatches, completes;

    /** The call a delivery interrupted was EVENT_CONTEXT, whose x0 may be any value. */
    private boolean anyAnswer;

    @FuzzTest(maxDuration = "30s")
    void calls(FuzzedDataProvider data) {
        cpus = data.consumeInt(1, 4);
        List<SdeiEventSpec> events = new ArrayList<>();
        for (SdeiEventSpec s : PLATFORM) if (data.consumeBoolean()) events.add(s);
        List<FunctionRange> deny =
                data.consumeBoolean() ? List.of(FunctionRange.of(0xC400_0028L, 2)) : List.of();
        HandlerPstate ps =
                new HandlerPstate(
                        data.consumeBoolean(), data.consumeBoolean(), data.consumeBoolean());
        HypercallServices services =
                HypercallServices.build(
                        new HypercallConfig(true, events, deny, true),
                        new HypercallServices.Platform(
                                DeviceTreeInput.kvmDefaultMpidrs(cpus),
                                ps,
                                0x8000_0000L,
                                1L << 20,
                                3,
                                0));
        sdei = services.sdei().orElseThrow();
        router = services.router();
        wakes = new ArrayList<>();
        sdei.setWaker(wakes::add);
        regs = new FakeRegisters[cpus];
        stacks = new ArrayList<>();
        for (int c = 0; c < cpus; c++) {
            regs[c] =
                    new FakeRegisters().context(0xffff_8000_0080_0000L + 0x100L * c, 0x6000_0005L);
            stacks.add(new ArrayDeque<>());
        }
        dispatches = completes = 0;

        for (int ops = 0; ops < 200 && data.remainingBytes() > 0; ops++) {
            int c = data.consumeInt(0, cpus - 1);
            switch (data.consumeInt(0, 11)) {
                case 0, 1, 2, 3 ->
                        guestCall(data, c, Sdei.FN_BASE + data.consumeInt(0, 0x1f), null);
                case 4 -> { // a client's set-up: register, enable, unmask
                    long event = data.pickValue(EVENTS);
                    long flags = data.consumeBoolean() ? Sdei.RM_ANY : Sdei.RM_PE;
                    long affinity = DeviceTreeInput.kvmDefaultMpidr(data.consumeInt(0, cpus - 1));
                    guestCall(
                            data,
                            c,
                            Sdei.EVENT_REGISTER,
                            new long[] {
                                event, data.pickValue(ENTRY), data.consumeLong(), flags, affinity
                            });
                    guestCall(data, c, Sdei.EVENT_ENABLE, new long[] {event, 0, 0, 0, 0});
                    guestCall(data, c, Sdei.PE_UNMASK, new long[] {0, 0, 0, 0, 0});
                }
                case 5 -> { // the handler is done
                    int fn =
                            data.consumeBoolean()
                                    ? Sdei.EVENT_COMPLETE
                                    : Sdei.EVENT_COMPLETE_AND_RESUME;
                    guestCall(
                            data,
                            c,
                            fn,
                            new long[] {
                                0xffff_8000_0090_0000L + 4L * data.consumeInt(0, 1 << 16),
                                0,
                                0,
                                0,
                                0
                            });
                }
                case 6 ->
                        guestCall(
                                data,
                                c,
                                Sdei.EVENT_SIGNAL, // software-signalled event 0 to some PE
                                new long[] {
                                    0,
                                    DeviceTreeInput.kvmDefaultMpidr(data.consumeInt(0, cpus)),
                                    0,
                                    0,
                                    0
                                });
                case 7 ->
                        guestCall(
                                data,
                                c,
                                data.consumeBoolean()
                                        ? data.pickValue(OTHER_IDS)
                                        : data.consumeInt(),
                                null);
                case 8 -> hostSignal(data);
                case 9 -> deliver(c); // a vCPU exit for another reason
                case 10 -> { // the guest runs on: every register changes
                    long seed = data.consumeLong();
                    for (int i = 0; i < 18; i++) regs[c].with(RegIds.x(i), seed * (2 * i + 1) + i);
                    regs[c].with(RegIds.PC, regs[c].pc() + 4L * data.consumeInt(1, 64));
                    if (data.consumeBoolean()) regs[c].with(RegIds.PSTATE, data.consumeLong());
                }
                default -> {
                    if (data.consumeInt(0, 7) == 0) { // guest reboot
                        services.reset();
                        stacks.forEach(ArrayDeque::clear);
                        dispatches = completes = 0;
                    }
                }
            }
            checkSnapshot();
        }
    }

    /** One HVC from vCPU {@code c}: x0 = {@code fn}, x1..x5 = {@code fixed} or fuzzed arguments. */
    private void guestCall(FuzzedDataProvider data, int c, int fn, long[] fixed) {
        FakeRegisters r = regs[c];
        long[] args = new long[6];
        r.with(RegIds.x(0), fn & 0xffff_ffffL);
        for (int i = 1; i <= 5; i++) {
            args[i] = fixed != null ? fixed[i - 1] : arg(data);
            r.with(RegIds.x(i), args[i]);
        }
        long[] before = gprs(r);
        long pc = r.pc(), pstate = r.pstate();
        long elr = r.get(RegIds.ELR_EL1), spsr = r.get(RegIds.spsr(0));
        SmcccService service = router.serviceFor(fn);
        boolean sdeiCall = service instanceof SdeiService;
        boolean complete =
                sdeiCall && (fn == Sdei.EVENT_COMPLETE || fn == Sdei.EVENT_COMPLETE_AND_RESUME);
        int depthBefore = stacks.get(c).size();
        long dispatchedBefore = dispatchCount();

        router.handle(c, fn, data.consumeBoolean(), r);

        List<Integer> running = sdei.snapshot().pes().get(c).running();
        int added = (int) (dispatchCount() - dispatchedBefore);
        int popped = depthBefore + added - running.size();
        assertTrue(
                popped == 0 || (popped == 1 && complete),
                "0x" + Integer.toHexString(fn) + " ended " + popped + " handlers");
        if (!sdeiCall) {
            assertEquals(0, added, "a call outside SDEI delivered an event");
            assertEquals(0, popped);
            assertEquals(
                    pc, r.pc(), "a call outside SDEI moved the PC: 0x" + Integer.toHexString(fn));
            assertEquals(pstate, r.pstate(), "a call outside SDEI changed PSTATE");
            assertEquals(elr, r.get(RegIds.ELR_EL1));
            assertEquals(spsr, r.get(RegIds.spsr(0)));
            long[] after = gprs(r);
            for (int i = 4; i < 18; i++)
                assertEquals(before[i], after[i], "x" + i + " after 0x" + Integer.toHexString(fn));
            if (service == null) {
                assertEquals(-1, after[0], "unclaimed or denied ID answered NOT_SUPPORTED");
                assertEquals(0, after[1] | after[2] | after[3]);
            } else if (service instanceof SharedRegionService) {
                assertTrue(
                        after[0] == 0
                                || after[0] == -1
                                || after[0] == -3
                                || after[0] == SharedRegionService.GRANULE,
                        "shared-region result " + after[0]);
            }
            return;
        }
        if (popped == 1) {
            // COMPLETE succeeded: back in the context the handler interrupted (or resumed at x1),
            // exactly once
            Ctx top = stacks.get(c).pop();
            completes++;
            boolean resume = fn == Sdei.EVENT_COMPLETE_AND_RESUME;
            if (added == 0) {
                long[] x = gprs(r);
                for (int i = 0; i < 18; i++) {
                    if (top.x()[i] != null)
                        assertEquals((long) top.x()[i], x[i], "x" + i + " restored by COMPLETE");
                }
                if (resume) {
                    assertEquals(args[1], r.pc(), "COMPLETE_AND_RESUME resumes at x1");
                    if (top.pc() != null)
                        assertEquals(
                                (long) top.pc(), r.get(RegIds.ELR_EL1), "ELR_EL1 = interrupted PC");
                    if (top.pstate() != null)
                        assertEquals(
                                (long) top.pstate(),
                                r.get(RegIds.spsr(0)),
                                "SPSR_EL1 = interrupted PSTATE");
                } else {
                    if (top.pc() != null)
                        assertEquals(
                                (long) top.pc(), r.pc(), "COMPLETE returns to the interrupted PC");
                    if (top.pstate() != null)
                        assertEquals((long) top.pstate(), r.pstate(), "and PSTATE");
                }
            } else {
                noteDispatches(
                        c,
                        running,
                        added,
                        new Ctx(
                                -1,
                                top.x().clone(),
                                resume ? Long.valueOf(args[1]) : top.pc(),
                                resume ? null : top.pstate()));
            }
            return;
        }
        if (added == 0) {
            long x0 = r.x(0);
            if (fn == Sdei.EVENT_CONTEXT) {
                // any 64-bit value is a register; the model knows which one
                Ctx running0 = stacks.get(c).peek();
                if (Long.compareUnsigned(args[1], Sdei.SAVED_GPREGS) >= 0)
                    assertEquals(Sdei.INVALID_PARAMETERS, x0, "EVENT_CONTEXT x" + args[1]);
                else if (running0 == null)
                    assertEquals(Sdei.DENIED, x0, "EVENT_CONTEXT outside a handler");
                else if (running0.x()[(int) args[1]] != null)
                    assertEquals(
                            (long) running0.x()[(int) args[1]], x0, "EVENT_CONTEXT x" + args[1]);
            } else {
                assertTrue(
                        x0 >= 0 || SDEI_ERRORS.contains(x0),
                        "SDEI answer " + x0 + " to 0x" + Integer.toHexString(fn));
            }
            assertEquals(pc, r.pc(), "an SDEI call that delivered nothing moved the PC");
            assertEquals(pstate, r.pstate());
            if (complete) assertEquals(Sdei.DENIED, x0, "a COMPLETE that ended nothing");
            if (fn == Sdei.EVENT_UNREGISTER && (x0 == Sdei.SUCCESS || x0 == Sdei.PENDING)) {
                checkUnregistered(c, args[1], x0);
            }
        } else {
            // the call made something deliverable on this PE (unmask, enable, signal to self, a
            // failed COMPLETE...)
            Long[] x = new Long[18];
            for (int i = 4; i < 18; i++) x[i] = before[i];
            if (!complete) x[1] = x[2] = x[3] = 0L; // SDEI results are x0 only
            anyAnswer = fn == Sdei.EVENT_CONTEXT; // whose answer is a register value
            noteDispatches(c, running, added, new Ctx(-1, x, pc, pstate));
            anyAnswer = false;
        }
    }

    private long dispatchCount() {
        long n = 0;
        for (SdeiSnapshot.Event e : sdei.snapshot().events())
            for (SdeiSnapshot.Instance i : e.instances()) n += i.dispatches();
        return n;
    }

    /** Host-raised event (sdei-signal) then the kicks of every vCPU the dispatcher named. */
    private void hostSignal(FuzzedDataProvider data) {
        int event = (int) data.pickValue(EVENTS);
        int target = data.consumeInt(-1, cpus);
        SdeiEventSpec spec =
                sdei.events().stream().filter(s -> s.number() == event).findFirst().orElse(null);
        boolean valid = spec != null && (spec.shared() || (target >= 0 && target < cpus));
        try {
            sdei.inject(event, target);
            assertTrue(valid, "inject accepted event " + event + " for vCPU " + target);
        } catch (IllegalArgumentException e) {
            assertFalse(valid, e.getMessage());
        }
        List<Integer> kicked = new ArrayList<>(wakes);
        wakes.clear();
        for (int c : kicked) {
            assertTrue(c >= 0 && c < cpus, "woke vCPU " + c);
            if (data.consumeBoolean()) deliver(c);
        }
    }

    /** What a kicked vCPU thread does: take what is pending, without a call in progress. */
    private void deliver(int c) {
        FakeRegisters r = regs[c];
        long[] before = gprs(r);
        long pc = r.pc(), pstate = r.pstate();
        long dispatchedBefore = dispatchCount();
        boolean any = sdei.deliverPending(c, r);
        int added = (int) (dispatchCount() - dispatchedBefore);
        assertEquals(any, added > 0, "deliverPending's answer");
        if (!any) {
            assertArrayEquals(before, gprs(r), "no delivery, no register change");
            assertEquals(pc, r.pc());
            return;
        }
        Long[] x = new Long[18];
        for (int i = 0; i < 18; i++) x[i] = before[i];
        noteDispatches(
                c, sdei.snapshot().pes().get(c).running(), added, new Ctx(-1, x, pc, pstate));
    }

    /**
     * {@code added} handlers were just entered on PE {@code c} on top of the model's stack: check
     * each saved context against what it interrupted ({@code interrupted}, partly known) and push
     * them.
     */
    private void noteDispatches(int c, List<Integer> running, int added, Ctx interrupted) {
        ArrayDeque<Ctx> stack = stacks.get(c);
        assertTrue(added == 1 || added == 2, "handlers entered at once: " + added);
        assertEquals(
                stack.size() + added,
                running.size(),
                "new handlers vs the dispatch stack " + running);
        List<Ctx> model = new ArrayList<>(stack);
        Collections.reverse(model);
        for (int i = 0; i < model.size(); i++)
            assertEquals(model.get(i).event(), running.get(i), "stack below the new handler");
        FakeRegisters r = regs[c];
        Ctx inner = interrupted;
        if (added == 2) {
            // a critical event pre-empted the just-entered normal one: its saved context is that
            // handler's entry
            int outerEvent = running.get(running.size() - 2);
            stack.push(
                    new Ctx(
                            outerEvent,
                            interrupted.x().clone(),
                            interrupted.pc(),
                            interrupted.pstate()));
            dispatches++;
            Long[] x = new Long[18];
            for (int i = 4; i < 18; i++) x[i] = interrupted.x()[i];
            x[0] = (long) outerEvent;
            x[2] = interrupted.pc();
            x[3] = interrupted.pstate();
            inner = new Ctx(-1, x, entryPoint(c, outerEvent), null);
        }
        int event = running.get(running.size() - 1);
        assertEquals(event, r.x(0), "x0 = event number at handler entry");
        assertEquals(entryPoint(c, event), r.pc(), "PC = the registered entry point");
        assertEquals(
                HandlerPstate.EL1H_DAIF_MASKED,
                r.pstate() & 0x3CF,
                "handler runs at EL1h with DAIF masked");
        long interruptedPc = r.x(2), interruptedPstate = r.x(3);
        if (inner.pc() != null)
            assertEquals((long) inner.pc(), interruptedPc, "x2 = interrupted PC");
        if (inner.pstate() != null)
            assertEquals((long) inner.pstate(), interruptedPstate, "x3 = interrupted PSTATE");
        Long[] saved = new Long[18];
        for (int i = 0; i < 18; i++) {
            long v = sdei.context(c, i);
            if (inner.x()[i] != null)
                assertEquals((long) inner.x()[i], v, "EVENT_CONTEXT x" + i + " of event " + event);
            saved[i] = v;
        }
        if (inner.x()[0] == null && !anyAnswer)
            assertTrue(
                    saved[0] >= 0 || SDEI_ERRORS.contains(saved[0]),
                    "the interrupted call's answer " + saved[0]);
        stack.push(new Ctx(event, saved, interruptedPc, interruptedPstate));
        dispatches++;
    }

    private long entryPoint(int c, int event) {
        for (SdeiSnapshot.Event e : sdei.snapshot().events()) {
            if (e.number() == event)
                return (e.shared() ? e.instances().get(0) : e.instances().get(c)).entryPoint();
        }
        throw new AssertionError("no event " + event);
    }

    private void checkUnregistered(int c, long event, long x0) {
        for (SdeiSnapshot.Event e : sdei.snapshot().events()) {
            if (e.number() != (int) event) continue;
            SdeiSnapshot.Instance i = e.shared() ? e.instances().get(0) : e.instances().get(c);
            assertFalse(
                    i.registered() || i.enabled() || i.pending(),
                    "state left after UNREGISTER: " + i);
            assertEquals(0, i.entryPoint(), "entry point left after UNREGISTER");
            assertEquals(0, i.argument(), "argument left after UNREGISTER");
            assertEquals(
                    x0 == Sdei.PENDING, i.running(), "PENDING exactly when the handler still runs");
        }
    }

    private void checkSnapshot() {
        SdeiSnapshot s = sdei.snapshot();
        long seen = 0;
        for (SdeiSnapshot.Event e : s.events()) {
            for (SdeiSnapshot.Instance i : e.instances()) {
                seen += i.dispatches();
                assertTrue(
                        !i.enabled() || i.registered(),
                        "enabled but not registered: " + e.number());
                if (!i.registered()) {
                    assertFalse(i.pending(), "pending without a registration: " + e.number());
                    assertEquals(
                            0, i.entryPoint(), "entry point without a registration: " + e.number());
                }
                assertEquals(
                        i.running(), i.runningOn() >= 0, "running vs runningOn of " + e.number());
                if (i.running())
                    assertTrue(s.pes().get(i.runningOn()).running().contains(e.number()));
            }
        }
        assertEquals(dispatches, seen, "dispatches counted by the dispatcher");
        long outstanding = 0;
        for (int c = 0; c < cpus; c++) {
            List<Integer> running = s.pes().get(c).running();
            List<Ctx> model = new ArrayList<>(stacks.get(c));
            Collections.reverse(model);
            assertEquals(
                    model.stream().map(Ctx::event).toList(),
                    running,
                    "dispatch stack of vCPU " + c);
            assertTrue(running.size() <= 2);
            if (running.size() == 2) {
                assertTrue(
                        isCritical(s, running.get(1)) && !isCritical(s, running.get(0)),
                        "nesting " + running);
            }
            outstanding += running.size();
        }
        assertEquals(
                dispatches,
                completes + outstanding,
                "every delivery is completed once or still running");
    }

    private static boolean isCritical(SdeiSnapshot s, int event) {
        return s.events().stream().anyMatch(e -> e.number() == event && e.critical());
    }

    private static long arg(FuzzedDataProvider d) {
        return switch (d.consumeInt(0, 7)) {
            case 0, 1 -> d.pickValue(EVENTS);
            case 2 -> d.pickValue(ENTRY);
            case 3 -> DeviceTreeInput.kvmDefaultMpidr(d.consumeInt(0, 5));
            case 4 -> d.consumeInt(0, 20);
            case 5 -> 0;
            default -> d.consumeLong();
        };
    }

    private static long[] gprs(FakeRegisters r) {
        long[] x = new long[18];
        for (int i = 0; i < 18; i++) x[i] = r.x(i);
        return x;
    }
}
