package dev.jvmm.core.arch.aarch64;

import dev.jvmm.kvm.Vcpu;
import dev.jvmm.kvm.Vm;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * Creates the vCPUs and (re)initialises them with one feature set: KVM_ARM_VCPU_INIT's feature bits
 * are decided once per VM, and an in-place reboot must repeat exactly the same init.
 */
public final class Aarch64Vcpus {
    private final int target;
    private final boolean psci02;
    private final GuestCpu cpu;
    private final boolean pmu;

    /** vCPU ids whose SVE configuration is finalized: KVM keeps that across a repeated init. */
    private final BitSet finalized = new BitSet();

    // package-private: the feature-bit tests build one without KVM
    Aarch64Vcpus(int target, boolean psci02, GuestCpu cpu, boolean pmu) {
        this.target = target;
        this.psci02 = psci02;
        this.cpu = cpu;
        this.pmu = pmu;
    }

    /**
     * Creates {@code count} vCPUs and initialises each; every created vCPU is added to {@code
     * created} at once, so the caller can close it if a later one fails. With {@code pmu}, each
     * gets PMUv3, which {@link Pmu#initialise} must complete before any runs.
     */
    public static Aarch64Vcpus create(
            Vm vm,
            int count,
            boolean psci02,
            GuestCpu cpu,
            boolean pmu,
            List<? super Vcpu> created) {
        Aarch64Vcpus vcpus = new Aarch64Vcpus(vm.preferredTarget(), psci02, cpu, pmu);
        for (int i = 0; i < count; i++) {
            Vcpu v = vm.createVcpu(i);
            created.add(v);
            vcpus.init(v);
        }
        return vcpus;
    }

    /**
     * KVM_ARM_VCPU_INIT: at creation, and again on an in-place reboot (which resets the vCPU to its
     * power-on state, keeping VM-wide state such as the firmware bitmaps and PV-time addresses).
     */
    public synchronized void init(Vcpu v) {
        v.init(target, features(v.id()));
        // SVE: the vector lengths stay KVM's default (all the host offers) and are fixed here,
        // before KVM_RUN or KVM_GET_REG_LIST may be used. KVM keeps a vCPU finalized across the
        // repeated init of an in-place reboot and refuses a second finalize (EPERM).
        if (cpu.sve() && !finalized.get(v.id())) {
            v.finalizeFeature(Vcpu.FEATURE_SVE);
            finalized.set(v.id());
        }
    }

    /**
     * PSCI 0.2+ for every vCPU (unless --psci 0.1); secondaries start powered off and are started
     * by the guest with CPU_ON; SVE and pointer authentication as decided in {@link GuestCpu}.
     */
    int[] features(int id) {
        List<Integer> f = new ArrayList<>();
        if (psci02) f.add(Vcpu.FEATURE_PSCI_0_2);
        if (id != 0) f.add(Vcpu.FEATURE_POWER_OFF);
        if (pmu) f.add(Vcpu.FEATURE_PMU_V3);
        if (cpu.sve()) f.add(Vcpu.FEATURE_SVE);
        if (cpu.ptrauth()) { // KVM takes both pointer-authentication bits or neither
            f.add(Vcpu.FEATURE_PTRAUTH_ADDRESS);
            f.add(Vcpu.FEATURE_PTRAUTH_GENERIC);
        }
        return f.stream().mapToInt(Integer::intValue).toArray();
    }
}
