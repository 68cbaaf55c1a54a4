package dev.jvmm.core.hypercall.sdei;

import java.util.List;

/**
 * What a snapshot keeps of the {@link SdeiDispatcher}: none of it is in KVM, and a guest that uses
 * SDEI (Linux registers event 0 at boot) breaks without it. The event and instance records are the
 * control API's ({@link SdeiSnapshot}); an instance that is running but no longer registered is an
 * unregister the handler's completion will finish, and a pending event 0 instance is an
 * EVENT_SIGNAL not yet delivered. On top of the API's view this holds each PE's dispatch stack with
 * the interrupted contexts the handlers will return to.
 *
 * @param version the SDEI version the guest was told
 * @param events the offered events with their instances; event 0 first, then by number
 * @param pes one per vCPU, index order
 */
public record SdeiState(long version, List<SdeiSnapshot.Event> events, List<Pe> pes) {
    /**
     * One PE.
     *
     * @param running the handlers it runs, outermost first (a normal one, a critical one on top)
     */
    public record Pe(int cpu, long mpidr, boolean masked, List<Dispatch> running) {}

    /**
     * One handler running on a PE and the context it interrupted.
     *
     * @param x the interrupted x0..x17
     */
    public record Dispatch(int event, List<Long> x, long pc, long pstate) {}
}
