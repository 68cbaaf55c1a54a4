package dev.jvmm.core.virtio;

/**
 * A descriptor-chain violation found by {@link ChainWalker}; guest input, so no stack trace is
 * kept.
 */
final class ChainException extends Exception {
    private final VirtioError kind;

    ChainException(VirtioError kind, String detail) {
        super(detail, null, false, false);
        this.kind = kind;
    }

    VirtioError kind() {
        return kind;
    }
}
