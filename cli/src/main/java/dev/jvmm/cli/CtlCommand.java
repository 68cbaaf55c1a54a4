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
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code jvmm ctl --socket PATH COMMAND}: the client of a running {@code jvmm run --api-socket
 * PATH}. Sends one request and prints the answer (human-readable, or the raw JSON line with {@code
 * --json}). Exit 0 when the VM answered ok, 1 when it answered an error or cannot be reached, 2 on
 * bad usage. {@link CtlModel} names and documents its options and subcommands, which call the
 * methods here.
 */
final class CtlCommand implements Runnable {
    /**
     * A VM that does not answer within this is reported as an error rather than hanging a script.
     */
    static final Duration TIMEOUT = Duration.ofSeconds(10);

    /** A snapshot writes guest RAM: allow for a large guest on a slow disk. */
    static final Duration SNAPSHOT_TIMEOUT = Duration.ofMinutes(5);

    CommandSpec spec; // set by CtlModel

    Path socket;

    boolean json;

    @Override
    public void run() {
        throw new UsageException(
                "ctl: a command is required: status, stop, pause, resume, snapshot, sdei-signal, shared-regions, "
                        + "stolen-time, hypercall-stats");
    }

    int status() {
        return send(request("status"), CtlOutput::status);
    }

    int stop() {
        return send(request("stop"), (out, body) -> out.println("stopping"));
    }

    int pause() {
        return send(request("pause"), changed("paused", "already paused"));
    }

    int resume() {
        return send(request("resume"), changed("resumed", "already running"));
    }

    /** Pause and resume answer whether they changed anything, which is not an error either way. */
    private static BiConsumer<PrintWriter, Map<String, Object>> changed(String yes, String no) {
        return (out, body) -> out.println(Boolean.TRUE.equals(body.get("changed")) ? yes : no);
    }

    int snapshot(Path dir, boolean stop) {
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

    int sdeiSignal(String eventArg, String cpuArg) {
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

    int sharedRegions(String fromArg, String limitArg) {
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

    int stolenTime() {
        return send(request("stolen-time"), CtlOutput::stolenTime);
    }

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
