package dev.jvmm.core.arch.aarch64;

import dev.jvmm.kvm.Vm;
import dev.jvmm.kvm.uapi.KvmUapi;

/**
 * The optional vCPU features this host's KVM offers a VM (KVM_CHECK_EXTENSION on the VM fd).
 *
 * @param sve KVM_CAP_ARM_SVE: KVM_ARM_VCPU_SVE may be set at init
 * @param ptrauthAddress KVM_CAP_ARM_PTRAUTH_ADDRESS: address authentication (PACIA, AUTIA, ...)
 * @param ptrauthGeneric KVM_CAP_ARM_PTRAUTH_GENERIC: generic authentication (PACGA)
 * @param mte KVM_CAP_ARM_MTE: memory tagging may be enabled on the VM
 */
public record CpuOffer(boolean sve, boolean ptrauthAddress, boolean ptrauthGeneric, boolean mte) {
    public static CpuOffer of(Vm vm) {
        return new CpuOffer(
                vm.checkExtension(KvmUapi.KVM_CAP_ARM_SVE()) > 0,
                vm.checkExtension(KvmUapi.KVM_CAP_ARM_PTRAUTH_ADDRESS()) > 0,
                vm.checkExtension(KvmUapi.KVM_CAP_ARM_PTRAUTH_GENERIC()) > 0,
                vm.checkExtension(KvmUapi.KVM_CAP_ARM_MTE()) > 0);
    }

    /**
     * KVM accepts the two pointer-authentication feature bits only together (api.rst), so the guest
     * gets both or neither.
     */
    public boolean ptrauth() {
        return ptrauthAddress && ptrauthGeneric;
    }
}
