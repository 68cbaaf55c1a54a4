package dev.jvmm.core.arch;

import java.util.List;
import java.util.stream.Collectors;

/**
 * The PSCI version KVM implements for the guest, as read from the KVM_REG_ARM_PSCI_VERSION firmware
 * register ({@code major << 16 | minor}). It decides the {@code /psci} compatible list.
 */
public record PsciVersion(int major, int minor) implements Comparable<PsciVersion> {
    /** KVM's original, KVM-specific function IDs (no KVM_ARM_VCPU_PSCI_0_2 feature). */
    public static final PsciVersion V0_1 = new PsciVersion(0, 1);

    public static final PsciVersion V0_2 = new PsciVersion(0, 2);
    public static final PsciVersion V1_0 = new PsciVersion(1, 0);

    /** What Linux 5.x+ KVM reports by default with KVM_ARM_VCPU_PSCI_0_2. */
    public static final PsciVersion V1_1 = new PsciVersion(1, 1);

    /** 1.2 and 1.3 (SYSTEM_OFF2) are implemented by KVM from Linux 6.13. */
    public static final PsciVersion V1_2 = new PsciVersion(1, 2);

    public static final PsciVersion V1_3 = new PsciVersion(1, 3);

    /**
     * What a VMM may write to KVM_REG_ARM_PSCI_VERSION (fw-pseudo-registers.rst): 0.1 only on vCPUs
     * without KVM_ARM_VCPU_PSCI_0_2, the others only on vCPUs with it, each up to the highest the
     * host implements.
     */
    public static final List<PsciVersion> KVM_SETTABLE =
            List.of(V0_1, V0_2, V1_0, V1_1, V1_2, V1_3);

    public PsciVersion {
        if (major < 0
                || major > 0x7fff
                || minor < 0
                || minor > 0xffff
                || (major == 0 && minor == 0)) {
            throw new IllegalArgumentException("not a PSCI version: " + major + "." + minor);
        }
    }

    /** Decodes the value of KVM_REG_ARM_PSCI_VERSION. */
    public static PsciVersion fromKvmRegister(long value) {
        return new PsciVersion((int) (value >>> 16) & 0xffff, (int) value & 0xffff);
    }

    /**
     * Parses a --psci value such as {@code 1.0}; only versions KVM can be set to are accepted.
     *
     * @throws IllegalArgumentException naming the value and the accepted ones
     */
    public static PsciVersion parse(String text) {
        String t = text.trim();
        if (t.matches("\\d{1,4}\\.\\d{1,4}")) {
            int dot = t.indexOf('.');
            int major = Integer.parseInt(t.substring(0, dot)),
                    minor = Integer.parseInt(t.substring(dot + 1));
            for (PsciVersion v : KVM_SETTABLE) if (v.major == major && v.minor == minor) return v;
        }
        throw new IllegalArgumentException(
                "PSCI version '"
                        + text
                        + "': KVM accepts "
                        + KVM_SETTABLE.stream()
                                .map(PsciVersion::toString)
                                .collect(Collectors.joining(", ")));
    }

    /** The KVM_REG_ARM_PSCI_VERSION encoding. */
    public long kvmRegisterValue() {
        return (long) major << 16 | minor;
    }

    /** Whether vCPUs are initialised with KVM_ARM_VCPU_PSCI_0_2 for this version (all but 0.1). */
    public boolean usesPsci02Feature() {
        return !equals(V0_1);
    }

    @Override
    public int compareTo(PsciVersion o) {
        return major != o.major ? Integer.compare(major, o.major) : Integer.compare(minor, o.minor);
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
    public boolean needsFunctionIds() {
        return major == 0 && minor == 1;
    }

    @Override
    public boolean equals(Object o) {
        // written out, as is hashCode: a record's generated ones spin method-handle classes on
        // their first call, which every boot makes (issue 12)
        return o instanceof PsciVersion v && v.major == major && v.minor == minor;
    }

    @Override
    public int hashCode() {
        return major << 16 | minor;
    }

    @Override
    public String toString() {
        return major + "." + minor;
    }
}
