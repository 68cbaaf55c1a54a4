package dev.jvmm.core.api;

/** A control request the VM cannot serve; the message (one line) is what the client shows. */
public final class ControlException extends Exception {
    public ControlException(String message) {
        super(message);
    }

    /**
     * The standard refusal for a feature this VM was not built with: {@code not available in this
     * VM: REASON}.
     */
    public static ControlException notAvailable(String reason) {
        return new ControlException("not available in this VM: " + reason);
    }
}
