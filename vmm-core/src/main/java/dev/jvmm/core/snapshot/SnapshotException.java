package dev.jvmm.core.snapshot;

import dev.jvmm.core.JvmmException;

/**
 * A snapshot that cannot be written, read or applied: one line naming the snapshot's file or part
 * and what is wrong. A damaged or incompatible snapshot, or a destination host that cannot give the
 * guest what the snapshot says it had, is {@link Kind#USAGE} or {@link Kind#HOST_UNSUPPORTED} (exit
 * 2, nothing ran); a failing write or read of the files is {@link Kind#HOST_ERROR}.
 */
public final class SnapshotException extends JvmmException {
    public SnapshotException(Kind kind, String message) {
        super(kind, message);
    }

    public SnapshotException(Kind kind, String message, Throwable cause) {
        super(kind, message, cause);
    }

    /** A snapshot whose content does not fit the part it is applied to (damaged or hostile). */
    public static SnapshotException invalid(String part, String what) {
        return new SnapshotException(Kind.USAGE, "snapshot: " + part + ": " + what);
    }
}
