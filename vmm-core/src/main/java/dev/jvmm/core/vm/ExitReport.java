package dev.jvmm.core.vm;

import dev.jvmm.core.device.ConsoleOutput;
import dev.jvmm.core.hypercall.HypercallServices;
import dev.jvmm.core.hypercall.Smccc;
import java.lang.System.Logger.Level;
import java.util.SortedMap;
import java.util.stream.Collectors;

/** What the end of a run logs: console bytes lost, forwarded hypercalls, shared regions. */
final class ExitReport {
    private static final System.Logger LOG = System.getLogger("jvmm.vm");

    /** Shared regions the exit log lists; the rest are only counted. */
    private static final int LOGGED_REGIONS = 8;

    private ExitReport() {}

    /**
     * Gives the console's reader a bounded time to take what is buffered, and reports what it lost.
     */
    static void drainConsole(ConsoleOutput consoleOut) throws InterruptedException {
        consoleOut.drain(ConsoleOutput.DRAIN_WAIT);
        long dropped = consoleOut.dropped() + consoleOut.buffered();
        if (dropped > 0) {
            LOG.log(
                    Level.WARNING,
                    "console: "
                            + dropped
                            + " bytes of guest output dropped (its reader did not keep up"
                            + " or failed)");
        }
    }

    /**
     * What a post-mortem would want: the forwarded calls and a summary of the shared regions at
     * exit (their number and size, and the first few: the log must not grow with what the guest
     * shared).
     */
    static void logHypercalls(HypercallServices hypercalls) {
        SortedMap<Long, Long> counts = hypercalls.router().callCounts();
        long other = hypercalls.router().otherCalls();
        if (!counts.isEmpty()) {
            LOG.log(
                    Level.INFO,
                    "forwarded hypercalls: "
                            + counts.entrySet().stream()
                                    .map(e -> Smccc.hex(e.getKey()) + " x" + e.getValue())
                                    .collect(Collectors.joining(", "))
                            + (other > 0 ? ", other IDs x" + other : ""));
        }
        hypercalls
                .sharedRegions()
                .map(s -> s.regions())
                .ifPresent(
                        s ->
                                LOG.log(
                                        Level.INFO,
                                        "shared regions at exit: " + s.summary(LOGGED_REGIONS)));
    }
}
