package dev.jvmm.core;

import dev.jvmm.kvm.KvmException;
import dev.jvmm.kvm.KvmUnavailableException;

/**
 * The root of every failure jvmm expects and explains: its message is one line for the user (naming
 * the file, option or device and the reason) and its {@link Kind} says which part of the exit-code
 * contract it belongs to, so the CLI maps kinds to codes in one place and never needs to know the
 * subclasses. Anything that is not a {@code JvmmException} (or one of the KVM layer's two
 * exceptions, see {@link #kindOf}) is a bug.
 */
public class JvmmException extends RuntimeException {
    /** What kind of failure, from the user's point of view. */
    public enum Kind {
        /** Bad input: an option, a value, a file; nothing ran. */
        USAGE,
        /**
         * A valid request this host cannot honour (a service its KVM lacks, a limit too low);
         * nothing ran.
         */
        HOST_UNSUPPORTED,
        /** No usable arm64 KVM here. */
        NO_KVM,
        /** The host failed jvmm: a system call, a device's host side. */
        HOST_ERROR
    }

    private final Kind errorKind;

    public JvmmException(Kind kind, String message) {
        this(kind, message, null);
    }

    public JvmmException(Kind kind, String message, Throwable cause) {
        super(oneLine(message), cause);
        this.errorKind = java.util.Objects.requireNonNull(kind, "kind");
    }

    /** Bad user input: one line naming what is wrong. */
    public static JvmmException usage(String message) {
        return new JvmmException(Kind.USAGE, message);
    }

    public final Kind errorKind() {
        return errorKind;
    }

    /**
     * The kind of an expected failure, or null for a bug. The KVM layer below core has its own two
     * exceptions (it cannot depend on core); they are classified here so no caller has to.
     */
    public static Kind kindOf(Throwable t) {
        if (t instanceof JvmmException e) return e.errorKind();
        if (t instanceof KvmUnavailableException) return Kind.NO_KVM;
        if (t instanceof KvmException) return Kind.HOST_ERROR;
        return null;
    }

    // Messages quote paths and OS texts, either of which may carry control characters; the CLI
    // promises one line on stderr.
    static String oneLine(String s) {
        if (s == null) return null;
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            b.append(Character.isISOControl(c) ? ' ' : c);
        }
        return b.toString();
    }
}
