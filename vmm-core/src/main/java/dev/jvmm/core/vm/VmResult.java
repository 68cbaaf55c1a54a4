package dev.jvmm.core.vm;

/** How a VM run ended; the CLI maps {@link Reason} to the exit-code contract. */
public record VmResult(Reason reason, String detail, int signal) {
    public enum Reason {
        /** PSCI SYSTEM_OFF. */
        POWEROFF,
        /** PSCI SYSTEM_RESET with --on-reset exit. */
        RESET,
        /** Guest kernel panic (KVM crash event, or the console's end-of-panic line). */
        PANIC,
        /** KVM could not run the guest: FAIL_ENTRY, internal error, an exit jvmm cannot handle. */
        CRASH,
        /** --timeout expired. */
        TIMEOUT,
        /** SIGINT/SIGTERM, or the console's quit escape (signal 2). */
        SIGNAL,
        /** A VMM-side failure (an exception in a vCPU thread or device). */
        ERROR,
        /**
         * {@code jvmm ctl stop}: asked for, so a success (exit 0) as in Firecracker, Cloud
         * Hypervisor and crosvm.
         */
        STOPPED_BY_API
    }

    public static VmResult of(Reason reason, String detail) {
        return new VmResult(reason, detail, 0);
    }

    public static VmResult signal(int signal, String detail) {
        return new VmResult(Reason.SIGNAL, detail, signal);
    }
}
