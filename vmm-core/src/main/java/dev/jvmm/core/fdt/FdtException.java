package dev.jvmm.core.fdt;

/**
 * A device tree could not be written. Unchecked: every cause is a bug in the code that builds the
 * tree or an invalid string that should have been rejected with the user's input, so callers rarely
 * recover; {@link #kind()} lets tests and callers tell the causes apart without parsing text. The
 * kinds mirror rust-vmm vm-fdt's {@code Error} variants, plus the checks it leaves out.
 */
public final class FdtException extends RuntimeException {

    /** What went wrong. */
    public enum Kind {
        PROPERTY_BEFORE_BEGIN_NODE,
        PROPERTY_AFTER_CHILD_NODE,
        DUPLICATE_PROPERTY,
        PROPERTY_VALUE_TOO_LARGE,
        TOTAL_SIZE_TOO_LARGE,
        INVALID_STRING,
        OUT_OF_ORDER_END_NODE,
        UNCLOSED_NODE,
        MISSING_ROOT_NODE,
        SECOND_ROOT_NODE,
        INVALID_MEMORY_RESERVATION,
        OVERLAPPING_MEMORY_RESERVATIONS,
        INVALID_NODE_NAME,
        DUPLICATE_NODE_NAME,
        INVALID_PROPERTY_NAME,
        NODE_DEPTH_TOO_LARGE,
        INVALID_PHANDLE,
        DUPLICATE_PHANDLE,
        FINISHED
    }

    private final Kind kind;

    public FdtException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
