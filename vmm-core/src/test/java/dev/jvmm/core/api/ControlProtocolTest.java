package dev.jvmm.core.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.JvmmException;
import dev.jvmm.kvm.KvmException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every command's exact response and every class of bad request, without sockets. */
class ControlProtocolTest {
    private final FakeTarget target = new FakeTarget();
    private final ControlProtocol protocol = new ControlProtocol(target);

    private String answer(String request) {
        return protocol.answer(request);
    }

    @Test
    void status() {
        assertEquals(
                "{\"ok\":true,\"state\":\"running\",\"cpus\":2,\"memory_bytes\":268435456,\"uptime_ms\":1500,"
                        + "\"pid\":4242,\"kernel\":\"/images/Image\"}",
                answer("{\"command\":\"status\"}"));
    }

    @Test
    void stopAsksTheTargetOnceAndSaysStopping() {
        assertEquals("{\"ok\":true,\"state\":\"stopping\"}", answer("{\"command\":\"stop\"}"));
        assertEquals(1, target.stops.get());
        assertEquals(
                true,
                answer("{\"command\":\"status\"}")
                        .startsWith("{\"ok\":true,\"state\":\"stopping\","));
    }

    @Test
    void pauseAndResumeSayWhetherTheyChangedAnythingAndStatusFollows() {
        assertEquals(
                "{\"ok\":true,\"changed\":true,\"state\":\"paused\"}",
                answer("{\"command\":\"pause\"}"));
        assertTrue(
                answer("{\"command\":\"status\"}")
                        .startsWith("{\"ok\":true,\"state\":\"paused\","));
        assertEquals(
                "{\"ok\":true,\"changed\":false,\"state\":\"paused\"}",
                answer("{\"command\":\"pause\"}"));
        assertEquals(
                "{\"ok\":true,\"changed\":true,\"state\":\"running\"}",
                answer("{\"command\":\"resume\"}"));
        assertEquals(
                "{\"ok\":true,\"changed\":false,\"state\":\"running\"}",
                answer("{\"command\":\"resume\"}"));
        assertTrue(
                answer("{\"command\":\"status\"}")
                        .startsWith("{\"ok\":true,\"state\":\"running\","));
        assertEquals(2, target.pauses.get());
    }

    @Test
    void aPauseTheVmCannotCompleteIsAnErrorResponse() {
        target.pauseFailure =
                new ControlException(
                        "cannot pause: vcpu0 did not leave KVM_RUN within 5 s; the VM keeps running");
        assertEquals(
                "{\"ok\":false,\"error\":\"cannot pause: vcpu0 did not leave KVM_RUN within 5 s;"
                        + " the VM keeps running\"}",
                answer("{\"command\":\"pause\"}"));
        assertTrue(
                answer("{\"command\":\"status\"}")
                        .startsWith("{\"ok\":true,\"state\":\"running\","));
    }

    @Test
    void sdeiSignalPassesEventAndCpu() {
        assertEquals(
                "{\"ok\":true,\"event\":4294967295,\"cpu\":1}",
                answer("{\"command\":\"sdei-signal\",\"event\":4294967295,\"cpu\":1}"));
        assertEquals(
                "{\"ok\":true,\"event\":0,\"cpu\":0}",
                answer("{\"command\":\"sdei-signal\",\"event\":0}"));
        assertEquals(List.of("4294967295@1", "0@0"), target.signals);
    }

    @Test
    void sdeiSignalRefusedByTheVmIsAnErrorResponse() {
        target.sdeiFailure = new ControlException("event 7 is not registered");
        assertEquals(
                "{\"ok\":false,\"error\":\"event 7 is not registered\"}",
                answer("{\"command\":\"sdei-signal\",\"event\":7}"));
    }

    @Test
    void sharedRegions() {
        assertEquals(
                "{\"ok\":true,\"regions\":[{\"ipa\":2147483648,\"size\":4096},{\"ipa\":2148532224,\"size\":12288}],"
                        + "\"total_regions\":2,\"total_bytes\":16384}",
                answer("{\"command\":\"shared-regions\"}"));
        assertEquals(0, target.askedFrom);
        assertEquals(
                ControlProtocol.MAX_REGIONS,
                target.askedLimit,
                "at most 1024 unless asked for fewer");
        assertEquals(
                "{\"ok\":true,\"regions\":[{\"ipa\":2147483648,\"size\":4096}],"
                        + "\"total_regions\":2,\"total_bytes\":16384,\"next\":2147487744}",
                answer("{\"command\":\"shared-regions\",\"limit\":1}"));
        assertEquals(
                "{\"ok\":true,\"regions\":[{\"ipa\":2148532224,\"size\":12288}],"
                        + "\"total_regions\":2,\"total_bytes\":16384}",
                answer("{\"command\":\"shared-regions\",\"from\":2147487744,\"limit\":1}"));
    }

