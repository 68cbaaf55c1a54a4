package dev.jvmm.core.hypercall;

import dev.jvmm.core.snapshot.SnapshotException;
import java.util.List;
import java.util.Objects;

/**
 * Compares a snapshot's SMCCC filter ranges with the ones this run's router installed. jvmm
 * installs the filter from configuration when it builds the machine, and KVM refuses any change
 * once a vCPU has run, so restoring the record means checking it: a guest that had IDs forwarded
 * (or denied) must find them so again, or it would see services appear or vanish.
 */
final class SmcccFilterCheck {
    static final String KEY = "smccc";

    private SmcccFilterCheck() {}

    /**
     * @throws SnapshotException a damaged record, or the first range where {@code saved} and {@code
     *     built} differ, named with what each side has there
     */
    static void require(SmcccFilterState saved, SmcccFilterState built) {
        List<SmcccFilterState.Range> s = saved.ranges();
        if (s == null) throw invalid("ranges missing");
        validate(s);
        List<SmcccFilterState.Range> b = built.ranges();
        for (int i = 0; i < Math.max(s.size(), b.size()); i++) {
            SmcccFilterState.Range had = i < s.size() ? s.get(i) : null;
            SmcccFilterState.Range has = i < b.size() ? b.get(i) : null;
            if (had != null && has != null && same(had, has)) continue;
            if (had != null && (has == null || had.base() <= has.base())) {
                SmcccFilterState.Range there = firstOverlapping(b, had);
                throw invalid(
                        "the guest had "
                                + describe(had)
                                + "; this run installs "
                                + (there == null ? "nothing there" : describe(there)));
            }
            SmcccFilterState.Range there = firstOverlapping(s, has);
            throw invalid(
                    "the guest had "
                            + (there == null ? "nothing at " + span(has) : describe(there))
                            + "; this run installs "
                            + describe(has));
        }
    }

    /** Each range a function ID range with a known action, all in order and disjoint. */
    private static void validate(List<SmcccFilterState.Range> ranges) {
        long next = 0; // the lowest base the next range may have
        for (int i = 0; i < ranges.size(); i++) {
            SmcccFilterState.Range r = ranges.get(i);
            if (r == null) throw invalid("range " + i + " missing");
            if (r.base() < 0
                    || r.count() < 1
                    || r.base() > FunctionRange.MAX_ID
                    || r.count() > FunctionRange.MAX_ID + 1 - r.base()) {
                throw invalid(
                        "range "
                                + i
                                + " (base "
                                + r.base()
                                + ", count "
                                + r.count()
                                + ") is not a range of 32-bit function IDs");
            }
            if (!isAction(r.action())) {
                throw invalid(
                        "range " + i + " has action '" + r.action() + "', not FWD_TO_USER or DENY");
            }
            if (r.base() < next) {
                throw invalid(
                        "range " + i + " (" + span(r) + ") overlaps or precedes range " + (i - 1));
            }
            next = r.base() + r.count();
        }
    }

    private static boolean isAction(String action) {
        for (FilterRange.Action a : FilterRange.Action.values())
            if (a.name().equals(action)) return true;
        return false;
    }

    /** Equal as KVM sees them; the owner is only words for the message. */
    private static boolean same(SmcccFilterState.Range a, SmcccFilterState.Range b) {
        return a.base() == b.base()
                && a.count() == b.count()
                && Objects.equals(a.action(), b.action());
    }

    private static SmcccFilterState.Range firstOverlapping(
            List<SmcccFilterState.Range> in, SmcccFilterState.Range r) {
        for (SmcccFilterState.Range o : in) {
            if (o.base() <= r.base() + r.count() - 1 && r.base() <= o.base() + o.count() - 1)
                return o;
        }
        return null;
    }

    static String describe(SmcccFilterState.Range r) {
        boolean forwarded = FilterRange.Action.FWD_TO_USER.name().equals(r.action());
        String owner = r.owner() == null || r.owner().isEmpty() ? "" : " (" + r.owner() + ")";
        return span(r) + (forwarded ? " forwarded to jvmm" : " denied by KVM") + owner;
    }

    private static String span(SmcccFilterState.Range r) {
        return r.count() == 1
                ? String.format("0x%08x", r.base())
                : String.format("0x%08x..0x%08x", r.base(), r.base() + r.count() - 1);
    }

    private static SnapshotException invalid(String what) {
        return SnapshotException.invalid(KEY, what);
    }
}
