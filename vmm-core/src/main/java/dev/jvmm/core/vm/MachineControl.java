package dev.jvmm.core.vm;

import dev.jvmm.core.api.ControlException;
import dev.jvmm.core.api.ControlTarget;
import dev.jvmm.core.api.HypercallCount;
import dev.jvmm.core.api.SharedRegion;
import dev.jvmm.core.api.VcpuStolenTime;
import dev.jvmm.core.api.VmStatus;
import dev.jvmm.core.firmware.StolenTimeRecords;

import java.util.ArrayList;
import java.util.List;

/**
 * The control API's view of a {@link Machine}: status, stop and stolen time come from the Machine
 * itself; the other hypercall-backed commands answer "not available in this VM" until the services
 * behind them (SDEI dispatcher, shared-region service, SMCCC forwarding counters) exist and are
 * handed in here. Each of those three methods is the one place to connect its service.
 */
public final class MachineControl implements ControlTarget {
    private final Machine machine;
    private final String kernel;

    /** @param kernel the kernel path as the user gave it, shown by {@code status}; may be null */
    public MachineControl(Machine machine, String kernel) {
        this.machine = machine;
        this.kernel = kernel;
    }

    @Override
    public VmStatus status() {
        VmStatus.State state = machine.isStopping() ? VmStatus.State.STOPPING
                : machine.hasStarted() ? VmStatus.State.RUNNING : VmStatus.State.STARTING;
        VmConfig c = machine.config();
        return new VmStatus(state, c.cpus(), c.memoryBytes(), machine.uptime(), ProcessHandle.current().pid(), kernel);
    }

    @Override
    public void stop() {
        machine.stop(VmResult.of(VmResult.Reason.STOPPED_BY_API, "stopped through the control API"));
    }

    @Override
    public void sdeiSignal(long event, int cpu) throws ControlException {
        throw ControlException.notAvailable("jvmm has no SDEI dispatcher yet");
    }

    @Override
    public List<SharedRegion> sharedRegions() throws ControlException {
        throw ControlException.notAvailable("jvmm has no shared-region service yet");
    }

    @Override
    public List<VcpuStolenTime> stolenTime() throws ControlException {
        StolenTimeRecords records = machine.stolenTime().orElseThrow(() -> ControlException.notAvailable(
                "PV stolen time is off (--no-pvtime, --hypercalls without pv-time, or the host lacks it)"));
        return stolenTime(records);
    }

    /** Each vCPU's record as KVM last wrote it (the guest cannot write there: the records are outside RAM). */
    static List<VcpuStolenTime> stolenTime(StolenTimeRecords records) {
        long[] ns = records.stolenNanos();
        List<VcpuStolenTime> list = new ArrayList<>(ns.length);
        for (int cpu = 0; cpu < ns.length; cpu++) list.add(new VcpuStolenTime(cpu, ns[cpu]));
        return list;
    }

    @Override
    public List<HypercallCount> hypercallStats() throws ControlException {
        throw ControlException.notAvailable("jvmm forwards no hypercalls to userspace yet");
    }
}
