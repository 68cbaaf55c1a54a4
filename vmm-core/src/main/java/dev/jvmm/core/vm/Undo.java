package dev.jvmm.core.vm;

import java.util.List;

/**
 * Releases what a failed build had acquired, newest first, without losing the failure that caused
 * it.
 */
final class Undo {
    private Undo() {}

    /**
     * Closes {@code acquired} in reverse order; each close failure is added to {@code cause} as
     * suppressed.
     */
    static void unwind(List<? extends AutoCloseable> acquired, Throwable cause) {
        for (int i = acquired.size() - 1; i >= 0; i--) {
            try {
                acquired.get(i).close();
            } catch (Exception suppressed) {
                cause.addSuppressed(suppressed);
            }
        }
    }
}
