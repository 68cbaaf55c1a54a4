package dev.jvmm.core.vm;

import dev.jvmm.core.JvmmException;
import dev.jvmm.core.api.ControlException;
import dev.jvmm.core.api.ControlTarget;
import dev.jvmm.core.api.HypercallCount;
import dev.jvmm.core.api.HypercallStats;
import dev.jvmm.core.api.SharedRegion;
import dev.jvmm.core.api.SharedRegionPage;
import dev.jvmm.core.api.VcpuStolenTime;
import dev.jvmm.core.api.VmStatus;
import dev.jvmm.core.firmware.StolenTimeRecords;
import dev.jvmm.core.hypercall.SmcccNames;
import dev.jvmm.core.hypercall.sdei.SdeiSnapshot;
import dev.jvmm.core.hypercall.sdei.SignalOutcome;
import dev.jvmm.core.hypercall.shared.SharedRegionSet;
import dev.jvmm.kvm.KvmException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The control API's view of a {@link Machine}: status, stop, pause and resume, stolen time, and the
 * hypercall services (SDEI injection, the shared-region list, the SMCCC call counters). A service
 * the VM was built without (--sdei, --shared-regions, PV time) answers "not available in this VM".
 */
public final class MachineControl implements ControlTarget {
    private final Machine machine;
    private final String kernel;

    /**
     * @param kernel the kernel path as the user gave it, shown by {@code status}; may be null
     */
    public MachineControl(Machine machine, String kernel) {
        this.machine = machine;
        this.kernel = kernel;
    }

    @Override
    public VmStatus status() {
        VmStatus.State state;
        if (machine.isStopping()) state = VmStatus.State.STOPPING;
        else if (machine.isPaused()) state = VmStatus.State.PAUSED;
        else if (machine.hasStarted()) state = VmStatus.State.RUNNING;
        else state = VmStatus.State.STARTING;
        VmConfig c = machine.config();
        return new VmStatus(
                state,
                c.cpus(),
                c.memoryBytes(),
                machine.uptime(),
                ProcessHandle.current().pid(),
                kernel);
    }

    @Override
    public void stop() {
        machine.stop(
                VmResult.of(VmResult.Reason.STOPPED_BY_API, "stopped through the control API"));
    }

    @Override
    public boolean pause() throws ControlException {
        try {
            return machine.pause();
        } catch (PauseException e) {
            throw new ControlException(e.getMessage());
        }
    }

    @Override
    public boolean resume() {
        return machine.resume();
    }

    @Override
    public long snapshot(String dir, boolean stop) throws ControlException {
        try {
            return machine.snapshot(Path.of(dir), stop);
        } catch (PauseException | JvmmException e) {
            throw new ControlException(e.getMessage());
        } catch (InvalidPathException e) {
            throw new ControlException("snapshot " + dir + ": not a valid path");
        } catch (KvmException e) { // a KVM call outside the parts' saving (pause, resume)
            throw new ControlException(
                    "snapshot failed: " + e.getMessage() + "; no snapshot was written");
        }
    }

    /**
     * Raises the event; returns once it is pending (the target vCPU takes it when SDEI allows). An
     * event the guest has not registered is dropped, as firmware drops it, and reported as an error
     * so that {@code jvmm ctl sdei-signal} does not claim a delivery that cannot happen.
     */
    @Override
    public void sdeiSignal(long event, int cpu) throws ControlException {
        SdeiSnapshot sdei =
                machine.sdeiState()
                        .orElseThrow(
                                () ->
                                        ControlException.notAvailable(
                                                "SDEI is off (run it with --sdei)"));
        SignalOutcome o;
        try {
            o = machine.sdeiSignal((int) event, cpu);
        } catch (IllegalArgumentException e) {
            throw new ControlException(e.getMessage());
        }
        if (o == SignalOutcome.NOT_REGISTERED) {
            boolean shared =
                    sdei.events().stream()
                            .anyMatch(ev -> ev.number() == (int) event && ev.shared());
            throw new ControlException(
                    "SDEI event "
                            + event
                            + " is not registered by the guest"
                            + (shared ? "" : " on vCPU " + cpu)
                            + ": the signal was dropped");
        }
    }

    @Override
    public SharedRegionPage sharedRegions(long fromIpa, int limit) throws ControlException {
        SharedRegionSet.Page p =
                machine.sharedRegions()
                        .orElseThrow(
                                () ->
                                        ControlException.notAvailable(
                                                "the shared-region service is off (run it with --shared-regions)"))
                        .regions(fromIpa, limit);
        return new SharedRegionPage(
                p.regions().stream().map(r -> new SharedRegion(r.start(), r.size())).toList(),
                p.totalRegions(),
                p.totalBytes(),
                p.next());
    }

    @Override
    public List<VcpuStolenTime> stolenTime() throws ControlException {
        StolenTimeRecords records =
                machine.stolenTime()
                        .orElseThrow(
                                () ->
                                        ControlException.notAvailable(
                                                "PV stolen time is off (--no-pvtime, --hypercalls without pv-time, or the host lacks it)"));
        return stolenTime(records);
    }

    /**
     * Each vCPU's record as KVM last wrote it (the guest cannot write there: the records are
     * outside RAM).
     */
    static List<VcpuStolenTime> stolenTime(StolenTimeRecords records) {
        long[] ns = records.stolenNanos();
        List<VcpuStolenTime> list = new ArrayList<>(ns.length);
        for (int cpu = 0; cpu < ns.length; cpu++) list.add(new VcpuStolenTime(cpu, ns[cpu]));
        return list;
    }

    /**
     * Every forwarded call so far (SDEI, shared regions, denied ranges), by function ID; empty when
     * none.
     */
    @Override
    public HypercallStats hypercallStats() {
        List<HypercallCount> list = new ArrayList<>();
        machine.hypercallCounts()
                .forEach((id, n) -> list.add(new HypercallCount(id, SmcccNames.of(id), n)));
        return new HypercallStats(list, machine.otherHypercalls());
    }
}
