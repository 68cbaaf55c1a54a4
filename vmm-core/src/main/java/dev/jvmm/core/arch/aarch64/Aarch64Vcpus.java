package dev.jvmm.core.arch.aarch64;

import dev.jvmm.kvm.Vcpu;
import dev.jvmm.kvm.Vm;
import java.util.ArrayList;
import java.util.List;

/**
 * Creates the vCPUs and (re)initialises them with one feature set: KVM_ARM_VCPU_INIT's feature bits
 * are decided once per VM, and an in-place reboot must repeat exactly the same init.
 */
public final class Aarch64Vcpus {
    private final int target;
    private final boolean psci02;
    private final boolean pmu;

    private Aarch64Vcpus(int target, boolean psci02, boolean pmu) {
        this.target = target;
        this.psci02 = psci02;
        this.pmu = pmu;
    }

    /**
     * Creates {@code count} vCPUs and initialises each; every created vCPU is added to {@code
     * created} at once, so the caller can close it if a later one fails. With {@code pmu}, each
     * gets PMUv3, which {@link Pmu#initialise} must complete before any runs.
     */
    public static Aarch64Vcpus create(
            Vm vm, int count, boolean psci02, boolean pmu, List<? super Vcpu> created) {
        Aarch64Vcpus vcpus = new Aarch64Vcpus(vm.preferredTarget(), psci02, pmu);
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
    public void init(Vcpu v) {
        v.init(target, features(v.id()));
    }

    /**
     * PSCI 0.2+ for every vCPU (unless --psci 0.1); secondaries start powered off and are started
     * by the guest with CPU_ON.
     */
    int[] features(int id) {
        List<Integer> f = new ArrayList<>();
        if (psci02) f.add(Vcpu.FEATURE_PSCI_0_2);
        if (id != 0) f.add(Vcpu.FEATURE_POWER_OFF);
        if (pmu) f.add(Vcpu.FEATURE_PMU_V3);
        return f.stream().mapToInt(Integer::intValue).toArray();
    }
}
