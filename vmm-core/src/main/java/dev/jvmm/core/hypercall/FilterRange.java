package dev.jvmm.core.hypercall;

/**
 * One {@code KVM_ARM_VM_SMCCC_FILTER} entry to install before the first KVM_RUN.
 *
 * @param range the function IDs; KVM wants them as {@code base} + {@code nr_functions}
 * @param action what KVM does with a call in the range
 */
public record FilterRange(FunctionRange range, Action action) {
    /** {@code enum kvm_smccc_filter_action}; HANDLE (0) is KVM's default and never installed. */
    public enum Action {
        /** KVM answers NOT_SUPPORTED itself; jvmm never sees the call. */
        DENY(1),
        /** KVM exits to jvmm with KVM_EXIT_HYPERCALL. */
        FWD_TO_USER(2);

        private final int kvmValue;

        Action(int kvmValue) {
            this.kvmValue = kvmValue;
        }

        public int kvmValue() {
            return kvmValue;
        }
    }

    public int base() {
        return (int) range.first();
    }

    public int count() {
        return (int) range.count();
    }

    @Override
    public String toString() {
        return range + " " + action;
    }
}