    /**
     * A guest sharing every other granule of 1 GiB: the answer is one bounded page with the totals.
     */
    @Test
    void sharedRegionsOfAFragmentedGibAreOneBoundedPage() {
        long base = 0x8000_0000L, gib = 1L << 30;
        target.shared = new dev.jvmm.core.hypercall.shared.SharedRegionSet(base, gib, 4096);
        for (long i = 0; i < gib / 4096; i += 2) target.shared.share(base + i * 4096, 1);
        String a = answer("{\"command\":\"shared-regions\"}");
        assertTrue(a.length() < 40 * 1024, "answer of " + a.length() + " bytes");
        assertEquals(ControlProtocol.MAX_REGIONS, a.split("\\{\"ipa\"", -1).length - 1);
        assertTrue(
                a.endsWith(
                        "],\"total_regions\":131072,\"total_bytes\":536870912,\"next\":"
                                + (base + 2047 * 4096)
                                + "}"),
                a);
    }

    @Test
    void stolenTimeAndItsAbsence() {
        assertEquals(
                "{\"ok\":true,\"vcpus\":[{\"cpu\":0,\"stolen_ns\":1234},{\"cpu\":1,\"stolen_ns\":0}]}",
                answer("{\"command\":\"stolen-time\"}"));
        target.pvTimeOff = true;
        assertEquals(
                "{\"ok\":false,\"error\":\"not available in this VM: PV stolen time is off\"}",
                answer("{\"command\":\"stolen-time\"}"));
    }

    @Test
    void hypercallStatsOmitsUnknownNamesAndSumsTheRest() {
        assertEquals(
                "{\"ok\":true,\"calls\":[{\"function_id\":3288334369,\"name\":\"SDEI_EVENT_SIGNAL\",\"count\":3},"
                        + "{\"function_id\":3321888834,\"count\":1}],\"other_calls\":7}",
                answer("{\"command\":\"hypercall-stats\"}"));
    }

    @Test
    void aBugInTheTargetIsAnInternalErrorResponse() {
        target.statusBug = new IllegalStateException("boom");
        assertEquals(
                "{\"ok\":false,\"error\":\"internal error: java.lang.IllegalStateException: boom\"}",
                answer("{\"command\":\"status\"}"));
    }

    /**
     * A KVM call that fails under a command is the failure the user sees, in one line: not an
     * internal error with the exception's class name.
     */
    @Test
    void aKvmFailureInTheTargetIsItsOwnMessage() {
        target.snapshotFailure = new KvmException("KVM_GET_ONE_REG(SCTLR_EL1)", 22);
        assertEquals(
                "{\"ok\":false,\"error\":\"KVM_GET_ONE_REG(SCTLR_EL1): EINVAL\"}",
                answer("{\"command\":\"snapshot\",\"dir\":\"/s\"}"));
        target.snapshotFailure =
                new JvmmException(JvmmException.Kind.HOST_ERROR, "snapshot /s: cannot write");
        assertEquals(
                "{\"ok\":false,\"error\":\"snapshot /s: cannot write\"}",
                answer("{\"command\":\"snapshot\",\"dir\":\"/s\"}"));
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            textBlock =
                    """
            {"command":"reboot"}                          | unknown command "reboot" (one of: status, stop, pause, resume, snapshot, sdei-signal, shared-regions, stolen-time, hypercall-stats)
            {}                                            | missing "command" (one of: status, stop, pause, resume, snapshot, sdei-signal, shared-regions, stolen-time, hypercall-stats)
            {"command":5}                                 | "command" must be a string
            {"command":"status","cpu":1}                  | unknown field "cpu" for command status (it takes none)
            {"command":"pause","cpu":1}                   | unknown field "cpu" for command pause (it takes none)
            {"command":"resume","force":true}             | unknown field "force" for command resume (it takes none)
            {"command":"sdei-signal","event":1,"cpus":1}  | unknown field "cpus" for command sdei-signal (it takes: event, cpu)
            {"command":"sdei-signal"}                     | missing "event" (an integer 0..4294967295)
            {"command":"sdei-signal","event":-1}          | "event" must be an integer 0..4294967295, got -1
            {"command":"sdei-signal","event":4294967296}  | "event" must be an integer 0..4294967295, got 4294967296
            {"command":"sdei-signal","event":99999999999999999999999} | "event" must be an integer 0..4294967295, got 99999999999999999999999
            {"command":"sdei-signal","event":1.5}         | "event" must be an integer 0..4294967295, got 1.5
            {"command":"sdei-signal","event":"3"}         | "event" must be an integer 0..4294967295, got "3"
            {"command":"sdei-signal","event":1,"cpu":-2}  | "cpu" must be an integer 0..2147483647, got -2
            {"command":"sdei-signal","event":1,"cpu":true} | "cpu" must be an integer 0..2147483647, got true
            {"command":"shared-regions","limit":1025}     | "limit" must be an integer 1..1024, got 1025
            {"command":"shared-regions","limit":0}        | "limit" must be an integer 1..1024, got 0
            {"command":"shared-regions","from":-1}        | "from" must be an integer 0..9223372036854775807, got -1
            {"command":"shared-regions","start":0}        | unknown field "start" for command shared-regions (it takes: from, limit)
            {"command":"snapshot"}                        | missing "dir" (an absolute directory path)
            {"command":"snapshot","dir":5}                | missing "dir" (an absolute directory path)
            {"command":"snapshot","dir":"snap"}           | "dir" must be an absolute path, got "snap"
            {"command":"snapshot","dir":"/s","stop":1}    | "stop" must be true or false
            {"command":"snapshot","dir":"/s","force":true} | unknown field "force" for command snapshot (it takes: dir, stop)
            [1,2]                                         | a request must be a JSON object, e.g. {"command":"status"}
            "status"                                      | a request must be a JSON object, e.g. {"command":"status"}
            {"command":"status"} {"command":"stop"}       | malformed JSON: data after the request object
            """)
    void badRequestsGetOneErrorLine(String request, String error) {
        assertEquals("{\"ok\":false,\"error\":" + quote(error) + "}", answer(request));
        assertEquals(0, target.stops.get(), "no bad request may act");
        assertEquals(0, target.pauses.get(), "no bad request may act");
        assertEquals(List.of(), target.signals);
        assertEquals(List.of(), target.snapshots);
    }

