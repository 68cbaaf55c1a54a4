package dev.jvmm.core.hypercall.sdei;

import java.util.List;

/**
 * A consistent, read-only picture of the SDEI dispatcher (for the control API and logs).
 *
 * @param pes one per vCPU, index order
 * @param events every event jvmm offers, by number; event 0 first
 */
public record SdeiSnapshot(List<Pe> pes, List<Event> events) {
    /**
     * One PE: whether it is masked and which handlers it is running.
     *
     * @param running the events whose handlers this PE is running, outermost first (at most a
     *     normal and a critical one)
     */
    public record Pe(int cpu, long mpidr, boolean masked, List<Integer> running) {}

    /**
     * One event jvmm offers, with its registration state.
     *
     * @param instances one per PE for a private event (index = cpu), one for a shared event
     */
    public record Event(int number, boolean shared, boolean critical, List<Instance> instances) {}

    /**
     * One registration of an event: a private event has one per PE, a shared event one.
     *
     * @param cpu the owning PE of a private instance, -1 for a shared event
     * @param runningOn the PE running its handler, -1 when none
     * @param routingMode {@link Sdei#RM_ANY} or {@link Sdei#RM_PE} (always RM_PE for private
     *     events)
     * @param affinity target MPIDR affinity when routed to a PE
     * @param dispatches how many times the handler was entered
     */
    public record Instance(
            int cpu,
            boolean registered,
            boolean enabled,
            boolean running,
            boolean pending,
            int runningOn,
            long entryPoint,
            long argument,
            long routingMode,
            long affinity,
            long dispatches) {}
}
