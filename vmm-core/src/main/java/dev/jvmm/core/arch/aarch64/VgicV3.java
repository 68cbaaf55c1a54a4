package dev.jvmm.core.arch.aarch64;

import dev.jvmm.core.arch.Layout;
import dev.jvmm.kvm.Device;
import dev.jvmm.kvm.Vm;
import dev.jvmm.kvm.uapi.KvmUapi;

/**
 * The in-kernel GICv3. KVM's order: create it and place its frames before any vCPU exists, then
 * {@link #initialise()} once every vCPU is created (the redistributors are per vCPU).
 */
public final class VgicV3 implements AutoCloseable {
    private final Device device;
    private boolean initialised;

    private VgicV3(Device device) {
        this.device = device;
    }

    /** Creates the distributor and the redistributor region at {@code layout}'s addresses. */
    public static VgicV3 create(Vm vm, Layout layout) {
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
            return new VgicV3(gic);
        } catch (RuntimeException e) {
            gic.close();
            throw e;
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

    /** The KVM device, for state access (save/restore, LEVEL_INFO). */
    public Device device() {
        return device;
    }

    @Override
    public void close() {
        device.close();
    }
}
