package dev.jvmm.core.api;

import java.util.List;

/**
 * What the control API can ask of a running VM. {@link ApiServer} calls these from one thread per
 * client connection, so an implementation must be safe to call concurrently (and with the vCPUs
 * running). A request the VM cannot serve throws {@link ControlException}; its message becomes the
 * {@code "error"} of the response and the server keeps running.
 */
public interface ControlTarget {
    /** State, size and age of the VM. */
    VmStatus status() throws ControlException;

    /**
     * Asks the VM to stop and returns without waiting: the run ends as if the guest had powered off
     * (the CLI exits 0). A second call, or a call while already stopping, changes nothing.
     */
    void stop() throws ControlException;

    /**
     * Pauses the guest and returns once it is at rest (vCPUs parked, devices quiesced, disks
     * flushed); true if this call paused it, false if it was already paused. A pause that cannot
     * complete in bounded time throws and leaves the VM running.
     */
    boolean pause() throws ControlException;

    /**
     * Lets a paused guest continue where it stopped; true if this call resumed it, false if it was
     * not paused.
     */
    boolean resume() throws ControlException;

    /**
     * Writes a snapshot of the guest to directory {@code dir} (absolute; it must not exist or be
     * empty): pauses it if it runs, saves its state and memory, then resumes it, or with {@code
     * stop} ends the run (exit 0). Returns the bytes written.
     */
    default long snapshot(String dir, boolean stop) throws ControlException {
        throw ControlException.notAvailable("this VM cannot be snapshotted");
    }

    /**
     * Raises SDEI event {@code event} on vCPU {@code cpu} (event 0 is the software-signalled
     * event).
     */
    void sdeiSignal(long event, int cpu) throws ControlException;

    /**
     * At most {@code limit} of the guest's shared memory regions, coalesced and sorted by IPA, from
     * the granule holding {@code fromIpa} on, with the totals of the whole set.
     */
    SharedRegionPage sharedRegions(long fromIpa, int limit) throws ControlException;

    /** Stolen time per vCPU, in vCPU order; throws when PV stolen time is off for this VM. */
    List<VcpuStolenTime> stolenTime() throws ControlException;

    /**
     * How often the guest called each forwarded SMCCC function ID, sorted by function ID (bounded:
     * see {@link HypercallStats}).
     */
    HypercallStats hypercallStats() throws ControlException;
}
