package dev.jvmm.core.hypercall.sdei;

import dev.jvmm.core.snapshot.SnapshotException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads an {@link SdeiDispatcher} into the control API's {@link SdeiSnapshot} and a snapshot's
 * {@link SdeiState}, and checks and applies an {@link SdeiState}; called under the dispatcher's
 * lock. Kept apart from the dispatcher, whose job is the SDEI calls.
 */
final class SdeiStates {
    private static final String PART = "sdei";

    private SdeiStates() {}

    /** The control API's view of {@code d}: every PE's mask and running events, every instance. */
    static SdeiSnapshot view(SdeiDispatcher d) {
        List<SdeiSnapshot.Pe> pes = new ArrayList<>();
        for (int c = 0; c < d.mpidrs.length; c++) {
            List<Integer> running = new ArrayList<>();
            d.stacks
                    .get(c)
                    .descendingIterator()
                    .forEachRemaining(x -> running.add(x.entry().spec.number()));
            pes.add(new SdeiSnapshot.Pe(c, d.mpidrs[c], d.masked[c], List.copyOf(running)));
        }
        List<SdeiSnapshot.Event> events = new ArrayList<>();
        for (int i = 0; i < d.specs.size(); i++) {
            SdeiEventSpec s = d.specs.get(i);
            List<SdeiSnapshot.Instance> inst = new ArrayList<>();
            for (EventEntry e : d.entries[i]) {
                inst.add(
                        new SdeiSnapshot.Instance(
                                e.owner,
                                EventState.registered(e.state),
                                EventState.enabled(e.state),
                                EventState.running(e.state),
                                e.pending,
                                e.runningOn,
                                e.entryPoint,
                                e.argument,
                                e.routingMode,
                                e.affinity,
                                e.dispatches));
            }
            events.add(
                    new SdeiSnapshot.Event(
                            s.number(), s.shared(), s.critical(), List.copyOf(inst)));
        }
        return new SdeiSnapshot(List.copyOf(pes), List.copyOf(events));
    }

    static SdeiState save(SdeiDispatcher d) {
        List<SdeiState.Pe> pes = new ArrayList<>();
        for (int c = 0; c < d.mpidrs.length; c++) {
            List<SdeiState.Dispatch> running = new ArrayList<>();
            d.stacks
                    .get(c)
                    .descendingIterator()
                    .forEachRemaining(
                            x ->
                                    running.add(
                                            new SdeiState.Dispatch(
                                                    x.entry().spec.number(),
                                                    java.util.Arrays.stream(x.saved().x())
                                                            .boxed()
                                                            .toList(),
                                                    x.saved().pc(),
                                                    x.saved().pstate())));
            pes.add(new SdeiState.Pe(c, d.mpidrs[c], d.masked[c], List.copyOf(running)));
        }
        return new SdeiState(Sdei.VERSION_1_1, d.snapshot().events(), List.copyOf(pes));
    }

    static void restore(SdeiDispatcher d, SdeiState s) {
        check(d, s);
        for (int i = 0; i < d.specs.size(); i++) {
            List<SdeiSnapshot.Instance> inst = s.events().get(i).instances();
            for (int k = 0; k < inst.size(); k++) apply(d.entries[i][k], inst.get(k));
        }
        for (int c = 0; c < d.mpidrs.length; c++) {
            SdeiState.Pe pe = s.pes().get(c);
            d.masked[c] = pe.masked();
            ArrayDeque<SdeiDispatcher.Dispatch> stack = d.stacks.get(c);
            stack.clear();
            for (SdeiState.Dispatch x : pe.running()) {
                int i = index(d, x.event());
                EventEntry e = d.entries[i][d.specs.get(i).shared() ? 0 : c];
                long[] regs = x.x().stream().mapToLong(Long::longValue).toArray();
                stack.push(
                        new SdeiDispatcher.Dispatch(
                                e, new SdeiContext.Saved(regs, x.pc(), x.pstate())));
            }
        }
    }

    private static void apply(EventEntry e, SdeiSnapshot.Instance in) {
        e.state = state(in);
        e.pending = in.pending();
        e.runningOn = in.runningOn();
        e.entryPoint = in.entryPoint();
        e.argument = in.argument();
        e.routingMode = in.routingMode();
        e.affinity = in.affinity();
        e.dispatches = in.dispatches();
    }

    private static int state(SdeiSnapshot.Instance in) {
        return (in.registered() ? Sdei.STATUS_REGISTERED : 0)
                | (in.enabled() ? Sdei.STATUS_ENABLED : 0)
                | (in.running() ? Sdei.STATUS_RUNNING : 0);
    }

    private static int index(SdeiDispatcher d, int number) {
        for (int i = 0; i < d.specs.size(); i++) if (d.specs.get(i).number() == number) return i;
        return -1;
    }