    @Test
    void snapshotReportsDirectoryBytesAndState() {
        assertEquals(
                "{\"ok\":true,\"dir\":\"/s/1\",\"bytes\":4096,\"state\":\"running\"}",
                answer("{\"command\":\"snapshot\",\"dir\":\"/s/1\"}"));
        assertEquals(
                "{\"ok\":true,\"dir\":\"/s/2\",\"bytes\":4096,\"state\":\"stopping\"}",
                answer("{\"command\":\"snapshot\",\"dir\":\"/s/2\",\"stop\":true}"));
        assertEquals(List.of("/s/1", "/s/2 stop"), target.snapshots);
    }

    @Test
    void malformedJsonNamesWhereTheParserStopped() {
        String r = answer("{\"command\":status}");
        assertEquals(
                "{\"ok\":false,\"error\":\"malformed JSON at column 18: Unrecognized token 'status': was expecting "
                        + "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')\"}",
                r);
    }

    @Test
    void duplicateKeysAreRefused() {
        String r = answer("{\"command\":\"status\",\"command\":\"stop\"}");
        assertEquals(true, r.startsWith("{\"ok\":false,\"error\":\"malformed JSON"), r);
        assertEquals(true, r.contains("command"), r);
        assertEquals(0, target.stops.get());
    }

    @Test
    void longUnknownCommandIsShortenedInTheError() {
        String r = answer("{\"command\":\"" + "x".repeat(10_000) + "\"}");
        assertEquals(
                "{\"ok\":false,\"error\":\"unknown command \\\""
                        + "x".repeat(64)
                        + "...\\\" (one of: status, stop, pause, resume, snapshot, "
                        + "sdei-signal, shared-regions, stolen-time, hypercall-stats)\"}",
                r);
    }

    /**
     * Found by ControlProtocolFuzzTest: a JSON escape can put a lone surrogate into the command (or
     * a key, or a shortened echo can cut a pair in two); echoed as is, the answer was not valid
     * UTF-8 and reached the client with a '?' in its place. Echoes now carry U+FFFD instead and are
     * cut between code points.
     */
    @Test
    void echoedTextIsValidUnicode() {
        String r = answer("{\"command\":\"a\\ud800b\"}");
        assertEquals(
                "{\"ok\":false,\"error\":\"unknown command \\\"a\ufffdb\\\" (one of: status, stop, pause, resume, snapshot, "
                        + "sdei-signal, shared-regions, stolen-time, hypercall-stats)\"}",
                r);
        String cut = answer("{\"command\":\"status\",\"" + "k".repeat(63) + "\uD83D\uDE00z\":1}");
        assertEquals(
                "{\"ok\":false,\"error\":\"unknown field \\\""
                        + "k".repeat(63)
                        + "...\\\" for command status "
                        + "(it takes none)\"}",
                cut);
        for (String a : List.of(r, cut)) {
            assertEquals(a, new String(a.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8));
        }
    }

    /**
     * Found by ControlProtocolFuzzTest: the JSON parser's message quotes one UTF-16 unit of an
     * emoji it stopped at.
     */
    @Test
    void parserMessagesAreValidUnicodeToo() {
        String r = answer("\uD83D\uDE00");
        assertEquals(
                true,
                r.startsWith(
                        "{\"ok\":false,\"error\":\"malformed JSON at column 1: Unexpected character ('\ufffd'"),
                r);
        assertEquals(r, new String(r.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8));
    }

    /**
     * Found by ControlProtocolFuzzTest: the JSON parser quoted up to 256 characters of a bad token.
     */
    @Test
    void parserMessagesQuoteAShortPieceOfTheRequest() {
        String r = answer("x".repeat(10_000));
        assertEquals(true, r.startsWith("{\"ok\":false,\"error\":\"malformed JSON at column "), r);
        assertEquals(true, r.contains("x".repeat(64)) && !r.contains("x".repeat(65)), r);
    }

    @Test
    void tooLongResponse() {
        assertEquals(
                "{\"ok\":false,\"error\":\"request longer than 65536 bytes\"}",
                ControlProtocol.tooLong());
    }

    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
