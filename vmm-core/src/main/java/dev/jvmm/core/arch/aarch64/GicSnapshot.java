package dev.jvmm.core.arch.aarch64;

import dev.jvmm.core.JvmmException.Kind;
import dev.jvmm.core.arch.aarch64.GicRegisters.Reg;
import dev.jvmm.core.snapshot.SnapshotException;
import dev.jvmm.core.snapshot.Snapshottable;
import dev.jvmm.kvm.Device;
import dev.jvmm.kvm.Errno;
import dev.jvmm.kvm.KvmException;
import dev.jvmm.kvm.RegIds;
import dev.jvmm.kvm.Vcpu;
import dev.jvmm.kvm.uapi.KvmUapi;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The vGICv3 as a snapshot part: the distributor, every redistributor and CPU interface, and the
 * line levels of level-triggered interrupts (LEVEL_INFO; without them a restored level interrupt
 * whose device still asserts it would never be pending again). Which registers, and the restore
 * order, are {@link GicRegisters}'.
 *
 * <p>With an ITS, LPIs may be pending: save first has KVM write their pending bits into the guest's
 * pending tables (SAVE_PENDING_TABLES), and the ITS part writes its tables, so <b>the machine saves
 * guest RAM after {@code saveState} of {@code gic} and {@code its}, and restores RAM before their
 * {@code restoreState}</b>, and restores {@code gic} before {@code its} (the ITS reads its tables
 * and finds the redistributors set up). The vCPUs' MPIDRs name the redistributors, so the vCPUs are
 * restored first too.
 */
public final class GicSnapshot implements Snapshottable<GicState> {
    private static final int DIST = KvmUapi.KVM_DEV_ARM_VGIC_GRP_DIST_REGS();
    private static final int REDIST = KvmUapi.KVM_DEV_ARM_VGIC_GRP_REDIST_REGS();
    private static final int SYSREGS = KvmUapi.KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS();
    private static final int LEVELS = KvmUapi.KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO();
    private static final long ALL_ONES = 0xffff_ffffL;

    private final VgicV3 gic;
    private final Device device;
    private final List<Vcpu> vcpus;

    /** The vGIC of the machine whose vCPUs are {@code vcpus}, in id order. */
    public GicSnapshot(VgicV3 gic, List<Vcpu> vcpus) {
        this.gic = gic;
        this.device = gic.device();
        this.vcpus = List.copyOf(vcpus);
    }

    @Override
    public String stateKey() {
        return "gic";
    }

    @Override
    public Class<GicState> stateType() {
        return GicState.class;
    }

    @Override
    public GicState saveState() {
        if (gic.its().isPresent()) {
            device.setAttribute(
                    KvmUapi.KVM_DEV_ARM_VGIC_GRP_CTRL(),
                    KvmUapi.KVM_DEV_ARM_VGIC_SAVE_PENDING_TABLES(),
                    "SAVE_PENDING_TABLES");
        }
        int nrIrqs = nrIrqs();
        long first = mpidr(vcpus.get(0));
        List<DeviceRegister> dist = read(DIST, 0, distributor(nrIrqs), false);
        List<DeviceRegister> spiLevels = new ArrayList<>();
        for (int intid = 32; intid < nrIrqs; intid += 32) {
            spiLevels.add(new DeviceRegister(intid, level(first, intid)));
        }
        List<GicState.Cpu> cpus = new ArrayList<>();
        for (Vcpu v : vcpus) {
            long mpidr = mpidr(v);
            List<Reg> icc = GicRegisters.cpuInterface(iccCtlr(mpidr));
            cpus.add(
                    new GicState.Cpu(
                            mpidr,
                            read(REDIST, mpidr, redistributor(), false),
                            (int) level(mpidr, 0),
                            read(SYSREGS, mpidr, icc, true)));
        }
        return new GicState(nrIrqs, dist, spiLevels, cpus);
    }

