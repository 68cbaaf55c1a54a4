package dev.jvmm.core.vm;

import java.io.OutputStream;
import java.time.Duration;
import java.util.Objects;

/**
 * A validated run request. The CLI builds it from options; nothing here touches KVM. The kernel and
 * initrd are not here: they travel as the {@code BootImages} that validated them.
 *
 * @param timeout     null for none
 * @param consoleOut  where the serial console's bytes go (stdout, a file, or nowhere)
 */
public record VmConfig(String cmdline, int cpus, long memoryBytes,
                       OnReset onReset, Duration timeout, OutputStream consoleOut) {
    public enum OnReset { EXIT, REBOOT }

    public VmConfig {
        Objects.requireNonNull(cmdline, "cmdline");
        Objects.requireNonNull(onReset, "onReset");
        Objects.requireNonNull(consoleOut, "consoleOut");
        if (cpus < 1) throw new IllegalArgumentException("cpus must be at least 1");
    }
}
