package dev.jvmm.core.hypercall.sdei;

import dev.jvmm.core.hypercall.GuestRegisters;
import dev.jvmm.kvm.RegIds;
import java.lang.System.Logger.Level;

/**
 * The delivery rule (which event a PE takes next) and the entry into its handler, for an {@link
 * SdeiDispatcher}; called under the dispatcher's lock. Kept apart from the dispatcher, whose job is
 * the SDEI calls.
 */
final class SdeiDelivery {
    private static final System.Logger LOG = System.getLogger("jvmm.sdei");

    private SdeiDelivery() {}

    /**
     * The event PE {@code cpu} takes now, or null: pending, registered, enabled, not running and
     * routed to it, the PE unmasked, and its stack allowing it (empty, or a normal event running
     * and this one critical); critical first.
     */
    static EventEntry nextFor(SdeiDispatcher d, int cpu) {
        if (d.masked[cpu]) return null;
        SdeiDispatcher.Dispatch top = d.stacks.get(cpu).peek();
        if (top != null && top.entry().spec.critical())
            return null; // nothing pre-empts a critical event
        EventEntry best = null;
        for (int i = 0; i < d.specs.size(); i++) {
            SdeiEventSpec s = d.specs.get(i);
            if (top != null && !s.critical()) continue; // only critical pre-empts normal
            EventEntry e = s.shared() ? d.entries[i][0] : d.entries[i][cpu];
            if (!e.pending
                    || EventState.DISPATCH.next(e.state) == EventState.DENY
                    || !routedTo(d, e, cpu)) continue;
            if (best == null || (s.critical() && !best.spec.critical())) best = e;
        }
        return best;
    }

    /** Enters {@code e}'s handler on PE {@code cpu}, saving the context it interrupts. */
    static void dispatch(SdeiDispatcher d, int cpu, EventEntry e, GuestRegisters regs) {
        SdeiContext.Saved saved = SdeiContext.save(regs);
        e.pending = false;
        e.state = EventState.DISPATCH.next(e.state);
        e.runningOn = cpu;
        e.dispatches++;
        d.stacks.get(cpu).push(new SdeiDispatcher.Dispatch(e, saved));
        long sctlr = d.pstate.needsSctlr() ? regs.get(RegIds.SCTLR_EL1) : 0;
        SdeiContext.enter(
                regs,
                e.spec.number(),
                e.argument,
                saved,
                e.entryPoint,
                d.pstate.entry(saved.pstate(), sctlr));
        LOG.log(
                Level.DEBUG,
                () ->
                        String.format(
                                "sdei: event %d entered on vcpu %d at 0x%x (interrupted pc 0x%x)",
                                e.spec.number(), cpu, e.entryPoint, saved.pc()));
    }

    /**
     * Whether PE {@code cpu} may take {@code e}: its own private event, or a shared one routed to
     * it.
     */
    static boolean routedTo(SdeiDispatcher d, EventEntry e, int cpu) {
        if (!e.spec.shared()) return e.owner == cpu;
        return e.routingMode == Sdei.RM_ANY || e.affinity == d.mpidrs[cpu];
    }
}