    @Override
    public void restoreState(GicState s) {
        String part = stateKey();
        // check everything before the first write
        if (s.nrIrqs() != nrIrqs()) {
            throw SnapshotException.invalid(
                    part,
                    "the snapshot's GIC has "
                            + s.nrIrqs()
                            + " interrupt lines, this machine's "
                            + nrIrqs());
        }
        if (s.cpus() == null || s.cpus().size() != vcpus.size()) {
            throw SnapshotException.invalid(
                    part,
                    "the snapshot's GIC has "
                            + (s.cpus() == null ? 0 : s.cpus().size())
                            + " CPU interfaces, this machine has "
                            + vcpus.size()
                            + " vCPUs");
        }
        Map<Long, Long> dist =
                GicRegisters.check(
                        part,
                        "distributor",
                        s.distributor(),
                        present(DIST, 0, distributor(s.nrIrqs())),
                        false);
        Map<Long, Long> spiLevels =
                GicRegisters.check(part, "line levels", s.spiLevels(), levelWords(), false);
        List<Map<Long, Long>> redists = new ArrayList<>();
        List<Map<Long, Long>> iccs = new ArrayList<>();
        List<Long> mpidrs = new ArrayList<>();
        for (int i = 0; i < vcpus.size(); i++) {
            GicState.Cpu c = s.cpus().get(i);
            long mpidr = mpidr(vcpus.get(i));
            if (c == null || c.mpidr() != mpidr) {
                throw SnapshotException.invalid(
                        part,
                        "cpu " + i + " is not the vCPU with MPIDR 0x" + Long.toHexString(mpidr));
            }
            mpidrs.add(mpidr);
            redists.add(
                    GicRegisters.check(
                            part,
                            "cpu " + i + " redistributor",
                            c.redistributor(),
                            present(REDIST, mpidr, redistributor()),
                            false));
            iccs.add(
                    GicRegisters.check(
                            part,
                            "cpu " + i + " interface",
                            c.cpuInterface(),
                            GicRegisters.cpuInterface(iccCtlr(mpidr)),
                            true));
        }

        write(DIST, 0, GicRegisters.GICD_IIDR, dist);
        write(DIST, 0, GicRegisters.GICD_CTLR, dist);
        for (int i = 0; i < mpidrs.size(); i++) {
            for (Reg r : GicRegisters.redistributorLpi()) {
                writeIfChanged(REDIST, mpidrs.get(i), r, redists.get(i));
            }
        }
        for (int i = 0; i < mpidrs.size(); i++) {
            long mpidr = mpidrs.get(i);
            for (Reg r : GicRegisters.redistributorConfig())
                write(REDIST, mpidr, r, redists.get(i));
            setLevel(mpidr, 0, s.cpus().get(i).ppiLevels());
            for (Reg r : GicRegisters.redistributorState()) write(REDIST, mpidr, r, redists.get(i));
        }
        for (Reg r : GicRegisters.distributorConfig(s.nrIrqs())) write(DIST, 0, r, dist);
        spiLevels.forEach((intid, bits) -> setLevel(mpidrs.get(0), intid, bits));
        for (Reg r : GicRegisters.distributorState(s.nrIrqs())) write(DIST, 0, r, dist);
        for (int i = 0; i < mpidrs.size(); i++) {
            for (Reg r : GicRegisters.cpuInterface(iccCtlr(mpidrs.get(i)))) {
                write(SYSREGS, mpidrs.get(i), r, iccs.get(i));
            }
        }
    }

    private int nrIrqs() {
        return device.getAttributeU32(KvmUapi.KVM_DEV_ARM_VGIC_GRP_NR_IRQS(), 0, "NR_IRQS");
    }

    private static long mpidr(Vcpu v) {
        return v.getOneReg(RegIds.MPIDR_EL1);
    }

    private long iccCtlr(long mpidr) {
        return device.getAttributeU64(
                SYSREGS,
                VgicV3.redistAttr(mpidr, GicRegisters.ICC_CTLR_EL1.offset()),
                "ICC_CTLR_EL1");
    }

    private static List<Reg> distributor(int nrIrqs) {
        List<Reg> r = new ArrayList<>(List.of(GicRegisters.GICD_IIDR, GicRegisters.GICD_CTLR));
        r.addAll(GicRegisters.distributorConfig(nrIrqs));
        r.addAll(GicRegisters.distributorState(nrIrqs));
        return r;
    }

