package dev.jvmm.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jvmm.kvm.uapi.kvm_vcpu_init;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** The hand-kept kvm_vcpu_init offsets agree with the generated (compiler-checked) bindings. */
class VcpuInitLayoutTest {
    @Test
    void offsetsAndSizeAreTheGeneratedLayouts() {
        assertEquals(kvm_vcpu_init.layout().byteSize(), VcpuInitLayout.BYTES);
        assertEquals(kvm_vcpu_init.target$offset(), VcpuInitLayout.TARGET);
        assertEquals(kvm_vcpu_init.features$offset(), VcpuInitLayout.FEATURES);
        assertEquals(kvm_vcpu_init.features$layout().byteSize(), 4L * VcpuInitLayout.FEATURE_WORDS);
    }

    @Test
    void targetAndFeaturesReadBackThroughTheGeneratedAccessors() {
        MemorySegment init = kvm_vcpu_init.allocate(Arena.ofAuto());
        VcpuInitLayout.target(init, 5);
        VcpuInitLayout.addFeature(init, 2); // KVM_ARM_VCPU_PSCI_0_2
        VcpuInitLayout.addFeature(init, 4); // KVM_ARM_VCPU_SVE
        VcpuInitLayout.addFeature(init, 33); // word 1, bit 1
        assertEquals(5, kvm_vcpu_init.target(init));
        assertEquals(0b10100, kvm_vcpu_init.features(init, 0));
        assertEquals(0b10, kvm_vcpu_init.features(init, 1));
        assertEquals(0, kvm_vcpu_init.features(init, 6));
        init.set(java.lang.foreign.ValueLayout.JAVA_INT, 0, 9);
        assertEquals(9, VcpuInitLayout.target(init));
    }

    @Test
    void aFeatureBeyondTheSevenWordsIsRefused() {
        MemorySegment init = Arena.ofAuto().allocate(VcpuInitLayout.BYTES);
        assertThrows(IllegalArgumentException.class, () -> VcpuInitLayout.addFeature(init, 224));
        assertThrows(IllegalArgumentException.class, () -> VcpuInitLayout.addFeature(init, -1));
    }
}
