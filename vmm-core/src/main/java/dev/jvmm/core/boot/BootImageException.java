package dev.jvmm.core.boot;

import dev.jvmm.core.JvmmException;

/**
 * A kernel, initrd, device tree or command line that cannot be booted. Raised before any KVM fd is
 * opened; a usage error (its message is one line naming the file). {@link #kind()} lets callers and
 * tests tell cases apart without parsing the text.
 */
public final class BootImageException extends JvmmException {
    /** Every distinct way a boot input can be bad. */
    public enum Kind {
        MISSING,
        UNREADABLE,
        BAD_MAGIC,
        TRUNCATED,
        BIG_ENDIAN,
        UNSUPPORTED_FORMAT,
        CORRUPT_GZIP,
        KERNEL_TOO_LARGE,
        INITRD_TOO_LARGE,
        DTB_TOO_LARGE,
        NO_FIT,
        CMDLINE_TOO_LONG,
        /** A held kernel or initrd was rewritten in place before a reload. */
        CHANGED,
        CMDLINE_INVALID
    }

    private final Kind kind;
    private final String subject;

    /**
     * @param subject what is bad, e.g. {@code "kernel /boot/Image"} or {@code "kernel command
     *     line"}
     * @param problem what is wrong with it, without the subject
     */
    public BootImageException(Kind kind, String subject, String problem) {
        this(kind, subject, problem, null);
    }

    public BootImageException(Kind kind, String subject, String problem, Throwable cause) {
        super(JvmmException.Kind.USAGE, subject + ": " + problem, cause);
        this.kind = kind;
        this.subject = subject;
    }

    public Kind kind() {
        return kind;
    }

    /** The file (with its role) or input the message is about. */
    public String subject() {
        return subject;
    }
}
