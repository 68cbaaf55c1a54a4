package dev.jvmm.core.hypercall;

import java.util.List;

/**
 * A userspace SMCCC service (SDEI, shared regions, ...). It claims function-ID ranges with the
 * {@link SmcccRouter}, which installs them as KVM_SMCCC_FILTER_FWD_TO_USER and calls {@link #call}
 * for every forwarded call in them, on the calling vCPU's thread. Services must be thread-safe:
 * vCPUs call concurrently. A service never moves the PC (KVM already advanced it past the HVC/SMC).
 */
public interface SmcccService {
    /** Short name for messages and statistics ("sdei", "shared-regions"). */
    String name();

    /** The function IDs this service answers; ranges of different services must not overlap. */
    List<FunctionRange> claims();

    /**
     * Handles one call; IDs inside a claim that the service does not implement get NOT_SUPPORTED.
     */
    SmcccResult call(SmcccCall call);

    /**
     * Runs after the router wrote the result, still on the calling vCPU's thread: the point where a
     * service may switch the vCPU to another context (SDEI delivers an event the call made
     * pending).
     */
    default void afterCall(SmcccCall call) {}
}
