package dev.jvmm.core.hypercall.sdei;

import static dev.jvmm.core.hypercall.sdei.Sdei.STATUS_ENABLED;
import static dev.jvmm.core.hypercall.sdei.Sdei.STATUS_REGISTERED;
import static dev.jvmm.core.hypercall.sdei.Sdei.STATUS_RUNNING;

/**
 * The SDEI handler state machine (DEN0054 6.1; the same transitions as TF-A's sdei_state.c). A
 * state is the EVENT_STATUS bit set: registered, enabled, running. Enabled without registered never
 * occurs.
 */
enum EventState {
    REGISTER,
    ENABLE,
    DISABLE,
    UNREGISTER,
    ROUTING_SET,
    CONTEXT,
    COMPLETE,
    COMPLETE_AND_RESUME,
    DISPATCH;

    /** Refused transition. */
    static final int DENY = -1;

    private static final int G = STATUS_REGISTERED, E = STATUS_ENABLED, R = STATUS_RUNNING;

    /**
     * The state after this action from {@code state}, {@code state} itself for a permitted no-op,
     * or {@link #DENY}.
     */
    int next(int state) {
        return switch (state) {
            case 0 -> this == REGISTER ? G : DENY;
            case G ->
                    switch (this) {
                        case ENABLE -> G | E;
                        case DISABLE, ROUTING_SET -> state;
                        case UNREGISTER -> 0;
                        default -> DENY;
                    };
            case G | E ->
                    switch (this) {
                        case ENABLE -> state;
                        case DISABLE -> G;
                        case UNREGISTER -> 0;
                        case DISPATCH -> G | E | R;
                        default -> DENY;
                    };
            case R ->
                    switch (this) { // unregistered while running
                        case CONTEXT -> state;
                        case COMPLETE, COMPLETE_AND_RESUME -> 0;
                        default -> DENY;
                    };
            case R | G ->
                    switch (this) {
                        case ENABLE -> R | G | E;
                        case DISABLE, CONTEXT -> state;
                        case UNREGISTER -> R;
                        case COMPLETE, COMPLETE_AND_RESUME -> G;
                        default -> DENY;
                    };
            case R | G | E ->
                    switch (this) {
                        case ENABLE, CONTEXT -> state;
                        case DISABLE -> R | G;
                        case UNREGISTER -> R;
                        case COMPLETE, COMPLETE_AND_RESUME -> G | E;
                        default -> DENY;
                    };
            default -> DENY;
        };
    }

    static boolean registered(int state) {
        return (state & G) != 0;
    }

    static boolean enabled(int state) {
        return (state & E) != 0;
    }

    static boolean running(int state) {
        return (state & R) != 0;
    }
}
