package dev.jvmm.core.fdt;

/**
 * Token for a node opened by {@link FdtWriter#beginNode}; hand it back to {@link
 * FdtWriter#endNode}. It carries a serial number rather than only a depth, so ending a sibling's
 * stale token (same depth, different node) is caught instead of silently accepted.
 */
public final class FdtNode {
    private final FdtWriter owner;
    private final long serial;
    private final String name;

    FdtNode(FdtWriter owner, long serial, String name) {
        this.owner = owner;
        this.serial = serial;
        this.name = name;
    }

    FdtWriter owner() {
        return owner;
    }

    long serial() {
        return serial;
    }

    /** The node's name as given to {@code beginNode} ({@code ""} for the root). */
    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return name.isEmpty() ? "/" : name;
    }
}
