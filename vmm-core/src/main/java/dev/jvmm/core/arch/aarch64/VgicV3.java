package dev.jvmm.core.arch.aarch64;

import dev.jvmm.core.UnsupportedRequestException;
import dev.jvmm.core.arch.Layout;
import dev.jvmm.kvm.Device;
import dev.jvmm.kvm.Vm;
import dev.jvmm.kvm.uapi.KvmUapi;
import java.util.List;
import java.util.Optional;

/**
 * The in-kernel GICv3, with its ITS under --irqchip gicv3-its. KVM's order: create it and place its
 * frames (and the ITS) before any vCPU exists, then {@link #initialise()} once every vCPU is
 * created (the redistributors are per vCPU).
 */
public final class VgicV3 implements AutoCloseable {
    /** Redistributor RD_base registers an in-place reboot clears (GIC architecture offsets). */
    static final long GICR_CTLR = 0x0, GICR_PROPBASER = 0x70, GICR_PENDBASER = 0x78;

    private final Device device;
    private final Its its;
    private boolean initialised;

    private VgicV3(Device device, Its its) {
        this.device = device;
        this.its = its;
    }

    /**
     * Creates the distributor and the redistributor region at {@code layout}'s addresses, and the
     * ITS when {@code irqchip} asks for one.
     *
     * @throws UnsupportedRequestException for an interrupt controller this host or jvmm cannot
     *     build, before any device is created
     */
    public static VgicV3 create(Vm vm, Layout layout, CpuFeatures.Irqchip irqchip) {
        requireBuildable(vm, irqchip);
        Device gic = vm.createDevice(KvmUapi.KVM_DEV_TYPE_ARM_VGIC_V3(), "vgic-v3");
        try {
            int addrGroup = KvmUapi.KVM_DEV_ARM_VGIC_GRP_ADDR();
            gic.setAttributeU64(
                    addrGroup,
                    KvmUapi.KVM_VGIC_V3_ADDR_TYPE_DIST(),
                    layout.gicDist().base(),
                    "DIST");
            gic.setAttributeU64(
                    addrGroup,
                    KvmUapi.KVM_VGIC_V3_ADDR_TYPE_REDIST(),
                    layout.gicRedist().base(),
                    "REDIST");
            Its its = irqchip == CpuFeatures.Irqchip.GICV3_ITS ? Its.create(vm, layout) : null;
            return new VgicV3(gic, its);
        } catch (RuntimeException e) {
            gic.close();
            throw e;
        }
    }

    /**
     * Decides {@code AUTO} as kvmtool does: an ITS when there are PCI functions to send MSIs and
     * this host's KVM can create one, plain GICv3 otherwise. Any other request is kept as asked.
     */
    public static CpuFeatures.Irqchip choose(
            Vm vm, CpuFeatures.Irqchip asked, boolean pciFunctions) {
        if (asked != CpuFeatures.Irqchip.AUTO) return asked;
        return pciFunctions && vm.canCreateDevice(KvmUapi.KVM_DEV_TYPE_ARM_VGIC_ITS())
                ? CpuFeatures.Irqchip.GICV3_ITS
                : CpuFeatures.Irqchip.GICV3;
    }

    /**
     * Refuses, in one line, what cannot be built: a GICv2 (jvmm's machine is GICv3 only, and many
     * GICv3 hosts cannot emulate one at all) and an ITS on a KVM without the ITS device.
     */
    static void requireBuildable(Vm vm, CpuFeatures.Irqchip irqchip) {
        switch (irqchip) {
            case GICV3 -> {}
            case AUTO -> throw new IllegalStateException("irqchip AUTO must be chosen first");
            case GICV3_ITS -> {
                if (!vm.canCreateDevice(KvmUapi.KVM_DEV_TYPE_ARM_VGIC_ITS()))
                    throw new UnsupportedRequestException(
                            "--irqchip gicv3-its: GICv3 ITS requested, but this host's KVM does not"
                                    + " support it (no KVM_DEV_TYPE_ARM_VGIC_ITS); try --irqchip gicv3");
            }
            case GICV2 -> {
                if (!vm.canCreateDevice(KvmUapi.KVM_DEV_TYPE_ARM_VGIC_V2()))
                    throw new UnsupportedRequestException(
                            "--irqchip gicv2: this host's KVM cannot emulate a GICv2 (its GIC has no"
                                    + " GICv2 compatibility interface); use --irqchip gicv3");
                throw new UnsupportedRequestException(
                        "--irqchip gicv2: this host's KVM could emulate a GICv2, but jvmm builds"
                                + " GICv3 machines only (no GICv2 address map or device tree); use"
                                + " --irqchip gicv3");
            }
        }
    }

    /** Sets the number of interrupt lines and initialises the vGIC; after the last vCPU exists. */
    public void initialise() {
        device.setAttributeU64(
                KvmUapi.KVM_DEV_ARM_VGIC_GRP_NR_IRQS(), 0, Layout.GIC_NR_IRQS, "NR_IRQS");
        device.setAttribute(
                KvmUapi.KVM_DEV_ARM_VGIC_GRP_CTRL(),
                KvmUapi.KVM_DEV_ARM_VGIC_CTRL_INIT(),
                "CTRL_INIT");
        initialised = true;
    }

    public boolean initialised() {
        return initialised;
    }

    /** The ITS, when the VM has one. */
    public Optional<Its> its() {
        return Optional.ofNullable(its);
    }

    /**
     * For an in-place reboot, while no vCPU runs: resets the ITS (KVM_DEV_ARM_ITS_CTRL_RESET) and
     * turns each redistributor's LPIs off and forgets its LPI tables, which KVM_ARM_VCPU_INIT
     * leaves alone. Otherwise the next kernel finds LPIs enabled on tables in memory it now owns
     * (Linux: "Booted with LPIs enabled, memory probably corrupted"). Without an ITS there are no
     * LPIs and nothing to do.
     *
     * @param mpidrs MPIDR_EL1 of every vCPU: it names the redistributor in the attribute
     */
    public void resetLpis(List<Long> mpidrs) {
        if (its == null) return;
        its.reset();
        int group = KvmUapi.KVM_DEV_ARM_VGIC_GRP_REDIST_REGS();
        for (long mpidr : mpidrs) {
            long rd = redistAttr(mpidr, 0);
            // EnableLPIs first: KVM ignores PROPBASER/PENDBASER writes while LPIs are on
            device.setAttributeU64(group, rd | GICR_CTLR, 0, "GICR_CTLR");
            device.setAttributeU64(group, rd | GICR_PROPBASER, 0, "GICR_PROPBASER");
            device.setAttributeU64(group, rd | GICR_PENDBASER, 0, "GICR_PENDBASER");
        }
    }

    /**
     * KVM_DEV_ARM_VGIC_GRP_REDIST_REGS attribute: the vCPU's affinity as Aff3.Aff2.Aff1.Aff0 in
     * bits 63:32, the register offset in 31:0.
     */
    static long redistAttr(long mpidr, long offset) {
        long aff = ((mpidr >>> 32) & 0xff) << 24 | (mpidr & 0xff_ffffL);
        return aff << KvmUapi.KVM_DEV_ARM_VGIC_V3_MPIDR_SHIFT() | offset;
    }

    /** The KVM device, for state access (save/restore, LEVEL_INFO). */
    public Device device() {
        return device;
    }

    @Override
    public void close() {
        if (its != null) its.close();
        device.close();
    }
}
