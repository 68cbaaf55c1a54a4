package dev.jvmm.core.vm;

/** A part of the machine could not be paused; the message says which and why, in one line. */
public final class PauseException extends Exception {
    private static final long serialVersionUID = 1L;

    private final boolean timedOut;

    public PauseException(String message) {
        this(message, false);
    }

    /**
     * @param timedOut the part did not come to rest by the deadline (the message then says what did
     *     not happen, and the machine adds the bound)
     */
    public PauseException(String message, boolean timedOut) {
        super(message);
        this.timedOut = timedOut;
    }

    public boolean timedOut() {
        return timedOut;
    }
}
