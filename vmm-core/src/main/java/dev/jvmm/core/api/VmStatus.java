package dev.jvmm.core.api;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * The answer to {@code status}.
 *
 * @param uptime time since the guest first started running (zero while {@link State#STARTING})
 * @param pid the jvmm process, so a script can wait for it after {@code stop}
 * @param kernel the kernel image the VM booted, as given on the command line; null if unknown
 */
public record VmStatus(
        State state, int cpus, long memoryBytes, Duration uptime, long pid, String kernel) {
    public enum State {
        /** Built, the vCPUs not yet started. */
        STARTING,
        /** The guest is running. */
        RUNNING,
        /** The guest is paused (jvmm ctl pause): no vCPU runs until resume. */
        PAUSED,
        /** A stop was requested or decided; the process is about to exit. */
        STOPPING;

        /** The lower-case name used on the wire and on screen. */
        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public VmStatus {
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(uptime, "uptime");
    }
}
