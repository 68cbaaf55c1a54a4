package dev.jvmm.cli;

import dev.jvmm.core.api.ApiClient;
import dev.jvmm.core.api.ApiException;
import dev.jvmm.core.api.ControlProtocol;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiConsumer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code jvmm ctl --socket PATH COMMAND}: the client of a running {@code jvmm run --api-socket
 * PATH}. Sends one request and prints the answer (human-readable, or the raw JSON line with {@code
 * --json}). Exit 0 when the VM answered ok, 1 when it answered an error or cannot be reached, 2 on
 * bad usage.
 */
@Command(
        name = "ctl",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Control a running jvmm (one started with --api-socket PATH).",
            "Exit 0 on success, 1 when the VM answers an error or the socket cannot be reached, 2 on bad usage."
        })
final class CtlCommand implements Runnable {
    /**
     * A VM that does not answer within this is reported as an error rather than hanging a script.
     */
    static final Duration TIMEOUT = Duration.ofSeconds(10);

    /** A snapshot writes guest RAM: allow for a large guest on a slow disk. */
    static final Duration SNAPSHOT_TIMEOUT = Duration.ofMinutes(5);

    @Spec CommandSpec spec;

    @Option(
            names = "--socket",
            paramLabel = "PATH",
            scope = ScopeType.INHERIT,
            description = "The control socket given to jvmm run --api-socket.")
    Path socket;

    @Option(
            names = "--json",
            scope = ScopeType.INHERIT,
            description = "Print the VM's raw JSON response line.")
    boolean json;

    @Override
    public void run() {
        throw new UsageException(
                "ctl: a command is required: status, stop, pause, resume, snapshot, sdei-signal, shared-regions, "
                        + "stolen-time, hypercall-stats");
    }

    @Command(
            name = "status",
            description = "State, vCPUs, memory, uptime, pid and kernel of the VM.")
    int status() {
        return send(request("status"), CtlOutput::status);
    }

    @Command(name = "stop", description = "Stop the VM; its jvmm run exits 0.")
    int stop() {
        return send(request("stop"), (out, body) -> out.println("stopping"));
    }

    @Command(
            name = "pause",
            description = {
                "Pause the VM: returns once every vCPU is stopped outside the guest, in-flight disk "
                        + "requests have finished and writable disks are flushed. The guest's clock "
                        + "stands still while paused; --timeout keeps counting; stop still works. "
                        + "Pausing a paused VM changes nothing (exit 0). A vCPU or device that does not "
                        + "come to rest within 5 s fails the pause (exit 1) and the VM keeps running."
            })
    int pause() {
        return send(request("pause"), changed("paused", "already paused"));
    }

    @Command(
            name = "resume",
            description =
                    "Let a paused VM continue where it stopped. Resuming a running VM changes"
                            + " nothing (exit 0).")
    int resume() {
        return send(request("resume"), changed("resumed", "already running"));
    }

    /** Pause and resume answer whether they changed anything, which is not an error either way. */
    private static BiConsumer<PrintWriter, Map<String, Object>> changed(String yes, String no) {
        return (out, body) -> out.println(Boolean.TRUE.equals(body.get("changed")) ? yes : no);
    }

    @Command(
            name = "snapshot",
            description = {
                "Write a snapshot of the VM to DIR (which must not exist, or be an empty directory):"
                        + " the guest is paused, its state and memory are written (zero pages are"
                        + " holes), and it resumes, or with --stop the VM ends (its jvmm run exits 0)."
                        + " Restore it with jvmm run --restore DIR."
            })
    int snapshot(
            @Option(
                            names = "--dir",
                            required = true,
                            paramLabel = "DIR",
                            description = "The snapshot's directory.")
                    Path dir,
            @Option(names = "--stop", description = "End the VM once the snapshot is written.")
                    boolean stop) {
        Path abs = dir.toAbsolutePath().normalize(); // jvmm run's working directory is not ours
        if (Files.isDirectory(abs)) { // checked again by the VM; here it is a usage error
            try (var entries = Files.list(abs)) {
                if (entries.findAny().isPresent())
                    throw new UsageException(
                            "ctl snapshot: --dir "
                                    + abs
                                    + " is not empty; a snapshot never overwrites another");
            } catch (IOException e) {
                // the VM reports what it cannot read
            }
        } else if (Files.exists(abs)) {
            throw new UsageException(
                    "ctl snapshot: --dir " + abs + " exists and is not a directory");
        }
        Map<String, Object> req = request("snapshot");
        req.put("dir", abs.toString());
        if (stop) req.put("stop", true);
        return send(
                req,
                (out, body) ->
                        out.println(
                                "snapshot written to "
                                        + body.get("dir")
                                        + " ("
                                        + body.get("bytes")
                                        + " bytes)"
                                        + (stop ? "; the VM is stopping" : "")),
                SNAPSHOT_TIMEOUT);
    }

