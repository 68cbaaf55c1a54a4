package dev.jvmm.core.arch.aarch64;

import dev.jvmm.core.JvmmException.Kind;
import dev.jvmm.core.arch.aarch64.GicRegisters.Reg;
import dev.jvmm.core.snapshot.SnapshotException;
import dev.jvmm.core.snapshot.Snapshottable;
import dev.jvmm.kvm.Device;
import dev.jvmm.kvm.Errno;
import dev.jvmm.kvm.KvmException;
import dev.jvmm.kvm.uapi.KvmUapi;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The ITS (--irqchip gicv3-its) as a snapshot part: its GITS registers; its device, collection and
 * translation tables KVM writes into guest RAM on save (ITS_SAVE_TABLES) and reads back on restore
 * (ITS_RESTORE_TABLES). So <b>the machine saves guest RAM after {@code saveState} and restores it
 * before {@code restoreState}</b>, after the {@code gic} part (arm-vgic-its.rst: guest memory,
 * vCPUs and redistributors first).
 *
 * <p>Restore order (arm-vgic-its.rst, QEMU): GITS_IIDR (the table ABI revision, before the tables
 * are read), GITS_CBASER (a CBASER write resets CREADR and CWRITER, so those follow it), CREADR,
 * CWRITER, the GITS_BASERs, then RESTORE_TABLES, then GITS_CTLR, which may enable the ITS.
 */
public final class ItsSnapshot implements Snapshottable<ItsState> {
    private static final int REGS = KvmUapi.KVM_DEV_ARM_VGIC_GRP_ITS_REGS();
    private static final int CTRL = KvmUapi.KVM_DEV_ARM_VGIC_GRP_CTRL();
    private static final Reg GITS_CTLR = new Reg("GITS_CTLR", 0x0);

    private final Device device;

    public ItsSnapshot(Its its) {
        this.device = its.device();
    }

    @Override
    public String stateKey() {
        return "its";
    }

    @Override
    public Class<ItsState> stateType() {
        return ItsState.class;
    }

    /** The registers before GITS_CTLR, in restore order. */
    static List<Reg> beforeTables() {
        List<Reg> r = new ArrayList<>();
        r.add(new Reg("GITS_IIDR", 0x4));
        r.add(new Reg("GITS_CBASER", 0x80));
        r.add(new Reg("GITS_CREADR", 0x90));
        r.add(new Reg("GITS_CWRITER", 0x88));
        for (int n = 0; n < 8; n++) r.add(new Reg("GITS_BASER" + n, 0x100 + 8L * n));
        return r;
    }

    private List<Reg> present() {
        List<Reg> out = new ArrayList<>();
        for (Reg r : beforeTables()) if (device.hasAttribute(REGS, r.offset())) out.add(r);
        out.add(GITS_CTLR);
        return out;
    }

    @Override
    public ItsState saveState() {
        device.setAttribute(CTRL, KvmUapi.KVM_DEV_ARM_ITS_SAVE_TABLES(), "ITS_SAVE_TABLES");
        List<DeviceRegister> regs = new ArrayList<>();
        for (Reg r : present()) {
            regs.add(
                    new DeviceRegister(
                            r.offset(), device.getAttributeU64(REGS, r.offset(), r.name())));
        }
        return new ItsState(regs);
    }

    @Override
    public void restoreState(ItsState state) {
        List<Reg> regs = present();
        Map<Long, Long> values = GicRegisters.check("its", "ITS", state.registers(), regs, true);
        for (Reg r : regs) {
            if (!r.equals(GITS_CTLR)) write(r, values.get(r.offset()));
        }
        try {
            device.setAttribute(
                    CTRL, KvmUapi.KVM_DEV_ARM_ITS_RESTORE_TABLES(), "ITS_RESTORE_TABLES");
        } catch (KvmException e) {
            throw refused("its tables in guest memory", e);
        }
        write(GITS_CTLR, values.get(GITS_CTLR.offset()));
    }

    private void write(Reg r, long value) {
        try {
            device.setAttributeU64(REGS, r.offset(), value, r.name());
        } catch (KvmException e) {
            throw refused(r.name() + " = 0x" + Long.toHexString(value), e);
        }
    }

    private static SnapshotException refused(String what, KvmException e) {
        // the tables and registers come from the snapshot: KVM refusing them is a damaged one
        return new SnapshotException(
                Kind.USAGE,
                "snapshot: its: KVM refuses " + what + " (" + Errno.name(e.errno()) + ")",
                e);
    }
}
