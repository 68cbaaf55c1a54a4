package dev.jvmm.kvm;

/** This host cannot run jvmm's guests: no KVM device, no permission, or the wrong architecture. */
public final class KvmUnavailableException extends RuntimeException {
    public enum Reason {
        MISSING,
        PERMISSION,
        WRONG_ARCH,
        UNSUPPORTED
    }

    private final Reason reason;

    public KvmUnavailableException(String message, Reason reason) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }

    static KvmUnavailableException fromOpen(String path, int errno) {
        return switch (errno) {
            case Errno.ENOENT, Errno.ENODEV, Errno.ENXIO ->
                    new KvmUnavailableException(
                            path
                                    + " does not exist: this host has no KVM (on x86_64 use the arm64 lab: ./lab run -- jvmm ...)",
                            Reason.MISSING);
            case Errno.EACCES, Errno.EPERM ->
                    new KvmUnavailableException(
                            "no permission to open "
                                    + path
                                    + ": run as root or add your user to the group that owns it (often 'kvm')",
                            Reason.PERMISSION);
            default ->
                    new KvmUnavailableException(
                            "cannot open " + path + ": " + Errno.name(errno), Reason.UNSUPPORTED);
        };
    }
}
