package dev.jvmm.core.vm;

import dev.jvmm.core.api.ControlException;
import dev.jvmm.core.api.ControlTarget;
import dev.jvmm.core.api.HypercallCount;
import dev.jvmm.core.api.SharedRegion;
import dev.jvmm.core.api.VcpuStolenTime;
import dev.jvmm.core.api.VmStatus;

import java.util.List;

/**
 * The control API's view of a {@link Machine}: status and stop come from the Machine itself; the
 * hypercall-backed commands answer "not available in this VM" until the services behind them
 * (SDEI dispatcher, shared-region service, PV stolen time, SMCCC forwarding counters) exist and are
 * handed in here. Each of those four methods is the one place to connect its service.
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
        throw ControlException.notAvailable("jvmm has no PV stolen time yet");
    }

    @Override
    public List<HypercallCount> hypercallStats() throws ControlException {
        throw ControlException.notAvailable("jvmm forwards no hypercalls to userspace yet");
    }
}