    @Command(
            name = "sdei-signal",
            description =
                    "Raise SDEI event EVENT on a vCPU (event 0: the software-signalled event).")
    int sdeiSignal(
            @Parameters(
                            paramLabel = "EVENT",
                            description = "Event number, 0..4294967295, decimal or 0x hex.")
                    String eventArg,
            @Option(
                            names = "--cpu",
                            paramLabel = "N",
                            defaultValue = "0",
                            description = "Target vCPU (default: ${DEFAULT-VALUE}).")
                    String cpuArg) {
        // parsed here rather than by picocli converters so that a bad value is one line, not one
        // line plus usage
        long event = parse(eventArg, 0xFFFF_FFFFL);
        if (event < 0)
            throw new UsageException(
                    "ctl sdei-signal: EVENT '"
                            + eventArg
                            + "' is not an SDEI event number (0..4294967295, decimal or 0x hex)");
        long cpu = parse(cpuArg, Integer.MAX_VALUE);
        if (cpu < 0)
            throw new UsageException(
                    "ctl sdei-signal: --cpu '" + cpuArg + "' is not a vCPU index (0, 1, ...)");
        Map<String, Object> req = request("sdei-signal");
        req.put("event", event);
        req.put("cpu", (int) cpu);
        return send(
                req,
                (out, body) -> out.println("signalled SDEI event " + event + " on cpu " + cpu));
    }

    @Command(
            name = "shared-regions",
            description = {
                "Guest memory the guest shared with the host: at most "
                        + ControlProtocol.MAX_REGIONS
                        + " regions per answer, with the total count and size; the last line "
                        + "says where the next page starts when there are more."
            })
    int sharedRegions(
            @Option(
                            names = "--from",
                            paramLabel = "IPA",
                            defaultValue = "0",
                            description =
                                    "List from the granule holding IPA on (decimal or 0x hex; default: from the start).")
                    String fromArg,
            @Option(
                            names = "--limit",
                            paramLabel = "N",
                            defaultValue = "" + ControlProtocol.MAX_REGIONS,
                            description =
                                    "At most N regions, 1.."
                                            + ControlProtocol.MAX_REGIONS
                                            + " (default: ${DEFAULT-VALUE}).")
                    String limitArg) {
        long from = parse(fromArg, Long.MAX_VALUE);
        if (from < 0)
            throw new UsageException(
                    "ctl shared-regions: --from '"
                            + fromArg
                            + "' is not an IPA (decimal or 0x hex)");
        long limit = parse(limitArg, ControlProtocol.MAX_REGIONS);
        if (limit < 1)
            throw new UsageException(
                    "ctl shared-regions: --limit '"
                            + limitArg
                            + "' is not a count 1.."
                            + ControlProtocol.MAX_REGIONS);
        Map<String, Object> req = request("shared-regions");
        if (from != 0) req.put("from", from);
        if (limit != ControlProtocol.MAX_REGIONS) req.put("limit", (int) limit);
        return send(req, CtlOutput::sharedRegions);
    }

    @Command(name = "stolen-time", description = "PV stolen time per vCPU.")
    int stolenTime() {
        return send(request("stolen-time"), CtlOutput::stolenTime);
    }

    @Command(
            name = "hypercall-stats",
            description = {
                "Calls per SMCCC function ID that jvmm handles: each ID jvmm "
                        + "serves, and the first 64 denied or unknown IDs the guest called; calls to further IDs are summed in one "
                        + "'other' line."
            })
    int hypercallStats() {
        return send(request("hypercall-stats"), CtlOutput::hypercallStats);
    }

    private static Map<String, Object> request(String command) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("command", command);
        return m;
    }

    private int send(
            Map<String, Object> request, BiConsumer<PrintWriter, Map<String, Object>> render) {
        return send(request, render, TIMEOUT);
    }

    private int send(
            Map<String, Object> request,
            BiConsumer<PrintWriter, Map<String, Object>> render,
            Duration timeout) {
        if (socket == null) throw new UsageException("ctl: --socket PATH is required");
        CommandLine cl = spec.commandLine();
        PrintWriter out = cl.getOut(), err = cl.getErr();
        ApiClient.Response r;
        try {
            r = ApiClient.exchange(socket, request, timeout);
        } catch (ApiException e) {
            err.println("jvmm: " + e.getMessage());
            return ExitCodes.HOST_ERROR;
        }
        if (json) {
            out.println(r.raw());
        } else if (r.ok()) {
            render.accept(out, r.body());
        } else {
            err.println("jvmm: " + request.get("command") + ": " + r.error());
        }
        out.flush();
        err.flush();
        return r.ok() ? ExitCodes.GUEST_POWEROFF : ExitCodes.HOST_ERROR;
    }

    /** A non-negative integer up to {@code max}, decimal or 0x hex; -1 if it is not one. */
    static long parse(String s, long max) {
        try {
            boolean hex = s.startsWith("0x") || s.startsWith("0X");
            long v = Long.parseLong(hex ? s.substring(2) : s, hex ? 16 : 10);
            return v >= 0 && v <= max && !s.startsWith("+") ? v : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
