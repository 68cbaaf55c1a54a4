package dev.jvmm.kvm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * {@code struct kvm_vcpu_init} ({@code __u32 target; __u32 features[7];}) as plain offsets. The
 * generated {@code kvm_vcpu_init} builds an indexed VarHandle for {@code features} when its class
 * initializes, which made the JDK spin 25 method-handle classes at every start (issue 12); this
 * holds the same layout without it. {@code VcpuInitLayoutTest} checks it against the generated one.
 */
final class VcpuInitLayout {
    static final long TARGET = 0, FEATURES = 4, BYTES = 32;
    static final int FEATURE_WORDS = 7;

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT;

    private VcpuInitLayout() {}

    static int target(MemorySegment init) {
        return init.get(U32, TARGET);
    }

    static void target(MemorySegment init, int target) {
        init.set(U32, TARGET, target);
    }

    /** Sets feature bit {@code feature} (KVM_ARM_VCPU_*): bit f % 32 of word f / 32. */
    static void addFeature(MemorySegment init, int feature) {
        if (feature < 0 || feature >= FEATURE_WORDS * 32)
            throw new IllegalArgumentException("vCPU feature " + feature);
        long at = FEATURES + 4L * (feature / 32);
        init.set(U32, at, init.get(U32, at) | 1 << (feature % 32));
    }
}
