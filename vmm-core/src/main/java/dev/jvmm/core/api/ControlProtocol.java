package dev.jvmm.core.api;

import com.fasterxml.jackson.core.ErrorReportConfiguration;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.jr.ob.JSON;
import dev.jvmm.core.JvmmException;
import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The control API's messages: one JSON object per line each way. A request names its {@code
 * "command"} and that command's fields; the response is {@code {"ok":true,...}} or {@code
 * {"ok":false,"error":"..."}}. Every bad request (malformed JSON, unknown command or field, wrong
 * type, out-of-range number) gets an error response; nothing a client sends can end the server. No
 * sockets here, so every request and every error has a plain unit test.
 */
public final class ControlProtocol {
    /**
     * The longest request line the server reads (newline excluded); Firecracker and CH also cap
     * request size.
     */
    public static final int MAX_REQUEST_BYTES = 64 * 1024;

    public static final List<String> COMMANDS =
            List.of(
                    "status",
                    "stop",
                    "pause",
                    "resume",
                    "snapshot",
                    "sdei-signal",
                    "shared-regions",
                    "stolen-time",
                    "hypercall-stats");

    /**
     * The most shared regions one answer lists (about 32 KiB of JSON); ask again with {@code
     * "from"} for more.
     */
    public static final int MAX_REGIONS = 1024;

    private static final System.Logger LOG = System.getLogger("jvmm.api");

    /**
     * Duplicate keys would make "which command?" ambiguous. The parser quotes at most 64 characters
     * of a bad token (its default, 256, let an error line grow with the request).
     */
    private static final JSON READER =
            JSON.builder(
                            JsonFactory.builder()
                                    .errorReportConfiguration(
                                            ErrorReportConfiguration.builder()
                                                    .maxErrorTokenLength(64)
                                                    .maxRawContentLength(64)
                                                    .build())
                                    .build())
                    .enable(JSON.Feature.FAIL_ON_DUPLICATE_MAP_KEYS)
                    .build();

    private static final long U32_MAX = 0xFFFF_FFFFL;

    private final ControlTarget target;

    public ControlProtocol(ControlTarget target) {
        this.target = target;
    }

    /** Answers one request line (no newline) with one response line (no newline). Never throws. */
    public String answer(String requestLine) {
        Map<String, Object> response;
        try {
            response = dispatch(parse(requestLine));
        } catch (ControlException e) {
            response = error(e.getMessage());
        } catch (RuntimeException e) {
            if (JvmmException.kindOf(e) != null) {
                // an expected failure (a KVM call, a host error) the target did not translate: its
                // message is already one line for the user
                response = error(e.getMessage());
            } else {
                // a bug in the target must not take the API down; the client still gets one line
                LOG.log(System.Logger.Level.WARNING, "control request failed", e);
                response = error("internal error: " + e);
            }
        }
        return write(response);
    }

    /** The response for a request line that exceeded {@link #MAX_REQUEST_BYTES}. */
    public static String tooLong() {
        return write(error("request longer than " + MAX_REQUEST_BYTES + " bytes"));
    }

    static String write(Map<String, Object> response) {
        try {
            return JSON.std.asString(response);
        } catch (IOException e) {
            throw new IllegalStateException(
                    "cannot write a response of plain maps, lists and numbers", e);
        }
    }

