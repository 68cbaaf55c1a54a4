package dev.jvmm.core.hypercall;

import java.util.List;

/**
 * What a snapshot keeps of the {@link SmcccRouter}: the KVM_ARM_VM_SMCCC_FILTER ranges jvmm
 * installed, which KVM cannot report (there is no GET for the filter). A filter range overrides the
 * hypercall bitmaps, so the restored guest must find exactly these.
 *
 * @param ranges sorted by base, disjoint
 */
public record SmcccFilterState(List<Range> ranges) {
    /**
     * One installed range.
     *
     * @param base the first function ID (unsigned 32-bit)
     * @param count how many IDs
     * @param action {@code FWD_TO_USER} or {@code DENY} ({@code enum kvm_smccc_filter_action})
     * @param owner who answered the IDs, for the message only: the services' names and {@code
     *     --smccc deny}, comma-separated; empty for a KVM deny
     */
    public record Range(long base, long count, String action, String owner) {}
}
