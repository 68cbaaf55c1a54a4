package dev.jvmm.core.hypercall.sdei;

/** What a host-injected event ({@link SdeiDispatcher#inject}) did. */
public enum SignalOutcome {
    /**
     * Now pending; delivered as soon as a target PE can take it (unmasked, enabled, priority
     * permits).
     */
    QUEUED,
    /** It was pending already; events do not queue up, the second trigger merges with the first. */
    ALREADY_PENDING,
    /**
     * The guest has not registered the event (on that PE, for a private one): dropped, as firmware
     * does.
     */
    NOT_REGISTERED
}
