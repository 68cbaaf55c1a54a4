package dev.jvmm.core.arch.aarch64;

import dev.jvmm.kvm.PendingSError;
import java.util.List;

/**
 * One vCPU's KVM state in a snapshot (key {@code vcpu.N}; see {@link VcpuSnapshot}).
 *
 * @param id the vCPU id
 * @param features the KVM_ARM_VCPU_INIT feature bits the vCPU was initialised with, as a mask (bit
 *     n = feature n: PSCI_0_2 2, PMU_V3 3, SVE 4, PTRAUTH 5 and 6), without POWER_OFF, which only
 *     says how a vCPU starts at boot: {@code mpState} says whether it is off now
 * @param registers every register KVM_GET_REG_LIST named, in its order, except the counters (the
 *     {@code counter} part's)
 * @param mpState KVM_MP_STATE_RUNNABLE (0), STOPPED (5) or SUSPENDED (10)
 * @param serror an SError KVM holds for the guest
 */
public record VcpuState(
        int id, int features, List<Register> registers, int mpState, PendingSError serror) {

    /**
     * One register: its KVM_GET/SET_ONE_REG id (arch, size, coprocessor group and index; the size
     * field says how many bytes {@code value} has) and its value as KVM stores it, little-endian.
     * In the JSON the id is a number and the value base64.
     */
    @SuppressWarnings("ArrayRecordComponent")
    public record Register(long id, byte[] value) {}
}
