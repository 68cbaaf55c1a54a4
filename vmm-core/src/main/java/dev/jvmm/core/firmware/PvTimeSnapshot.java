package dev.jvmm.core.firmware;

import dev.jvmm.core.snapshot.SnapshotException;
import dev.jvmm.core.snapshot.Snapshottable;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * PV stolen time as a snapshot part: the records' memory and where each vCPU's record lies.
 *
 * <p>The IPAs are not restored but checked: the machine is built from the snapshot's configuration,
 * which already pointed each vCPU at its record (KVM_ARM_VCPU_PVTIME_IPA can be set only once per
 * vCPU: EEXIST), so a record whose IPAs differ comes from another layout and is refused. The region
 * is written back before any vCPU runs; KVM then adds each vCPU's next run delay to the restored
 * count (it reads the count from this memory), so the guest's steal clock continues instead of
 * starting again from 0.
 */
public final class PvTimeSnapshot implements Snapshottable<PvTimeState> {
    private static final String KEY = "pvtime";

    private final StolenTimeRecords records; // null: the machine runs without PV stolen time

    private PvTimeSnapshot(StolenTimeRecords records) {
        this.records = records;
    }

    /** The part of a machine whose vCPUs have stolen-time records in {@code records}. */
    public static PvTimeSnapshot on(StolenTimeRecords records) {
        return new PvTimeSnapshot(Objects.requireNonNull(records));
    }

    /** The part of a machine without PV stolen time: it saves, and accepts, only "off". */
    public static PvTimeSnapshot off() {
        return new PvTimeSnapshot(null);
    }

    @Override
    public String stateKey() {
        return KEY;
    }

    @Override
    public Class<PvTimeState> stateType() {
        return PvTimeState.class;
    }

    @Override
    public PvTimeState saveState() {
        if (records == null) return new PvTimeState(false, List.of(), 0, new byte[0]);
        return new PvTimeState(true, ipas(), records.regionSize(), records.copyRegionTrimmed());
    }

    /**
     * Checks the record against this machine (PV time on or off alike, the same IPA for each vCPU,
     * the same region size) and only then writes the region back, so a refused record changes
     * nothing.
     */
    @Override
    public void restoreState(PvTimeState s) {
        if (s.enabled() != (records != null)) {
            throw invalid(
                    s.enabled()
                            ? "the guest had PV stolen time; this machine is built without it"
                            : "the guest had no PV stolen time; this machine is built with it");
        }
        if (s.recordIpas() == null) throw invalid("recordIpas missing");
        if (s.region() == null) throw invalid("region missing");
        if (records == null) {
            if (!s.recordIpas().isEmpty() || s.regionSize() != 0 || s.region().length != 0)
                throw invalid("PV stolen time is off but the record holds records");
            return;
        }
        List<Long> ipas = ipas();
        if (s.recordIpas().size() != ipas.size()) {
            throw invalid(
                    s.recordIpas().size()
                            + " vCPU records for a machine of "
                            + ipas.size()
                            + " vCPUs");
        }
        for (int cpu = 0; cpu < ipas.size(); cpu++) {
            Long saved = s.recordIpas().get(cpu);
            if (!ipas.get(cpu).equals(saved)) {
                throw invalid(
                        "vCPU "
                                + cpu
                                + "'s record was at "
                                + (saved == null ? "no address" : hex(saved))
                                + "; this machine put it at "
                                + hex(ipas.get(cpu)));
            }
        }
        if (s.regionSize() != records.regionSize()) {
            throw invalid(
                    "region of "
                            + s.regionSize()
                            + " bytes; this machine's is "
                            + records.regionSize());
        }
        if (s.region().length > s.regionSize()) {
            throw invalid(
                    "region holds "
                            + s.region().length
                            + " bytes, more than its "
                            + s.regionSize());
        }
        records.overwriteRegion(s.region());
    }

    private List<Long> ipas() {
        List<Long> r = new ArrayList<>(records.cpus());
        for (int cpu = 0; cpu < records.cpus(); cpu++) r.add(records.address(cpu));
        return r;
    }

    private static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }

    private static SnapshotException invalid(String what) {
        return SnapshotException.invalid(KEY, what);
    }
}
