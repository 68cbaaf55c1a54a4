package dev.jvmm.core.arch.aarch64;

import dev.jvmm.core.arch.Layout;
import dev.jvmm.kvm.Device;
import dev.jvmm.kvm.Vm;
import dev.jvmm.kvm.uapi.KvmUapi;

/**
 * The in-kernel GICv3 ITS (--irqchip gicv3-its): translates a device's MSI write (device ID, event
 * ID) to an LPI on the redistributor the guest chose. KVM emulates it whole; jvmm only places its
 * 128 KiB frame ({@link Layout#gicIts()}) and resets it on an in-place reboot. KVM's vGIC offers
 * LPIs only to a VM that has an ITS.
 */
public final class Its implements AutoCloseable {
    private final Device device;
    private final Layout.Region frame;
    private final boolean msiNeedsDeviceId;

    private Its(Device device, Layout.Region frame, boolean msiNeedsDeviceId) {
        this.device = device;
        this.frame = frame;
        this.msiNeedsDeviceId = msiNeedsDeviceId;
    }

    /**
     * Creates the ITS, places its frame and initialises it, in kvmtool's order: right after the
     * GICv3 device exists (KVM needs the vGIC model to be v3 first) and before any vCPU.
     */
    static Its create(Vm vm, Layout layout) {
        Device its = vm.createDevice(KvmUapi.KVM_DEV_TYPE_ARM_VGIC_ITS(), "vgic-its");
        try {
            its.setAttributeU64(
                    KvmUapi.KVM_DEV_ARM_VGIC_GRP_ADDR(),
                    KvmUapi.KVM_VGIC_ITS_ADDR_TYPE(),
                    layout.gicIts().base(),
                    "ITS_ADDR");
            its.setAttribute(
                    KvmUapi.KVM_DEV_ARM_VGIC_GRP_CTRL(),
                    KvmUapi.KVM_DEV_ARM_VGIC_CTRL_INIT(),
                    "CTRL_INIT");
            // KVM turns this on when the ITS is created: from now on every MSI must carry the
            // requester's device ID (KVM_MSI_VALID_DEVID), in KVM_SIGNAL_MSI and in MSI routes
            boolean devid = vm.checkExtension(KvmUapi.KVM_CAP_MSI_DEVID()) > 0;
            return new Its(its, layout.gicIts(), devid);
        } catch (RuntimeException e) {
            its.close();
            throw e;
        }
    }

    /** Where the frame is. */
    public Layout.Region frame() {
        return frame;
    }

    /** The address an MSI targets: GITS_TRANSLATER in the frame's second 64 KiB page. */
    public long doorbell() {
        return frame.base() + Layout.GITS_TRANSLATER_OFFSET;
    }

    /** One line for the log: where the ITS is and whether MSIs carry a device ID. */
    public String describe() {
        return "GICv3 ITS at " + frame() + (msiNeedsDeviceId() ? "; MSIs carry a device ID" : "");
    }

    /** KVM_CAP_MSI_DEVID as the VM reports it once the ITS exists. */
    public boolean msiNeedsDeviceId() {
        return msiNeedsDeviceId;
    }

    /**
     * KVM_DEV_ARM_ITS_CTRL_RESET: back to the state of a new ITS (disabled, GITS_CBASER and
     * GITS_BASER<n> invalid, no devices, collections or translations cached), so a rebooted guest
     * starts without the old guest's tables. Only while no vCPU runs.
     */
    void reset() {
        device.setAttribute(
                KvmUapi.KVM_DEV_ARM_VGIC_GRP_CTRL(),
                KvmUapi.KVM_DEV_ARM_ITS_CTRL_RESET(),
                "CTRL_RESET");
    }

    /** The KVM device, for state access (snapshot: {@link ItsSnapshot}). */
    Device device() {
        return device;
    }

    @Override
    public void close() {
        device.close();
    }
}
