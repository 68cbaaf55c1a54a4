package dev.jvmm.core.api;

import static org.junit.jupiter.api.Assertions.*;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Jazzer target for the control protocol: request lines built from valid requests by fuzzer-chosen
 * mutations (values swapped for huge, negative, fractional, string, unicode, nested or null ones;
 * fields dropped, duplicated or added; bytes inserted, deleted or cut off) or taken raw, answered
 * by {@link ControlProtocol} over a {@link FakeTarget}. Invariants: every line gets exactly one
 * answer, a single line of JSON that survives UTF-8 (what the socket carries) and is an object
 * whose first member is {@code "ok"}: true with the command's fields, or false with a short
 * one-line {@code "error"} free of Java class names; an ok sdei-signal or stop reached the target
 * exactly once with the values echoed, a refused one never did. A plain {@code mvn verify} replays
 * {@code ControlProtocolFuzzTestInputs/requests/}; {@code JAZZER_FUZZ=1} fuzzes.
 */
class ControlProtocolFuzzTest {
    private static final String[] REQUESTS = {
        "{\"command\":\"status\"}",
        "{\"command\":\"stop\"}",
        "{\"command\":\"sdei-signal\",\"event\":0,\"cpu\":1}",
        "{\"command\":\"sdei-signal\",\"event\":4294967295}",
        "{\"command\":\"shared-regions\"}",
        "{\"command\":\"stolen-time\"}",
        "{\"command\":\"hypercall-stats\"}"
    };
    private static final String[] VALUES = {
        "0",
        "-1",
        "1e400",
        "4294967296",
        "9223372036854775808",
        "123456789012345678901234567890",
        "1.5",
        "-0",
        "0x10",
        "\"7\"",
        "\"\\u00e9\\ud83d\\ude00\"",
        "\"\\ud800\"",
        "null",
        "true",
        "[1]",
        "{\"a\":{\"b\":[[[]]]}}",
        "\"status\"",
        "\"" + "x".repeat(200) + "\"",
        "NaN",
        "01"
    };
    private static final Pattern CLASS_NAME =
            Pattern.compile("\\b(java|javax|com|dev|jdk|sun)\\.[a-z]+\\.|Exception\\b");

    @FuzzTest(maxDuration = "30s")
    void requests(FuzzedDataProvider data) throws IOException {
        FakeTarget target = new FakeTarget();
        target.pvTimeOff = data.consumeBoolean();
        if (data.consumeInt(0, 7) == 0)
            target.sdeiFailure = new ControlException("event is not registered");
        ControlProtocol protocol = new ControlProtocol(target);
        // what LineReader hands over: UTF-8 bytes off the socket, decoded (so never a lone
        // surrogate)
        String line =
                new String(request(data).getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
        int stops = target.stops.get(), signals = target.signals.size();

        String answer = protocol.answer(line);

        assertNotNull(answer);
        assertTrue(
                answer.indexOf('\n') < 0 && answer.indexOf('\r') < 0,
                "answer is one line: " + answer);
        assertEquals(
                answer,
                new String(answer.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8),
                "answer does not survive UTF-8: " + answer);
        Map<String, Object> m = JSON.std.mapFrom(answer);
        assertFalse(m.isEmpty());
        assertEquals("ok", m.keySet().iterator().next(), "\"ok\" comes first: " + answer);
        Object ok = m.get("ok");
        assertTrue(ok instanceof Boolean, "ok is a boolean: " + answer);
        if (!(Boolean) ok) {
            assertEquals(2, m.size(), "an error answer has ok and error only: " + answer);
            Object error = m.get("error");
            assertTrue(error instanceof String s && !s.isBlank(), "error is a message: " + answer);
            String e = (String) error;
            assertTrue(
                    e.length() <= 300,
                    "error grows with the request (" + e.length() + " chars): " + e);
            for (var found = CLASS_NAME.matcher(e); found.find(); ) {
                assertTrue(
                        line.contains(found.group()),
                        "a Java class name (not an echo of the request) in: " + e);
            }
            assertEquals(stops, target.stops.get(), "a refused request stopped the VM");
            assertEquals(signals, target.signals.size(), "a refused request raised an event");
            return;
        }
        Map<String, Object> req = JSON.std.mapFrom(line); // an accepted line is a JSON object
        String command = (String) req.get("command");
        assertTrue(ControlProtocol.COMMANDS.contains(command), "accepted command " + command);
        assertEquals(
                command.equals("stop") ? stops + 1 : stops,
                target.stops.get(),
                "stops reaching the target");
        if (command.equals("sdei-signal")) {
            assertEquals(signals + 1, target.signals.size());
            assertEquals(
                    m.get("event") + "@" + m.get("cpu"),
                    target.signals.get(signals),
                    "echoed values are the ones passed");
            long event = ((Number) m.get("event")).longValue(),
                    cpu = ((Number) m.get("cpu")).longValue();
            assertTrue(event >= 0 && event <= 0xFFFF_FFFFL && cpu >= 0 && cpu <= Integer.MAX_VALUE);
        } else {
            assertEquals(signals, target.signals.size());
        }
    }

    private static String request(FuzzedDataProvider data) {
        if (data.consumeInt(0, 5) == 0) return data.consumeString(600);
        StringBuilder b = new StringBuilder(data.pickValue(REQUESTS));
        int edits = data.consumeInt(0, 4);
        for (int i = 0; i < edits; i++) {
            switch (data.consumeInt(0, 6)) {
                case 0 -> { // replace a value
                    int colon = b.indexOf(":", data.consumeInt(0, b.length()));
                    if (colon >= 0) {
                        int end = colon + 1;
                        while (end < b.length() && b.charAt(end) != ',' && b.charAt(end) != '}')
                            end++;
                        b.replace(colon + 1, end, data.pickValue(VALUES));
                    }
                }
                case 1 ->
                        b.insert(
                                b.length() - 1,
                                ","
                                        + data.pickValue(
                                                new String[] {
                                                    "\"cpu\"",
                                                    "\"event\"",
                                                    "\"command\"",
                                                    "\"cpus\"",
                                                    "\"\"",
                                                    "\"\\u0000\"",
                                                    "\""
                                                            + data.consumeString(8)
                                                                    .replace("\"", "")
                                                            + "\""
                                                })
                                        + ":"
                                        + data.pickValue(VALUES));
                case 2 -> b.insert(data.consumeInt(0, b.length()), data.consumeString(6));
                case 3 -> {
                    int at = data.consumeInt(0, b.length() - 1);
                    b.delete(at, Math.min(b.length(), at + data.consumeInt(1, 4)));
                }
                case 4 -> b.setLength(data.consumeInt(0, b.length()));
                case 5 ->
                        b.append(
                                data.pickValue(
                                        new String[] {
                                            " ",
                                            "{}",
                                            "\u2028",
                                            "\t",
                                            "// x",
                                            ",",
                                            " {\"command\":\"stop\"}"
                                        }));
                default ->
                        b.replace(
                                0,
                                b.length(),
                                b.toString()
                                        .replace(
                                                "command",
                                                data.pickValue(
                                                        new String[] {
                                                            "Command",
                                                            "comm\\u0061nd",
                                                            "command\u0000",
                                                            "command"
                                                        })));
            }
            if (b.isEmpty()) break;
        }
        return b.toString();
    }
}
