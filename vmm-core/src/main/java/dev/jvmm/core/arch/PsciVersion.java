package dev.jvmm.core.arch;

import java.util.List;

/**
 * The PSCI version KVM implements for the guest, as read from the KVM_REG_ARM_PSCI_VERSION
 * firmware register ({@code major << 16 | minor}). It decides the {@code /psci} compatible list.
 */
public record PsciVersion(int major, int minor) {
    /** KVM's original, KVM-specific function IDs (no KVM_ARM_VCPU_PSCI_0_2 feature). */
    public static final PsciVersion V0_1 = new PsciVersion(0, 1);
    public static final PsciVersion V0_2 = new PsciVersion(0, 2);
    public static final PsciVersion V1_0 = new PsciVersion(1, 0);
    /** What Linux 5.x+ KVM reports by default with KVM_ARM_VCPU_PSCI_0_2. */
    public static final PsciVersion V1_1 = new PsciVersion(1, 1);

    public PsciVersion {
        if (major < 0 || major > 0x7fff || minor < 0 || minor > 0xffff || (major == 0 && minor == 0)) {
            throw new IllegalArgumentException("not a PSCI version: " + major + "." + minor);
        }
    }

    /** Decodes the value of KVM_REG_ARM_PSCI_VERSION. */
    public static PsciVersion fromKvmRegister(long value) {
        return new PsciVersion((int) (value >>> 16) & 0xffff, (int) value & 0xffff);
    }

    /**
     * Most specific first, as the PSCI binding lists them: a 1.x firmware is also 0.2- and
     * 0.1-compatible, and Linux picks its driver from the first entry it knows.
     */
    public List<String> compatibles() {
        if (major == 0 && minor == 1) return List.of("arm,psci");
        if (major == 0) return List.of("arm,psci-0.2", "arm,psci");
        return List.of("arm,psci-1.0", "arm,psci-0.2", "arm,psci");
    }

    /** PSCI 0.1 has no standard function IDs: the device tree must name KVM's. */
    public boolean needsFunctionIds() { return major == 0 && minor == 1; }

    @Override public String toString() { return major + "." + minor; }
}
