package dev.jvmm.core.vm;

import dev.jvmm.core.arch.aarch64.CpuFeatures;
import dev.jvmm.core.firmware.FirmwareConfig;
import dev.jvmm.core.hypercall.HypercallConfig;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Objects;

/**
 * A validated run request. The CLI builds it from options; nothing here touches KVM. The kernel and
 * initrd are not here: they travel as the {@code BootImages} that validated them.
 *
 * @param timeout null for none
 * @param consoleOut where the serial console's bytes go (stdout, a file, or nowhere)
 * @param firmware hypercall services, PV stolen time, PSCI version
 * @param memLock pre-fault and pin guest memory before the first run (--mem-lock)
 * @param hypercalls SMCCC calls served by jvmm: SDEI, shared regions, deny ranges
 * @param cpu vCPU features and interrupt controller
 */
public record VmConfig(
        String cmdline,
        int cpus,
        long memoryBytes,
        OnReset onReset,
        Duration timeout,
        OutputStream consoleOut,
        FirmwareConfig firmware,
        boolean memLock,
        HypercallConfig hypercalls,
        CpuFeatures cpu) {
    /** The same request with the vCPU features the VM was built with. */
    public VmConfig withCpu(CpuFeatures built) {
        return new VmConfig(
                cmdline,
                cpus,
                memoryBytes,
                onReset,
                timeout,
                consoleOut,
                firmware,
                memLock,
                hypercalls,
                built);
    }

    public enum OnReset {
        EXIT,
        REBOOT
    }

    public VmConfig {
        Objects.requireNonNull(cmdline, "cmdline");
        Objects.requireNonNull(onReset, "onReset");
        Objects.requireNonNull(consoleOut, "consoleOut");
        Objects.requireNonNull(firmware, "firmware");
        Objects.requireNonNull(hypercalls, "hypercalls");
        Objects.requireNonNull(cpu, "cpu");
        if (cpus < 1) throw new IllegalArgumentException("cpus must be at least 1");
    }

    /** kvmtool's default vCPU features and interrupt controller. */
    public VmConfig(
            String cmdline,
            int cpus,
            long memoryBytes,
            OnReset onReset,
            Duration timeout,
            OutputStream consoleOut,
            FirmwareConfig firmware,
            boolean memLock,
            HypercallConfig hypercalls) {
        this(
                cmdline,
                cpus,
                memoryBytes,
                onReset,
                timeout,
                consoleOut,
                firmware,
                memLock,
                hypercalls,
                CpuFeatures.DEFAULT);
    }

    /** No userspace hypercall services. */
    public VmConfig(
            String cmdline,
            int cpus,
            long memoryBytes,
            OnReset onReset,
            Duration timeout,
            OutputStream consoleOut,
            FirmwareConfig firmware,
            boolean memLock) {
        this(
                cmdline,
                cpus,
                memoryBytes,
                onReset,
                timeout,
                consoleOut,
                firmware,
                memLock,
                HypercallConfig.NONE);
    }

    /** KVM's default firmware, memory not locked, no userspace hypercall services. */
    public VmConfig(
            String cmdline,
            int cpus,
            long memoryBytes,
            OnReset onReset,
            Duration timeout,
            OutputStream consoleOut) {
        this(
                cmdline,
                cpus,
                memoryBytes,
                onReset,
                timeout,
                consoleOut,
                FirmwareConfig.DEFAULT,
                false);
    }
}
