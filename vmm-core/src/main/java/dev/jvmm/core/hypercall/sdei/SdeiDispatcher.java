package dev.jvmm.core.hypercall.sdei;

import static dev.jvmm.core.hypercall.sdei.Sdei.DENIED;
import static dev.jvmm.core.hypercall.sdei.Sdei.INVALID_PARAMETERS;
import static dev.jvmm.core.hypercall.sdei.Sdei.PENDING;
import static dev.jvmm.core.hypercall.sdei.Sdei.SUCCESS;

import dev.jvmm.core.hypercall.GuestRegisters;
import dev.jvmm.core.snapshot.Snapshottable;
import dev.jvmm.kvm.RegIds;
import java.lang.System.Logger.Level;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * The SDEI 1.1 dispatcher of one VM: event registrations, per-PE masks and dispatch stacks, pending
 * events, and delivery into a vCPU's registers, modelled on TF-A's dispatcher.
 *
 * <p>Calls named after SDEI functions take the calling PE ({@code cpu}, a vCPU index) and raw
 * argument registers and return the SDEI result for x0. {@link #deliverPending} and {@link
 * #complete} edit the registers of the PE they are given and must run on that vCPU's thread, after
 * any pending KVM exit was completed. When a change makes an event deliverable on another PE, the
 * {@linkplain #setWaker waker} is told that PE's index (outside the lock); the VMM then kicks that
 * vCPU and calls {@link #deliverPending} on its thread.
 *
 * <p>Delivery rules: an event is taken by a PE when it is pending, registered and enabled and not
 * running, the PE is unmasked, and the PE's dispatch stack allows it (empty; or a normal event
 * running and this one critical). Critical events go first. Delivery ignores the guest's DAIF, like
 * a firmware event. All PEs start masked. State is guarded by this object's monitor.
 */
public final class SdeiDispatcher implements Snapshottable<SdeiState> {
    private static final System.Logger LOG = System.getLogger("jvmm.sdei");

    final List<SdeiEventSpec> specs; // event 0 first, then by number
    private final Map<Integer, Integer> indexOf = new HashMap<>();
    final EventEntry[][] entries; // [event][cpu], or [event][0] when shared
    final long[] mpidrs; // affinity fields only
    final boolean[] masked;
    final List<ArrayDeque<Dispatch>> stacks = new ArrayList<>();
    final HandlerPstate pstate;
    private final BitSet wakes = new BitSet();
    private volatile IntConsumer waker = cpu -> {};

    record Dispatch(EventEntry entry, SdeiContext.Saved saved) {}

    /**
     * @param platformEvents events besides event 0 (numbers unique and non-zero)
     * @param mpidrs MPIDR_EL1 of each vCPU, index order
     * @param pstate how the guest CPU's features shape the handler's PSTATE
     */
    public SdeiDispatcher(
            List<SdeiEventSpec> platformEvents, List<Long> mpidrs, HandlerPstate pstate) {
        if (mpidrs.isEmpty()) throw new IllegalArgumentException("no PEs");
        List<SdeiEventSpec> all = new ArrayList<>();
        all.add(SdeiEventSpec.EVENT_0);
        platformEvents.stream()
                .sorted((a, b) -> Integer.compare(a.number(), b.number()))
                .forEach(all::add);
        this.specs = List.copyOf(all);
        this.mpidrs = mpidrs.stream().mapToLong(m -> m & Sdei.MPIDR_AFFINITY_MASK).toArray();
        this.masked = new boolean[mpidrs.size()];
        this.pstate = pstate;
        this.entries = new EventEntry[specs.size()][];
        for (int i = 0; i < specs.size(); i++) {
            SdeiEventSpec s = specs.get(i);
            if (indexOf.put(s.number(), i) != null) {
                throw new IllegalArgumentException(
                        s.number() == Sdei.EVENT_0
                                ? "SDEI event 0 is built in and cannot be declared"
                                : "SDEI event " + s.number() + " declared twice");
            }
            entries[i] = new EventEntry[s.shared() ? 1 : mpidrs.size()];
            for (int c = 0; c < entries[i].length; c++)
                entries[i][c] = new EventEntry(s, s.shared() ? -1 : c);
        }
        for (int c = 0; c < mpidrs.size(); c++) stacks.add(new ArrayDeque<>());
        reset();
    }

    /** Who to tell that a PE has something to take; called outside the lock. */
    public void setWaker(IntConsumer waker) {
        this.waker = waker;
    }

    public int cpus() {
        return mpidrs.length;
    }

    public List<SdeiEventSpec> events() {
        return specs;
    }

    /** Back to the boot state (guest reboot): nothing registered or pending, every PE masked. */
    public synchronized void reset() {
        for (EventEntry[] es : entries) for (EventEntry e : es) e.reset();
        java.util.Arrays.fill(masked, true);
        stacks.forEach(ArrayDeque::clear);
        wakes.clear();
    }

    // ---- guest calls
    // ---------------------------------------------------------------------------------

    public long register(
            int cpu, long event, long entryPoint, long argument, long flags, long affinity) {
        synchronized (this) {
            if (entryPoint == 0) return INVALID_PARAMETERS;
            long bad = validateRouting(flags, affinity);
            if (bad != SUCCESS) return bad;
            EventEntry e = entry(event, cpu);
            if (e == null) return INVALID_PARAMETERS;
            int next = EventState.REGISTER.next(e.state);
            if (next == EventState.DENY) return DENIED;
            e.state = next;
            e.entryPoint = entryPoint;
            e.argument = argument;
            boolean priv = !e.spec.shared();
            e.routingMode = priv ? Sdei.RM_PE : flags; // private events always target their PE
            e.affinity =
                    priv
                            ? mpidrs[cpu]
                            : flags == Sdei.RM_PE ? affinity & Sdei.MPIDR_AFFINITY_MASK : 0;
            return SUCCESS;
        }
    }

    public long enable(int cpu, long event) {
        long r;
        synchronized (this) {
            EventEntry e = entry(event, cpu);
            if (e == null) return INVALID_PARAMETERS;
            r = transition(e, EventState.ENABLE);
            if (r == SUCCESS && e.pending) wakeTargets(e, cpu);
        }
        flushWakes();
        return r;
    }

    public synchronized long disable(int cpu, long event) {
        EventEntry e = entry(event, cpu);
        return e == null ? INVALID_PARAMETERS : transition(e, EventState.DISABLE);
    }

    /** The interrupted context's x{@code index} of the event this PE is running. */
    public synchronized long context(int cpu, long index) {
        if (Long.compareUnsigned(index, Sdei.SAVED_GPREGS) >= 0) return INVALID_PARAMETERS;
        Dispatch d = stacks.get(cpu).peek();
        if (d == null || EventState.CONTEXT.next(d.entry.state) == EventState.DENY) return DENIED;
        return d.saved.reg((int) index);
    }

    /**
     * EVENT_COMPLETE ({@code resume} false) or EVENT_COMPLETE_AND_RESUME to {@code resumeAddress}.
     * On {@link Sdei#SUCCESS} the registers already hold the resumed context and nothing may be
     * written back; on an error code the call returns to the caller as usual.
     */
    public long complete(int cpu, GuestRegisters regs, boolean resume, long resumeAddress) {
        synchronized (this) {
            Dispatch d = stacks.get(cpu).peek();
            if (d == null) return DENIED;
            EventState action = resume ? EventState.COMPLETE_AND_RESUME : EventState.COMPLETE;
            int next = action.next(d.entry.state);
            if (next == EventState.DENY) return DENIED;
            stacks.get(cpu).pop();
            d.entry.state = next;
            d.entry.runningOn = -1;
            if (resume) {
                long sctlr = pstate.needsSctlr() ? regs.get(RegIds.SCTLR_EL1) : 0;
                SdeiContext.resume(
                        regs, d.saved, resumeAddress, pstate.entry(d.saved.pstate(), sctlr));
            } else {
                SdeiContext.restore(regs, d.saved);
            }
            // a shared event triggered again while it ran may now go to another PE
            if (d.entry.pending && d.entry.spec.shared()) wakeTargets(d.entry, cpu);
        }
        flushWakes();
        return SUCCESS;
    }

    public long unregister(int cpu, long event) {
        synchronized (this) {
            EventEntry e = entry(event, cpu);
            return e == null ? INVALID_PARAMETERS : unregister(e);
        }
    }

    private long unregister(EventEntry e) {
        int next = EventState.UNREGISTER.next(e.state);
        if (next == EventState.DENY) return EventState.running(e.state) ? PENDING : DENIED;
        e.state = next;
        e.clearRegistration();
        // the handler keeps running until it completes; the caller learns that from PENDING
        return EventState.running(next) ? PENDING : SUCCESS;
    }

    public synchronized long status(int cpu, long event) {
        EventEntry e = entry(event, cpu);
        return e == null ? INVALID_PARAMETERS : e.state;
    }

    /**
     * EVENT_GET_INFO. SIGNALED answers as TF-A does (and Arm's ACS expects of it): 0 for the
     * signalable event 0, 1 for the others.
     */
    public synchronized long info(int cpu, long event, long info) {
        EventEntry e = entry(event, cpu);
        if (e == null) return INVALID_PARAMETERS;
        SdeiEventSpec s = e.spec;
        if (info == Sdei.INFO_TYPE) return s.shared() ? 1 : 0;
        if (info == Sdei.INFO_SIGNALED) return s.signalable() ? 0 : 1;
        if (info == Sdei.INFO_PRIORITY) return s.critical() ? 1 : 0;
        if (info == Sdei.INFO_ROUTING_MODE || info == Sdei.INFO_ROUTING_AFFINITY) {
            if (!s.shared()) return INVALID_PARAMETERS;
            if (!EventState.registered(e.state)) return DENIED;
            if (info == Sdei.INFO_ROUTING_MODE) return e.routingMode == Sdei.RM_PE ? 1 : 0;
            return e.routingMode == Sdei.RM_PE ? e.affinity : INVALID_PARAMETERS;
        }
        return INVALID_PARAMETERS;
    }

    /** EVENT_ROUTING_SET: shared events only, while registered, disabled and not running. */
    public synchronized long routingSet(int cpu, long event, long flags, long affinity) {
        long bad = validateRouting(flags, affinity);
        if (bad != SUCCESS) return bad;
        EventEntry e = entry(event, cpu);
        if (e == null || !e.spec.shared()) return INVALID_PARAMETERS;
        if (EventState.ROUTING_SET.next(e.state) == EventState.DENY) return DENIED;
        e.routingMode = flags;
        e.affinity = flags == Sdei.RM_PE ? affinity & Sdei.MPIDR_AFFINITY_MASK : 0;
        return SUCCESS;
    }

    /** PE_MASK: 1 when the PE was unmasked before (the call changed something), else 0. */
    public synchronized long mask(int cpu) {
        boolean was = masked[cpu];
        masked[cpu] = true;
        if (!was) LOG.log(Level.INFO, "sdei: vcpu " + cpu + " masked");
        return was ? 0 : 1;
    }

    /**
     * PE_UNMASK; what became deliverable is taken by {@link #deliverPending} right after the call.
     */
    public synchronized long unmask(int cpu) {
        if (masked[cpu]) LOG.log(Level.INFO, "sdei: vcpu " + cpu + " unmasked");
        masked[cpu] = false;
        return SUCCESS;
    }

    public synchronized boolean isMasked(int cpu) {
        return masked[cpu];
    }

    /**
     * EVENT_SIGNAL: makes event 0 pending on the PE whose MPIDR affinity is {@code targetMpidr}. As
     * in TF-A the call succeeds even when the target has not registered event 0; the signal is then
     * lost.
     */
    public long signal(int cpu, long event, long targetMpidr) {
        synchronized (this) {
            if ((int) event != Sdei.EVENT_0) return INVALID_PARAMETERS;
            int target = cpuOf(targetMpidr);
            if (target < 0) return INVALID_PARAMETERS;
            EventEntry e = entries[0][target];
            if (EventState.registered(e.state)) {
                e.pending = true;
                if (target != cpu) wakes.set(target);
            }
        }
        flushWakes();
        return SUCCESS;
    }

    /**
     * PRIVATE_RESET: unregisters the caller's private events; DENIED if one of them was running.
     */
    public synchronized long privateReset(int cpu) {
        long r = SUCCESS;
        for (int i = 0; i < specs.size(); i++) {
            if (!specs.get(i).shared() && unregister(entries[i][cpu]) == PENDING) r = DENIED;
        }
        return r;
    }

    /** SHARED_RESET: unregisters every shared event; DENIED if one of them was running. */
    public synchronized long sharedReset() {
        long r = SUCCESS;
        for (int i = 0; i < specs.size(); i++) {
            if (specs.get(i).shared() && unregister(entries[i][0]) == PENDING) r = DENIED;
        }
        return r;
    }

    // ---- delivery
    // --------------------------------------------------------------------------------------

    /**
     * Enters the handler of every event PE {@code cpu} can take now (at most a normal one and a
     * critical one pre-empting it), editing {@code regs}. Runs on that vCPU's thread. True when one
     * was entered.
     */
    public boolean deliverPending(int cpu, GuestRegisters regs) {
        synchronized (this) {
            boolean any = false;
            for (int round = 0; round < 2; round++) {
                EventEntry e = SdeiDelivery.nextFor(this, cpu);
                if (e == null) break;
                SdeiDelivery.dispatch(this, cpu, e, regs);
                any = true;
            }
            return any;
        }
    }

    // ---- host side
    // -------------------------------------------------------------------------------------

    /**
     * Triggers {@code event} from the host (the control API's sdei-signal). A private event goes to
     * PE {@code cpu}; a shared one follows its routing and ignores {@code cpu}.
     *
     * @throws IllegalArgumentException naming the event or CPU when there is no such event or vCPU
     */
    public SignalOutcome inject(int event, int cpu) {
        SignalOutcome o;
        synchronized (this) {
            Integer i = indexOf.get(event);
            if (i == null) {
                throw new IllegalArgumentException(
                        "no SDEI event "
                                + Integer.toUnsignedString(event)
                                + "; this VM offers "
                                + specs.stream().map(s -> String.valueOf(s.number())).toList());
            }
            boolean shared = specs.get(i).shared();
            if (!shared && (cpu < 0 || cpu >= mpidrs.length)) {
                throw new IllegalArgumentException(
                        "no vCPU "
                                + cpu
                                + " for private SDEI event "
                                + event
                                + " (the VM has "
                                + mpidrs.length
                                + ")");
            }
            EventEntry e = entries[i][shared ? 0 : cpu];
            if (!EventState.registered(e.state)) {
                o = SignalOutcome.NOT_REGISTERED;
            } else {
                o = e.pending ? SignalOutcome.ALREADY_PENDING : SignalOutcome.QUEUED;
                e.pending = true;
                wakeTargets(e, -1);
            }
        }
        flushWakes();
        return o;
    }

    /** Every event, instance and PE as the control API shows them. */
    public synchronized SdeiSnapshot snapshot() {
        return SdeiStates.view(this);
    }

    @Override
    public String stateKey() {
        return "sdei";
    }

    @Override
    public Class<SdeiState> stateType() {
        return SdeiState.class;
    }

    @Override
    public synchronized SdeiState saveState() {
        return SdeiStates.save(this);
    }

    /**
     * Puts this freshly built dispatcher into {@code s}. The vCPU registers the snapshot restores
     * already hold each running handler's live state, so nothing is replayed; an event pending for
     * an unmasked PE is delivered when that vCPU first looks ({@link #deliverPending}).
     *
     * @throws dev.jvmm.core.snapshot.SnapshotException when this dispatcher was built with another
     *     event set or vCPUs, or the record is inconsistent; nothing is applied then
     */
    @Override
    public void restoreState(SdeiState s) {
        synchronized (this) {
            SdeiStates.restore(this, s);
            for (int c = 0; c < mpidrs.length; c++)
                if (SdeiDelivery.nextFor(this, c) != null) wakes.set(c);
        }
        flushWakes();
    }

    // ---- helpers
    // ---------------------------------------------------------------------------------------

    /** The instance {@code event} (a raw x1: its low 32 bits) names for PE {@code cpu}, or null. */
    private EventEntry entry(long event, int cpu) {
        Integer i = indexOf.get((int) event);
        if (i == null) return null;
        return specs.get(i).shared() ? entries[i][0] : entries[i][cpu];
    }

    private long transition(EventEntry e, EventState action) {
        int next = action.next(e.state);
        if (next == EventState.DENY) return DENIED;
        e.state = next;
        return SUCCESS;
    }

    private long validateRouting(long flags, long affinity) {
        if (flags == Sdei.RM_ANY) return SUCCESS;
        if (flags == Sdei.RM_PE && cpuOf(affinity) >= 0) return SUCCESS;
        return INVALID_PARAMETERS;
    }

    private int cpuOf(long mpidr) {
        long aff = mpidr & Sdei.MPIDR_AFFINITY_MASK;
        for (int c = 0; c < mpidrs.length; c++) if (mpidrs[c] == aff) return c;
        return -1;
    }

    /** Marks every PE other than {@code except} that could take {@code e} for a wake-up. */
    private void wakeTargets(EventEntry e, int except) {
        for (int c = 0; c < mpidrs.length; c++) {
            if (c != except && SdeiDelivery.routedTo(this, e, c)) wakes.set(c);
        }
    }

    private void flushWakes() {
        int[] cpus;
        synchronized (this) {
            cpus = wakes.stream().toArray();
            wakes.clear();
        }
        IntConsumer w = waker;
        for (int c : cpus) w.accept(c);
    }
}
