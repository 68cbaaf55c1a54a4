package dev.jvmm.cli;

import dev.jvmm.core.JvmmException;

/** The process exit codes scripts depend on; listed in --help and the README. */
public final class ExitCodes {
    public static final int GUEST_POWEROFF = 0;
    public static final int HOST_ERROR = 1;
    public static final int USAGE = 2;
    public static final int KVM_UNAVAILABLE = 3;
    public static final int GUEST_RESET = 32;
    public static final int VM_CRASH = 33;
    public static final int GUEST_PANIC = 34;
    public static final int TIMEOUT = 124;

    /** Rendered under "Exit codes:" in every command's --help. */
    static final String[] HELP_LIST = {
        "0:guest powered off, stopped by jvmm ctl stop, or the command succeeded",
        "1:VMM or host error (also: this JVM denies jvmm native access)",
        "2:usage error (bad option or input file, or an option this host cannot honour)",
        "3:no usable arm64 KVM on this host (not arm64, no /dev/kvm, no permission)",
        "32:guest reset (unless --on-reset reboot)",
        "33:VM crash (KVM fail-entry or internal error)",
        "34:guest panic",
        "124:--timeout expired",
        "128+N:stopped by signal N (130 for SIGINT, 143 for SIGTERM)",
    };

    private ExitCodes() {}

    /** The one mapping from core's failure kinds to the contract. */
    static int of(JvmmException.Kind kind) {
        return switch (kind) {
            case USAGE, HOST_UNSUPPORTED -> USAGE;
            case NO_KVM -> KVM_UNAVAILABLE;
            case HOST_ERROR -> HOST_ERROR;
        };
    }
}
