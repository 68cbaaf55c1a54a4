package dev.jvmm.core.hypercall;

import dev.jvmm.core.snapshot.Snapshottable;
import dev.jvmm.kvm.RegIds;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Routes forwarded SMCCC calls (KVM_EXIT_HYPERCALL) to the service that claimed the function ID,
 * writes the result registers and counts every call per function ID.
 *
 * <p>Rules: user deny ranges win over services (the call is answered NOT_SUPPORTED, so a user can
 * hide a service or part of one); IDs nobody claimed get NOT_SUPPORTED; the PC is never written.
 * Deny ranges are forwarded rather than installed as KVM_SMCCC_FILTER_DENY so that a guest probing
 * a hidden service shows up in the counters; {@link Builder#denyInKvm} installs a KVM-side DENY
 * where that matters more than the count (no exit at all).
 *
 * <p>Counters are bounded whatever the guest calls: an ID routed to a service has its own counter
 * (at most the services' claims, 36 IDs with SDEI and shared regions), and so do the first {@link
 * #MAX_UNSERVED_IDS} distinct other IDs (denied or unclaimed); calls to any further ID are summed
 * in {@link #otherCalls()}. A guest probing a wide deny range therefore costs at most 64 counters.
 *
 * <p>Immutable after {@link Builder#build()} except for the counters, so calls from many vCPU
 * threads need no lock (only the first call to an unserved ID takes one, until the cap is reached).
 */
public final class SmcccRouter implements Snapshottable<SmcccFilterState> {
    /**
     * Distinct denied or unclaimed IDs that get a counter of their own; calls to more are summed.
     */
    public static final int MAX_UNSERVED_IDS = 64;

    /**
     * Served ranges of at most this many IDs get their counters up front (one per ID), so a call to
     * them counts without a map lookup (which would box the ID on every call).
     */
    static final int PREALLOCATED_COUNTERS_PER_RANGE = 64;

    // the routes, disjoint and sorted by first ID, in arrays: a call's lookup boxes nothing
    private final long[] routeFirsts;
    private final Route[] routeList;

    /** Per route: one counter per ID when served and small enough, else null (the map counts). */
    private final LongAdder[][] routeCounters;

    private final List<FunctionRange> denied;
    private final List<FilterRange> filters;
    private final List<SmcccService> services;

    /**
     * Per-ID counters: every ID a service claims that has no preallocated counter (a fixed set),
     * and the first {@link #MAX_UNSERVED_IDS} others.
     */
    private final Map<Integer, LongAdder> counts = new ConcurrentHashMap<>();

    private int unservedIds; // guarded by counts
    private volatile boolean unservedFull;
    private final LongAdder other = new LongAdder();

    private record Route(FunctionRange range, SmcccService service) {} // service null: denied

    private SmcccRouter(
            NavigableMap<Long, Route> routes,
            List<FunctionRange> denied,
            List<FilterRange> filters,
            List<SmcccService> services) {
        this.routeList = routes.values().toArray(new Route[0]);
        this.routeFirsts = new long[routeList.length];
        this.routeCounters = new LongAdder[routeList.length][];
        for (int i = 0; i < routeList.length; i++) {
            Route r = routeList[i];
            routeFirsts[i] = r.range.first();
            if (r.service != null && r.range.count() <= PREALLOCATED_COUNTERS_PER_RANGE) {
                LongAdder[] c = new LongAdder[(int) r.range.count()];
                for (int k = 0; k < c.length; k++) c[k] = new LongAdder();
                routeCounters[i] = c;
            }
        }
        this.denied = denied;
        this.filters = filters;
        this.services = services;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Handles one forwarded call from vCPU {@code cpu}; {@code regs} are that vCPU's registers. */
    public void handle(int cpu, int functionId, boolean smc, GuestRegisters regs) {
        int route = routeIndex(functionId);
        SmcccService s = route < 0 ? null : routeList[route].service;
        LongAdder[] preallocated = route < 0 ? null : routeCounters[route];
        if (preallocated != null) {
            preallocated[(int) (Smccc.unsigned(functionId) - routeFirsts[route])].increment();
        } else {
            counter(functionId, s != null).increment();
        }
        SmcccCall call = new SmcccCall(cpu, functionId, smc, regs);
        SmcccResult r = s == null ? SmcccResult.notSupported() : s.call(call);
        write(regs, r);
        if (s != null) s.afterCall(call);
    }

    private LongAdder counter(int functionId, boolean served) {
        LongAdder c = counts.get(functionId);
        if (c != null) return c;
        if (served) return counts.computeIfAbsent(functionId, k -> new LongAdder());
        if (unservedFull) return other;
        synchronized (counts) {
            c = counts.get(functionId);
            if (c != null) return c;
            if (unservedIds == MAX_UNSERVED_IDS) {
                unservedFull = true;
                return other;
            }
            unservedIds++;
            c = new LongAdder();
            counts.put(functionId, c);
            return c;
        }
    }

    /** The service a call goes to, or null when it is denied or unclaimed. */
    public SmcccService serviceFor(int functionId) {
        int route = routeIndex(functionId);
        return route < 0 ? null : routeList[route].service;
    }

    /** The index of the route containing {@code functionId}, or -1. */
    private int routeIndex(int functionId) {
        long id = Smccc.unsigned(functionId);
        int i = Arrays.binarySearch(routeFirsts, id);
        if (i < 0) i = -i - 2; // the last route starting below id
        return i >= 0 && routeList[i].range.contains(id) ? i : -1;
    }

    private static void write(GuestRegisters regs, SmcccResult r) {
        // instanceof, not a pattern switch: that one links a spun class on the first hypercall
        if (r instanceof SmcccResult.Values v) {
            regs.set(RegIds.x(0), v.x0());
            regs.set(RegIds.x(1), v.x1());
            regs.set(RegIds.x(2), v.x2());
            regs.set(RegIds.x(3), v.x3());
        } else if (r instanceof SmcccResult.Wide w) {
            long[] x = w.regs();
            for (int i = 0; i < x.length; i++) regs.set(RegIds.x(i), x[i]);
        } else if (!(r instanceof SmcccResult.Written)) {
            throw new IllegalStateException("unknown SMCCC result " + r.getClass().getSimpleName());
        }
    }

    /**
     * The KVM_ARM_VM_SMCCC_FILTER ranges to install, disjoint and sorted; empty when nothing is
     * claimed.
     */
    public List<FilterRange> filterRanges() {
        return filters;
    }

    public List<SmcccService> services() {
        return services;
    }

    /** The user's deny ranges (forwarded and answered NOT_SUPPORTED). */
    public List<FunctionRange> deniedRanges() {
        return denied;
    }

    public boolean isDenied(long functionId) {
        return denied.stream().anyMatch(r -> r.contains(functionId));
    }

    /**
     * Calls to denied or unclaimed IDs beyond the first {@link #MAX_UNSERVED_IDS}, which have no
     * counter of their own.
     */
    public long otherCalls() {
        return other.sum();
    }

    /**
     * Calls per function ID (unsigned value) since the VM was built, sorted by ID; a snapshot (see
     * {@link #otherCalls()}).
     */
    public SortedMap<Long, Long> callCounts() {
        TreeMap<Long, Long> m = new TreeMap<>();
        counts.forEach((id, n) -> m.put(Smccc.unsigned(id), n.sum()));
        for (int i = 0; i < routeCounters.length; i++) {
            LongAdder[] c = routeCounters[i];
            if (c == null) continue;
            for (int k = 0; k < c.length; k++) {
                long n = c[k].sum();
                if (n > 0) m.put(routeFirsts[i] + k, n); // as before: IDs that were called
            }
        }
        return m;
    }

    @Override
    public String stateKey() {
        return SmcccFilterCheck.KEY;
    }

    @Override
    public Class<SmcccFilterState> stateType() {
        return SmcccFilterState.class;
    }

    /** The filter ranges installed, each with who answers it (for a restore's message). */
    @Override
    public SmcccFilterState saveState() {
        List<SmcccFilterState.Range> ranges = new ArrayList<>();
        for (FilterRange f : filters) {
            Set<String> owners = new LinkedHashSet<>();
            if (f.action() == FilterRange.Action.FWD_TO_USER) {
                for (Route r : routeList) {
                    if (r.range.overlaps(f.range()))
                        owners.add(r.service == null ? "--smccc deny" : r.service.name());
                }
            }
            ranges.add(
                    new SmcccFilterState.Range(
                            f.range().first(),
                            f.range().count(),
                            f.action().name(),
                            String.join(", ", owners)));
        }
        return new SmcccFilterState(ranges);
    }

    /**
     * Checks that this router installed the ranges the guest had (the filter cannot change once
     * installed; see {@link SmcccFilterCheck}); changes nothing.
     */
    @Override
    public void restoreState(SmcccFilterState state) {
        SmcccFilterCheck.require(state, saveState());
    }

    /** Collects claims and deny ranges; {@link #build()} refuses overlapping claims. */
    public static final class Builder {
        private final List<SmcccService> services = new ArrayList<>();
        private final List<FunctionRange> denied = new ArrayList<>();
        private final List<FunctionRange> kvmDenied = new ArrayList<>();

        public Builder service(SmcccService s) {
            services.add(s);
            return this;
        }

        /**
         * Forwarded and answered NOT_SUPPORTED by jvmm (counted). Takes precedence over services.
         */
        public Builder deny(FunctionRange r) {
            checkFilterable(r);
            denied.add(r);
            return this;
        }

        /**
         * Installed as KVM_SMCCC_FILTER_DENY: KVM answers NOT_SUPPORTED, jvmm never sees the call.
         */
        public Builder denyInKvm(FunctionRange r) {
            checkFilterable(r);
            kvmDenied.add(r);
            return this;
        }

        private static void checkFilterable(FunctionRange r) {
            r.requireFilterable("SMCCC range ");
        }

        /**
         * The router and the KVM filter ranges for everything added.
         *
         * @throws IllegalStateException when two services claim overlapping IDs or a KVM deny
         *     overlaps a forward
         */
        public SmcccRouter build() {
            List<Route> claims = new ArrayList<>();
            for (SmcccService s : services) {
                for (FunctionRange r : s.claims()) {
                    checkFilterable(r);
                    for (Route c : claims) {
                        if (c.range.overlaps(r)) {
                            throw new IllegalStateException(
                                    "SMCCC range "
                                            + r
                                            + " of "
                                            + s.name()
                                            + " overlaps "
                                            + c.range
                                            + " of "
                                            + c.service.name());
                        }
                    }
                    claims.add(new Route(r, s));
                }
            }
            TreeMap<Long, Route> routes = new TreeMap<>();
            for (Route c : claims) carve(routes, c);
            for (FunctionRange d : denied) carve(routes, new Route(d, null)); // deny wins

            List<FunctionRange> forwarded =
                    coalesce(routes.values().stream().map(Route::range).toList());
            List<FunctionRange> kvm = coalesce(kvmDenied);
            for (FunctionRange k : kvm) {
                for (FunctionRange f : forwarded) {
                    if (k.overlaps(f)) {
                        throw new IllegalStateException(
                                "KVM-denied SMCCC range " + k + " overlaps forwarded " + f);
                    }
                }
            }
            List<FilterRange> filters = new ArrayList<>();
            forwarded.forEach(r -> filters.add(new FilterRange(r, FilterRange.Action.FWD_TO_USER)));
            kvm.forEach(r -> filters.add(new FilterRange(r, FilterRange.Action.DENY)));
            filters.sort((a, b) -> Long.compare(a.range().first(), b.range().first()));
            return new SmcccRouter(
                    routes,
                    List.copyOf(coalesce(denied)),
                    List.copyOf(filters),
                    List.copyOf(services));
        }

        /** Puts {@code r} into the map, cutting away the parts of existing routes it covers. */
        private static void carve(NavigableMap<Long, Route> routes, Route r) {
            List<Route> keep = new ArrayList<>();
            for (var it = routes.values().iterator(); it.hasNext(); ) {
                Route e = it.next();
                if (!e.range.overlaps(r.range)) continue;
                it.remove();
                if (e.range.first() < r.range.first()) {
                    keep.add(
                            new Route(
                                    new FunctionRange(e.range.first(), r.range.first() - 1),
                                    e.service));
                }
                if (e.range.last() > r.range.last()) {
                    keep.add(
                            new Route(
                                    new FunctionRange(r.range.last() + 1, e.range.last()),
                                    e.service));
                }
            }
            keep.add(r);
            for (Route k : keep) routes.put(k.range.first(), k);
        }

        static List<FunctionRange> coalesce(List<FunctionRange> in) {
            List<FunctionRange> sorted = new ArrayList<>(in);
            sorted.sort((a, b) -> Long.compare(a.first(), b.first()));
            List<FunctionRange> out = new ArrayList<>();
            for (FunctionRange r : sorted) {
                int last = out.size() - 1;
                if (last >= 0 && out.get(last).adjoins(r)) out.set(last, out.get(last).span(r));
                else out.add(r);
            }
            return out;
        }
    }
}
