package dev.jvmm.core.hypercall.sdei;

/**
 * One instance of an event: per PE for a private event, the only one for a shared event. Guarded by
 * the dispatcher's lock.
 */
final class EventEntry {
    final SdeiEventSpec spec;

    /** The PE owning a private instance; -1 for a shared event. */
    final int owner;

    int state;
    long entryPoint;
    long argument;
    long routingMode;
    long affinity;

    /** Triggered and waiting for a PE that can take it. */
    boolean pending;

    /** The PE running the handler, -1 when none. */
    int runningOn = -1;

    long dispatches;

    EventEntry(SdeiEventSpec spec, int owner) {
        this.spec = spec;
        this.owner = owner;
    }

    void clearRegistration() {
        entryPoint = 0;
        argument = 0;
        routingMode = 0;
        affinity = 0;
        pending = false;
    }

    void reset() {
        clearRegistration();
        state = 0;
        runningOn = -1;
        dispatches = 0;
    }
}