    static Map<String, Object> error(String message) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ok", false);
        m.put("error", validUnicode(message.replace('\n', ' ')));
        return m;
    }

    private static Map<String, Object> ok() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ok", true);
        return m;
    }

    private static Map<String, Object> parse(String line) throws ControlException {
        try (JsonParser p = READER.createParser(line)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new ControlException(
                        "a request must be a JSON object, e.g. {\"command\":\"status\"}");
            }
            Map<String, Object> m = READER.mapFrom(p);
            if (p.nextToken() != null)
                throw new ControlException("malformed JSON: data after the request object");
            return m;
        } catch (JsonProcessingException e) {
            String at =
                    e.getLocation() == null ? "" : " at column " + e.getLocation().getColumnNr();
            throw new ControlException("malformed JSON" + at + ": " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new ControlException("malformed JSON: " + e.getMessage());
        }
    }

    private Map<String, Object> dispatch(Map<String, Object> req) throws ControlException {
        Object c = req.get("command");
        if (c == null)
            throw new ControlException(
                    "missing \"command\" (one of: " + String.join(", ", COMMANDS) + ")");
        if (!(c instanceof String command))
            throw new ControlException("\"command\" must be a string");
        Map<String, Object> r = ok();
        switch (command) {
            case "status" -> {
                onlyFields(req, command);
                putStatus(r, target.status());
            }
            case "stop" -> {
                onlyFields(req, command);
                target.stop();
                r.put("state", VmStatus.State.STOPPING.wireName());
            }
            case "pause" -> {
                // "changed": false for a pause of a paused VM, which is not an error
                onlyFields(req, command);
                r.put("changed", target.pause());
                r.put("state", VmStatus.State.PAUSED.wireName());
            }
            case "resume" -> {
                onlyFields(req, command);
                r.put("changed", target.resume());
                r.put("state", VmStatus.State.RUNNING.wireName());
            }
            case "snapshot" -> {
                onlyFields(req, command, "dir", "stop");
                Object dir = req.get("dir");
                if (!(dir instanceof String d) || d.isEmpty())
                    throw new ControlException("missing \"dir\" (an absolute directory path)");
                // the server's working directory is not the client's
                if (!d.startsWith("/"))
                    throw new ControlException(
                            "\"dir\" must be an absolute path, got \"" + shorten(d) + "\"");
                Object stop = req.getOrDefault("stop", false);
                if (!(stop instanceof Boolean s))
                    throw new ControlException("\"stop\" must be true or false");
                long bytes = target.snapshot(d, s);
                r.put("dir", d);
                r.put("bytes", bytes);
                r.put("state", (s ? VmStatus.State.STOPPING : target.status().state()).wireName());
            }
            case "sdei-signal" -> {
                onlyFields(req, command, "event", "cpu");
                long event = integer(req, "event", true, 0, U32_MAX);
                int cpu = (int) integer(req, "cpu", false, 0, Integer.MAX_VALUE);
                target.sdeiSignal(event, cpu);
                r.put("event", event);
                r.put("cpu", cpu);
            }
            case "shared-regions" -> {
                onlyFields(req, command, "from", "limit");
                long from = integer(req, "from", false, 0, Long.MAX_VALUE);
                int limit =
                        req.containsKey("limit")
                                ? (int) integer(req, "limit", true, 1, MAX_REGIONS)
                                : MAX_REGIONS;
                SharedRegionPage page = target.sharedRegions(from, limit);
                List<Object> list = new ArrayList<>();
                for (SharedRegion s : page.regions())
                    list.add(fields("ipa", s.ipa(), "size", s.size()));
                r.put("regions", list);
                r.put("total_regions", page.totalRegions());
                r.put("total_bytes", page.totalBytes());
                page.next().ifPresent(n -> r.put("next", n));
            }
            case "stolen-time" -> {
                onlyFields(req, command);
                List<Object> list = new ArrayList<>();
                for (VcpuStolenTime s : target.stolenTime())
                    list.add(fields("cpu", s.cpu(), "stolen_ns", s.stolenNanos()));
                r.put("vcpus", list);
            }
            case "hypercall-stats" -> {
                onlyFields(req, command);
                HypercallStats stats = target.hypercallStats();
                List<Object> list = new ArrayList<>();
                for (HypercallCount h : stats.calls()) list.add(hypercall(h));
                r.put("calls", list);
                r.put("other_calls", stats.otherCalls());
            }
            default ->
                    throw new ControlException(
                            "unknown command \""
                                    + shorten(command)
                                    + "\" (one of: "
                                    + String.join(", ", COMMANDS)
                                    + ")");
        }
        return r;
    }

    private static void putStatus(Map<String, Object> r, VmStatus s) {
        r.put("state", s.state().wireName());
        r.put("cpus", s.cpus());
        r.put("memory_bytes", s.memoryBytes());
        r.put("uptime_ms", s.uptime().toMillis());
        r.put("pid", s.pid());
        if (s.kernel() != null) r.put("kernel", s.kernel());
    }

    /** A JSON object with its keys in the order given (Map.of would scramble them). */
    private static Map<String, Object> fields(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2)
            m.put((String) keysAndValues[i], keysAndValues[i + 1]);
        return m;
    }

    private static Map<String, Object> hypercall(HypercallCount h) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("function_id", h.functionId());
        if (h.name() != null) m.put("name", h.name());
        m.put("count", h.count());
        return m;
    }

    /**
     * Rejects fields the command does not take, so a typo ("cpus") is an error rather than silently
     * ignored.
     */
    private static void onlyFields(Map<String, Object> req, String command, String... allowed)
            throws ControlException {
        Set<String> ok = Set.of(allowed);
        for (String key : req.keySet()) {
            if (!key.equals("command") && !ok.contains(key)) {
                throw new ControlException(
                        "unknown field \""
                                + shorten(key)
                                + "\" for command "
                                + command
                                + (allowed.length == 0
                                        ? " (it takes none)"
                                        : " (it takes: " + String.join(", ", allowed) + ")"));
            }
        }
    }

    /** An integral JSON number in {@code [min, max]}; a missing optional field is {@code min}. */
    private static long integer(
            Map<String, Object> req, String field, boolean required, long min, long max)
            throws ControlException {
        Object v = req.get(field);
        if (v == null) {
            if (required)
                throw new ControlException(
                        "missing \"" + field + "\" (an integer " + min + ".." + max + ")");
            return min;
        }
        String range = "\"" + field + "\" must be an integer " + min + ".." + max;
        if (!(v instanceof Integer || v instanceof Long || v instanceof BigInteger)) {
            throw new ControlException(
                    range
                            + ", got "
                            + (v instanceof String str
                                    ? "\"" + shorten(str) + "\""
                                    : shorten(String.valueOf(v))));
        }
        BigInteger b =
                v instanceof BigInteger big ? big : BigInteger.valueOf(((Number) v).longValue());
        if (b.compareTo(BigInteger.valueOf(min)) < 0 || b.compareTo(BigInteger.valueOf(max)) > 0) {
            throw new ControlException(range + ", got " + shorten(b.toString()));
        }
        return b.longValue();
    }

    /**
     * Echoes of client text stay short: an error line must not grow with the request. The cut never
     * splits a surrogate pair.
     */
    private static String shorten(String s) {
        if (s.length() <= 64) return s;
        return s.substring(0, Character.isHighSurrogate(s.charAt(63)) ? 63 : 64) + "...";
    }

    /**
     * The text with every unpaired surrogate replaced by U+FFFD. Error messages quote the client (a
     * JSON escape of half a surrogate pair yields a lone one) and the parser (which quotes one
     * UTF-16 unit of the character it stopped at); UTF-8 on the socket cannot carry either.
     */
    static String validUnicode(String s) {
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean paired =
                    Character.isHighSurrogate(c)
                            ? i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))
                            : !Character.isLowSurrogate(c)
                                    || (i > 0 && Character.isHighSurrogate(s.charAt(i - 1)));
            if (!paired && b == null) b = new StringBuilder(s.length()).append(s, 0, i);
            if (b != null) b.append(paired ? c : '\ufffd');
        }
        return b == null ? s : b.toString();
    }
}
