package dev.jvmm.core.vm;

import java.lang.System.Logger.Level;
import java.time.Instant;

/**
 * Where a start's time goes: at {@code --log-level debug}, one line per step of a {@code jvmm run}
 * up to the first {@code KVM_RUN}, each with the milliseconds since the process started (the
 * launcher's exec included, from {@code /proc}: 10 ms resolution), so a slow start in the lab can
 * be split into the JVM's own start and jvmm's steps without a profiler. Costs nothing below debug.
 */
public final class StartupLog {
    private static final System.Logger LOG = System.getLogger("jvmm.startup");

    private StartupLog() {}

    /** Logs that {@code step} is done, with the time since the process started. */
    public static void mark(String step) {
        if (!LOG.isLoggable(Level.DEBUG)) return;
        long ms =
                ProcessHandle.current()
                        .info()
                        .startInstant()
                        .map(s -> Instant.now().toEpochMilli() - s.toEpochMilli())
                        .orElse(-1L);
        LOG.log(Level.DEBUG, "start-up: " + step + " at " + ms + " ms");
    }
}
