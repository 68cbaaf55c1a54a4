package dev.jvmm.core;

/**
 * A run option this host cannot honour: a hypercall service its KVM lacks, a PSCI version it does
 * not implement, an RLIMIT_MEMLOCK too low for --mem-lock. Raised before any vCPU has run; the
 * message is one line naming the option and what to do. The CLI exits with the usage code (2):
 * nothing ran, and the fix is a change to the invocation (its options, or the limits it runs
 * under).
 */
public final class UnsupportedRequestException extends JvmmException {
    public UnsupportedRequestException(String message) {
        super(Kind.HOST_UNSUPPORTED, message);
    }
}