    private static List<Reg> redistributor() {
        List<Reg> r = new ArrayList<>(GicRegisters.redistributorLpi());
        r.addAll(GicRegisters.redistributorConfig());
        r.addAll(GicRegisters.redistributorState());
        return r;
    }

    private List<Reg> levelWords() {
        List<Reg> r = new ArrayList<>();
        int nrIrqs = nrIrqs();
        for (int intid = 32; intid < nrIrqs; intid += 32)
            r.add(new Reg("LEVEL_INFO " + intid, intid));
        return r;
    }

    /** The registers of {@code regs} this KVM has (GICD_STATUSR, for one, is not everywhere). */
    private List<Reg> present(int group, long mpidr, List<Reg> regs) {
        List<Reg> out = new ArrayList<>();
        for (Reg r : regs) {
            if (device.hasAttribute(group, VgicV3.redistAttr(mpidr, r.offset()))) out.add(r);
        }
        return out;
    }

    private List<DeviceRegister> read(int group, long mpidr, List<Reg> regs, boolean wide) {
        List<DeviceRegister> out = new ArrayList<>();
        for (Reg r : present(group, mpidr, regs)) {
            long attr = VgicV3.redistAttr(mpidr, r.offset());
            long value =
                    wide
                            ? device.getAttributeU64(group, attr, r.name())
                            : device.getAttributeU32(group, attr, r.name()) & ALL_ONES;
            out.add(new DeviceRegister(r.offset(), value));
        }
        return out;
    }

    /** Writes {@code r}'s saved value (if this KVM has it), clearing its clear-twin first. */
    private void write(int group, long mpidr, Reg r, Map<Long, Long> values) {
        Long v = values.get(r.offset());
        if (v == null) return; // not on this KVM: check() made sure the snapshot agrees
        try {
            if (group == SYSREGS) {
                device.setAttributeU64(group, VgicV3.redistAttr(mpidr, r.offset()), v, r.name());
                return;
            }
            if (r.hasClearTwin()) {
                device.setAttributeU32(
                        group, VgicV3.redistAttr(mpidr, r.clearTwin()), -1, r.name() + " clear");
            }
            device.setAttributeU32(
                    group, VgicV3.redistAttr(mpidr, r.offset()), (int) (long) v, r.name());
        } catch (KvmException e) {
            throw refused(r.name() + " = 0x" + Long.toHexString(v), e);
        }
    }

    /**
     * Writes {@code r} unless it already holds the saved value. For GICR_PROPBASER/PENDBASER: KVM
     * sanitises every write (a 0 written reads back with default cacheability bits), so rewriting a
     * never-programmed register would change what the guest reads.
     */
    private void writeIfChanged(int group, long mpidr, Reg r, Map<Long, Long> values) {
        Long v = values.get(r.offset());
        if (v == null) return;
        long now = device.getAttributeU32(group, VgicV3.redistAttr(mpidr, r.offset()), r.name());
        if ((now & ALL_ONES) != v) write(group, mpidr, r, values);
    }

    /** LEVEL_INFO line levels of the 32 interrupts from {@code intid} (a multiple of 32). */
    private long level(long mpidr, long intid) {
        return device.getAttributeU32(LEVELS, levelAttr(mpidr, intid), "LEVEL_INFO " + intid)
                & ALL_ONES;
    }

    private void setLevel(long mpidr, long intid, long bits) {
        try {
            device.setAttributeU32(
                    LEVELS, levelAttr(mpidr, intid), (int) bits, "LEVEL_INFO " + intid);
        } catch (KvmException e) {
            throw refused("line levels of interrupts " + intid + "..", e);
        }
    }

    private static long levelAttr(long mpidr, long intid) {
        long info = 0; // VGIC_LEVEL_INFO_LINE_LEVEL
        return VgicV3.redistAttr(
                mpidr, info << KvmUapi.KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_SHIFT() | intid);
    }

    private SnapshotException refused(String what, KvmException e) {
        return new SnapshotException(
                Kind.HOST_UNSUPPORTED,
                "snapshot: gic: this host's KVM refuses "
                        + what
                        + " ("
                        + Errno.name(e.errno())
                        + ")",
                e);
    }
}
