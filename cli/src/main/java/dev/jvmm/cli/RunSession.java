package dev.jvmm.cli;

import dev.jvmm.cli.term.ConsoleInput;
import dev.jvmm.cli.term.RawTerminal;
import dev.jvmm.core.virtio.console.VirtioConsoleDevice;
import dev.jvmm.core.vm.Machine;
import dev.jvmm.core.vm.VmResult;
import java.io.PrintStream;
import sun.misc.Signal;

/**
 * One guest run as the user sees it: SIGINT/SIGTERM stop the guest cleanly (exit 128+signal), the
 * outcome becomes the documented exit code, and anything but a power-off is explained on stderr.
 * The signal handlers are the JVM's own Java-level ones (sun.misc.Signal), never an FFM upcall.
 */
final class RunSession {
    /**
     * If a signalled VM has not stopped by then, exit anyway: the process must end in bounded time.
     */
    private static final long SIGNAL_GRACE_MILLIS = 10_000;

    private final Machine machine;
    private final boolean interactive;

    RunSession(Machine machine, boolean interactive) {
        this.machine = machine;
        this.interactive = interactive;
    }

    @SuppressWarnings(
            "try") // tty and in are held only for their scope: raw mode and console input while the
    // guest runs
    int run() throws InterruptedException {
        installSignal("INT");
        installSignal("TERM");
        installSignal("HUP");
        VmResult r;
        if (interactive) {
            // raw mode only when the console really reads stdin, and restored on every path (also
            // by a hook)
            try (RawTerminal tty = RawTerminal.enterStdin();
                    ConsoleInput in =
                            ConsoleInput.stdin(
                                            consoleSink(),
                                            () ->
                                                    machine.stop(
                                                            VmResult.signal(
                                                                    2,
                                                                    "quit from the console (Ctrl-A x)")))
                                    .start()) {
                r = machine.run();
            }
        } else {
            r = machine.run();
        }
        int code = RunCommand.exitCode(r);
        PrintStream err = System.err;
        if (r.reason() != VmResult.Reason.POWEROFF)
            err.println("jvmm: " + r.detail() + " (exit " + code + ")");
        return code;
    }

    /**
     * Input goes to whichever device carries the console: virtio-console (hvc0) if there is one,
     * else the UART.
     */
    private ConsoleInput.Sink consoleSink() {
        VirtioConsoleDevice hvc = machine.virtio().console();
        return hvc != null ? ConsoleInput.Sink.of(hvc) : ConsoleInput.Sink.of(machine.uart());
    }

    private void installSignal(String name) {
        try {
            Signal.handle(
                    new Signal(name),
                    s -> {
                        machine.stop(VmResult.signal(s.getNumber(), "stopped by SIG" + name));
                        Thread.ofPlatform()
                                .daemon(true)
                                .start(
                                        () -> {
                                            try {
                                                Thread.sleep(SIGNAL_GRACE_MILLIS);
                                            } catch (InterruptedException e) {
                                                return;
                                            }
                                            System.err.println(
                                                    "jvmm: the guest did not stop within "
                                                            + SIGNAL_GRACE_MILLIS / 1000
                                                            + " s of SIG"
                                                            + name
                                                            + "; exiting");
                                            Runtime.getRuntime().halt(128 + s.getNumber());
                                        });
                    });
        } catch (IllegalArgumentException e) {
            // the JVM reserves this signal (e.g. with -Xrs); the default action applies
        }
    }
}
