package dev.jvmm.kvm.testing;

import dev.jvmm.kvm.Device;
import dev.jvmm.kvm.Kvm;
import dev.jvmm.kvm.RegIds;
import dev.jvmm.kvm.Vcpu;
import dev.jvmm.kvm.Vm;
import dev.jvmm.kvm.sys.Libc;
import dev.jvmm.kvm.uapi.KvmUapi;
import java.lang.foreign.MemorySegment;

/**
 * A one-vCPU VM for kvm-tier tests: 2 MiB of RAM at 0x80000000 holding hand-assembled code, a
 * vGICv3, PSCI 0.2, and everything else unbacked (so stores there are MMIO exits).
 */
public final class TinyGuest implements AutoCloseable {
    public static final long RAM = 0x8000_0000L;
    public static final long RAM_SIZE = 2 << 20;
    public static final long MMIO = 0x1000_0000L;
    public static final long GIC_DIST = 0x3FFF_0000L;
    public static final long GIC_REDIST = GIC_DIST - 0x20000;

    public final Kvm kvm;
    public final Vm vm;
    public final Device gic;
    public final Vcpu vcpu;
    public final MemorySegment ram;

    public TinyGuest(byte[] code) {
        kvm = Kvm.open();
        vm = kvm.createVm(0);
        ram =
                Libc.mmap(
                        RAM_SIZE,
                        Libc.PROT_READ | Libc.PROT_WRITE,
                        Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS,
                        -1,
                        0,
                        "mmap(guest ram)");
        MemorySegment.copy(MemorySegment.ofArray(code), 0, ram, 0, code.length);
        vm.setUserMemoryRegion(0, 0, RAM, ram);
        gic = vm.createDevice(KvmUapi.KVM_DEV_TYPE_ARM_VGIC_V3(), "vgic-v3");
        gic.setAttributeU64(
                KvmUapi.KVM_DEV_ARM_VGIC_GRP_ADDR(),
                KvmUapi.KVM_VGIC_V3_ADDR_TYPE_DIST(),
                GIC_DIST,
                "DIST");
        gic.setAttributeU64(
                KvmUapi.KVM_DEV_ARM_VGIC_GRP_ADDR(),
                KvmUapi.KVM_VGIC_V3_ADDR_TYPE_REDIST(),
                GIC_REDIST,
                "REDIST");
        vcpu = vm.createVcpu(0);
        vcpu.init(vm.preferredTarget(), Vcpu.FEATURE_PSCI_0_2);
        gic.setAttributeU64(KvmUapi.KVM_DEV_ARM_VGIC_GRP_NR_IRQS(), 0, 96, "NR_IRQS");
        gic.setAttribute(
                KvmUapi.KVM_DEV_ARM_VGIC_GRP_CTRL(),
                KvmUapi.KVM_DEV_ARM_VGIC_CTRL_INIT(),
                "CTRL_INIT");
        vcpu.setOneReg(RegIds.PC, RAM);
    }

    @Override
    public void close() {
        vcpu.close();
        gic.close();
        vm.close();
        Libc.munmap(ram);
        kvm.close();
    }
}
