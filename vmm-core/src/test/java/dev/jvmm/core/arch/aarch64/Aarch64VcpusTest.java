package dev.jvmm.core.arch.aarch64;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.jvmm.kvm.Vcpu;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class Aarch64VcpusTest {
    private static int[] sorted(int[] a) {
        int[] c = a.clone();
        Arrays.sort(c);
        return c;
    }

    @Test
    void sveAndBothPointerAuthenticationBitsWhenDecided() {
        Aarch64Vcpus v = new Aarch64Vcpus(0, true, new GuestCpu(true, true, false), false);
        assertArrayEquals(
                new int[] {
                    Vcpu.FEATURE_PSCI_0_2,
                    Vcpu.FEATURE_SVE,
                    Vcpu.FEATURE_PTRAUTH_ADDRESS,
                    Vcpu.FEATURE_PTRAUTH_GENERIC
                },
                sorted(v.features(0)));
        assertArrayEquals(
                new int[] {
                    Vcpu.FEATURE_POWER_OFF,
                    Vcpu.FEATURE_PSCI_0_2,
                    Vcpu.FEATURE_SVE,
                    Vcpu.FEATURE_PTRAUTH_ADDRESS,
                    Vcpu.FEATURE_PTRAUTH_GENERIC
                },
                sorted(v.features(1)));
    }

    @Test
    void neitherWhenOff() {
        Aarch64Vcpus v = new Aarch64Vcpus(0, true, new GuestCpu(false, false, true), false);
        assertArrayEquals(new int[] {Vcpu.FEATURE_PSCI_0_2}, sorted(v.features(0)));
    }

    @Test
    void pmuBitOnEveryVcpuWithPmu() {
        Aarch64Vcpus v = new Aarch64Vcpus(0, true, new GuestCpu(false, false, false), true);
        assertArrayEquals(
                new int[] {Vcpu.FEATURE_PSCI_0_2, Vcpu.FEATURE_PMU_V3}, sorted(v.features(0)));
        assertArrayEquals(
                new int[] {Vcpu.FEATURE_POWER_OFF, Vcpu.FEATURE_PSCI_0_2, Vcpu.FEATURE_PMU_V3},
                sorted(v.features(1)));
    }
}
