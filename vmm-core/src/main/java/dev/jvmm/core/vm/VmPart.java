package dev.jvmm.core.vm;

/**
 * One piece of a running machine in the lifecycle order ({@code ../shared/design/ARCHITECTURE.md},
 * "Lifecycle and state"): vCPUs, guest counter, virtio devices, UART, and later vGIC/ITS, memory,
 * the PV-time page, the SDEI dispatcher, the shared-region set and the SMCCC router. The machine
 * pauses its parts in list order (vCPUs first, so nothing the guest does reaches a device being
 * quiesced) and resumes them in reverse. This slice needs only pause and resume; saving and
 * restoring a state record per part comes with snapshots.
 */
public interface VmPart {
    /** For messages and logs, e.g. {@code vcpus} or {@code virtio-mmio@0xa000000:virtio-blk}. */
    String name();

    /**
     * Brings the part to rest by {@code deadlineNanos} (a {@link System#nanoTime()} value): no more
     * guest-visible change starts from it until {@link #resume}. On failure the part is left as
     * before the call (running) and the machine resumes the parts it already paused.
     *
     * @throws PauseException naming what did not come to rest
     */
    void pause(long deadlineNanos) throws PauseException;

    /** Undoes {@link #pause}; called only after a successful pause. Never fails the VM. */
    void resume();
}