    private static void check(SdeiDispatcher d, SdeiState s) {
        if (s.version() != Sdei.VERSION_1_1) {
            bad(
                    String.format(
                            "version 0x%x is not this dispatcher's 0x%x",
                            s.version(), Sdei.VERSION_1_1));
        }
        if (s.events() == null || s.pes() == null) bad("events or pes missing");
        List<SdeiEventSpec> saved = new ArrayList<>();
        for (SdeiSnapshot.Event e : s.events()) {
            try {
                saved.add(new SdeiEventSpec(e.number(), e.shared(), e.critical()));
            } catch (IllegalArgumentException x) {
                bad("event " + e.number() + ": " + x.getMessage());
            }
        }
        if (!saved.equals(d.specs)) {
            bad(
                    "the snapshot offers events "
                            + saved
                            + ", this VM "
                            + d.specs
                            + " (start it with the snapshot's --sdei-event set)");
        }
        int cpus = d.mpidrs.length;
        if (s.pes().size() != cpus)
            bad("pes: " + s.pes().size() + ", this VM has " + cpus + " vCPUs");
        for (int i = 0; i < d.specs.size(); i++) {
            SdeiEventSpec spec = d.specs.get(i);
            List<SdeiSnapshot.Instance> inst = s.events().get(i).instances();
            int want = spec.shared() ? 1 : cpus;
            if (inst == null || inst.size() != want)
                bad("event " + spec.number() + ": instances: want " + want);
            for (int k = 0; k < want; k++) instance(d, spec, k, inst.get(k));
        }
        Set<Long> runningSeen = new HashSet<>();
        for (int c = 0; c < cpus; c++) {
            SdeiState.Pe pe = s.pes().get(c);
            if (pe.cpu() != c || (pe.mpidr() & Sdei.MPIDR_AFFINITY_MASK) != d.mpidrs[c])
                bad(
                        String.format(
                                "pe %d: mpidr 0x%x is not vCPU %d's 0x%x",
                                c, pe.mpidr(), c, d.mpidrs[c]));
            stack(d, s, c, pe, runningSeen);
        }
        for (int i = 0; i < d.specs.size(); i++) {
            List<SdeiSnapshot.Instance> inst = s.events().get(i).instances();
            for (int k = 0; k < inst.size(); k++) {
                if (inst.get(k).running() && !runningSeen.contains((long) i << 32 | k))
                    bad("event " + d.specs.get(i).number() + " runs on no PE's stack");
            }
        }
    }

    private static void instance(
            SdeiDispatcher d, SdeiEventSpec spec, int k, SdeiSnapshot.Instance in) {
        String name = "event " + spec.number() + " instance " + k + ": ";
        if (in == null) bad(name + "missing");
        if (in.cpu() != (spec.shared() ? -1 : k)) bad(name + "cpu " + in.cpu());
        if (in.enabled() && !in.registered()) bad(name + "enabled but not registered");
        if (in.registered() && in.entryPoint() == 0)
            bad(name + "registered without an entry point");
        if (in.pending() && !in.registered()) bad(name + "pending but not registered");
        if (in.running() != (in.runningOn() >= 0)) bad(name + "runningOn " + in.runningOn());
        if (in.runningOn() >= d.mpidrs.length
                || (!spec.shared() && in.running() && in.runningOn() != k))
            bad(name + "runningOn " + in.runningOn());
        if (in.dispatches() < 0) bad(name + "dispatches " + in.dispatches());
        if (!in.registered()) {
            if ((in.entryPoint() | in.argument() | in.routingMode() | in.affinity()) != 0)
                bad(name + "registration fields on an unregistered instance");
            return;
        }
        if (!spec.shared()) {
            if (in.routingMode() != Sdei.RM_PE || in.affinity() != d.mpidrs[k])
                bad(name + "a private event routed away from its PE");
        } else if (in.routingMode() == Sdei.RM_ANY) {
            if (in.affinity() != 0) bad(name + "affinity with RM_ANY");
        } else if (in.routingMode() != Sdei.RM_PE || !isMpidr(d, in.affinity())) {
            bad(
                    String.format(
                            name + "routing %d to affinity 0x%x", in.routingMode(), in.affinity()));
        }
    }

    private static boolean isMpidr(SdeiDispatcher d, long aff) {
        for (long m : d.mpidrs) if (m == aff) return true;
        return false;
    }

    private static void stack(
            SdeiDispatcher d, SdeiState s, int c, SdeiState.Pe pe, Set<Long> seen) {
        String name = "pe " + c + ": ";
        List<SdeiState.Dispatch> running = pe.running();
        if (running == null || running.size() > 2) bad(name + "more than two handlers running");
        for (int n = 0; n < running.size(); n++) {
            SdeiState.Dispatch x = running.get(n);
            int i = index(d, x.event());
            if (i < 0) bad(name + "runs event " + x.event() + ", which is not offered");
            SdeiEventSpec spec = d.specs.get(i);
            int k = spec.shared() ? 0 : c;
            SdeiSnapshot.Instance in = s.events().get(i).instances().get(k);
            if (!in.running() || in.runningOn() != c)
                bad(name + "runs event " + x.event() + ", whose instance is not running here");
            if (!seen.add((long) i << 32 | k)) bad(name + "event " + x.event() + " runs twice");
            if (n == 1
                    && (!spec.critical()
                            || d.specs.get(index(d, running.get(0).event())).critical()))
                bad(name + "only a critical handler may run on top of a normal one");
            if (x.x() == null || x.x().size() != Sdei.SAVED_GPREGS || x.x().contains(null))
                bad(name + "event " + x.event() + ": the interrupted context needs x0..x17");
        }
    }

    private static void bad(String what) {
        throw SnapshotException.invalid(PART, what);
    }
}
