package dev.jvmm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.api.ApiServer;
import dev.jvmm.core.api.ControlException;
import dev.jvmm.core.api.ControlTarget;
import dev.jvmm.core.api.HypercallCount;
import dev.jvmm.core.api.HypercallStats;
import dev.jvmm.core.api.SharedRegion;
import dev.jvmm.core.api.SharedRegionPage;
import dev.jvmm.core.api.VcpuStolenTime;
import dev.jvmm.core.api.VmStatus;
import dev.jvmm.kvm.KvmException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code jvmm ctl}: parsing, exit codes and output, against a real ApiServer in this JVM. */
class CtlCommandTest {
    @TempDir Path dir;
    private ApiServer server;
    private final Fake fake = new Fake();

    /** Answers like a two-vCPU VM; lists can be emptied, SDEI can be switched off. */
    static final class Fake implements ControlTarget {
        final AtomicInteger stops = new AtomicInteger();
        final List<String> signals = new CopyOnWriteArrayList<>();
        volatile boolean empty, noSdei, paused;
        volatile String pauseFailure;

        @Override
        public VmStatus status() {
            return new VmStatus(
                    paused ? VmStatus.State.PAUSED : VmStatus.State.RUNNING,
                    2,
                    256L << 20,
                    Duration.ofMillis(12_345),
                    777,
                    "/img/Image");
        }

        @Override
        public void stop() {
            stops.incrementAndGet();
        }

        @Override
        public boolean pause() throws ControlException {
            if (pauseFailure != null) throw new ControlException(pauseFailure);
            boolean changed = !paused;
            paused = true;
            return changed;
        }

        @Override
        public boolean resume() {
            boolean changed = paused;
            paused = false;
            return changed;
        }

        @Override
        public void sdeiSignal(long event, int cpu) throws ControlException {
            if (noSdei) throw ControlException.notAvailable("SDEI is off (run it with --sdei)");
            signals.add(event + "@" + cpu);
        }

        volatile long askedFrom = -1;
        volatile int askedLimit = -1;

        /** Two regions, or none; with limit 1 the first only, and a next page. */
        @Override
        public SharedRegionPage sharedRegions(long fromIpa, int limit) {
            askedFrom = fromIpa;
            askedLimit = limit;
            if (empty) return new SharedRegionPage(List.of(), 0, 0, OptionalLong.empty());
            List<SharedRegion> all =
                    List.of(
                            new SharedRegion(0x8000_0000L, 0x1000),
                            new SharedRegion(0x8020_0000L, 0x20_0000));
            return limit == 1
                    ? new SharedRegionPage(
                            all.subList(0, 1), 2, 0x20_1000, OptionalLong.of(0x8000_1000L))
                    : new SharedRegionPage(all, 2, 0x20_1000, OptionalLong.empty());
        }

        @Override
        public List<VcpuStolenTime> stolenTime() {
            return List.of(new VcpuStolenTime(0, 1_500_000), new VcpuStolenTime(1, 0));
        }

        volatile long otherCalls;
        volatile String snapshotDir;
        volatile boolean snapshotStop;

        @Override
        public long snapshot(String dir, boolean stop) throws ControlException {
            if (dir.endsWith("/full"))
                throw new ControlException(
                        "snapshot " + dir + ": cannot write: No space left on device");
            if (dir.endsWith("/kvm")) // a KVM call the VM did not put into words itself
            throw new KvmException("KVM_GET_ONE_REG(SCTLR_EL1)", 22);
            snapshotDir = dir;
            snapshotStop = stop;
            return 12345;
        }

        @Override
        public HypercallStats hypercallStats() {
            return new HypercallStats(
                    empty
                            ? List.of()
                            : List.of(
                                    new HypercallCount(0xC400_0021L, "SDEI_EVENT_SIGNAL", 3),
                                    new HypercallCount(0xC600_0042L, null, 12)),
                    otherCalls);
        }
    }

    private Path serve() throws Exception {
        Path sock = dir.resolve("api.sock");
        server = ApiServer.open(sock);
        server.start(fake);
        return sock;
    }

    @AfterEach
    void close() {
        if (server != null) server.close();
    }

    private static MainTest.Result ctl(String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "ctl";
        System.arraycopy(args, 0, all, 1, args.length);
        return MainTest.run(all);
    }

    private static void assertOneLineError(MainTest.Result r, int code, String message) {
        assertEquals(code, r.code(), r.err());
        assertEquals("", r.out());
        assertEquals("jvmm: " + message, r.err().strip());
    }

    @Test
    void status() throws Exception {
        Path sock = serve();
        MainTest.Result r = ctl("--socket", sock.toString(), "status");
        assertEquals(0, r.code(), r.err());
        assertEquals(
                """
                state    running
                cpus     2
                memory   256 MiB (268435456 bytes)
                uptime   12.3 s
                pid      777
                kernel   /img/Image
                """,
                r.out());
        assertEquals("", r.err());
    }

    @Test
    void jsonPrintsTheRawResponseAndOptionsWorkOnEitherSideOfTheCommand() throws Exception {
        Path sock = serve();
        String raw =
                "{\"ok\":true,\"state\":\"running\",\"cpus\":2,\"memory_bytes\":268435456,\"uptime_ms\":12345,"
                        + "\"pid\":777,\"kernel\":\"/img/Image\"}\n";
        assertEquals(raw, ctl("--socket", sock.toString(), "--json", "status").out());
        assertEquals(raw, ctl("status", "--socket", sock.toString(), "--json").out());
        assertEquals(raw, ctl("--json", "status", "--socket", sock.toString()).out());
    }

    @Test
    void snapshotSendsAnAbsoluteDirectoryAndReportsTheBytes() throws Exception {
        Path sock = serve();
        Path target = dir.resolve("snap1");
        MainTest.Result r =
                ctl("--socket", sock.toString(), "snapshot", "--dir", target.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("snapshot written to " + target + " (12345 bytes)\n", r.out());
        assertEquals(target.toString(), fake.snapshotDir);
        assertFalse(fake.snapshotStop);
        MainTest.Result s =
                ctl("--socket", sock.toString(), "snapshot", "--dir", "rel/snap", "--stop");
        assertEquals(0, s.code(), s.err());
        Path abs = Path.of("rel/snap").toAbsolutePath();
        assertEquals(abs.toString(), fake.snapshotDir, "relative to ctl's directory, not the VM's");
        assertTrue(fake.snapshotStop);
        assertEquals(
                "snapshot written to " + abs + " (12345 bytes); the VM is stopping\n", s.out());
    }

    @Test
    void snapshotIntoANonEmptyDirectoryIsAUsageErrorBeforeTheVmIsAsked() throws Exception {
        Path sock = serve();
        Path used = Files.createDirectory(dir.resolve("used"));
        Files.writeString(used.resolve("snapshot.json"), "{}");
        assertOneLineError(
                ctl("--socket", sock.toString(), "snapshot", "--dir", used.toString()),
                ExitCodes.USAGE,
                "ctl snapshot: --dir "
                        + used
                        + " is not empty; a snapshot never overwrites another");
        assertEquals(null, fake.snapshotDir);
        assertEquals(ExitCodes.USAGE, ctl("--socket", sock.toString(), "snapshot").code());
    }

    @Test
    void aSnapshotTheVmCannotWriteIsExit1WithItsLine() throws Exception {
        Path sock = serve();
        Path full = dir.resolve("full");
        assertOneLineError(
                ctl("--socket", sock.toString(), "snapshot", "--dir", full.toString()),
                ExitCodes.HOST_ERROR,
                "snapshot: snapshot " + full + ": cannot write: No space left on device");
    }

    /** No "internal error", no exception class: the failed call and its errno. */
    @Test
    void aKvmCallThatFailsUnderASnapshotIsExit1WithOnePlainLine() throws Exception {
        Path sock = serve();
        assertOneLineError(
                ctl(
                        "--socket",
                        sock.toString(),
                        "snapshot",
                        "--dir",
                        dir.resolve("kvm").toString()),
                ExitCodes.HOST_ERROR,
                "snapshot: KVM_GET_ONE_REG(SCTLR_EL1): EINVAL");
    }

    @Test
    void stop() throws Exception {
        Path sock = serve();
        MainTest.Result r = ctl("--socket", sock.toString(), "stop");
        assertEquals(0, r.code(), r.err());
        assertEquals("stopping\n", r.out());
        assertEquals(1, fake.stops.get());
    }

    @Test
    void pauseAndResumeAreIdempotentAndStatusShowsPaused() throws Exception {
        Path sock = serve();
        String s = sock.toString();
        MainTest.Result p = ctl("--socket", s, "pause");
        assertEquals(0, p.code(), p.err());
        assertEquals("paused\n", p.out());
        assertTrue(ctl("--socket", s, "status").out().startsWith("state    paused\n"));
        MainTest.Result again = ctl("--socket", s, "pause");
        assertEquals(0, again.code(), again.err());
        assertEquals("already paused\n", again.out());
        assertEquals(
                "{\"ok\":true,\"changed\":false,\"state\":\"paused\"}\n",
                ctl("--socket", s, "--json", "pause").out());
        MainTest.Result r = ctl("--socket", s, "resume");
        assertEquals(0, r.code(), r.err());
        assertEquals("resumed\n", r.out());
        assertTrue(ctl("--socket", s, "status").out().startsWith("state    running\n"));
        assertEquals("already running\n", ctl("--socket", s, "resume").out());
    }

    @Test
    void aFailedPauseIsExit1AndOneLine() throws Exception {
        Path sock = serve();
        fake.pauseFailure =
                "cannot pause: vcpu1 did not leave KVM_RUN within 5 s; the VM keeps running";
        assertOneLineError(
                ctl("--socket", sock.toString(), "pause"),
                1,
                "pause: cannot pause: vcpu1 did not leave KVM_RUN within 5 s; the VM keeps running");
        assertFalse(fake.paused);
    }

    @Test
    void sdeiSignalAcceptsDecimalAndHex() throws Exception {
        Path sock = serve();
        MainTest.Result r = ctl("--socket", sock.toString(), "sdei-signal", "0x10", "--cpu", "1");
        assertEquals(0, r.code(), r.err());
        assertEquals("signalled SDEI event 16 on cpu 1\n", r.out());
        assertEquals(0, ctl("--socket", sock.toString(), "sdei-signal", "4294967295").code());
        assertEquals(List.of("16@1", "4294967295@0"), fake.signals);
    }

    @Test
    void anErrorAnswerIsExit1AndOneLine() throws Exception {
        Path sock = serve();
        fake.noSdei = true;
        assertOneLineError(
                ctl("--socket", sock.toString(), "sdei-signal", "0"),
                1,
                "sdei-signal: not available in this VM: SDEI is off (run it with --sdei)");
        MainTest.Result json = ctl("--socket", sock.toString(), "--json", "sdei-signal", "0");
        assertEquals(1, json.code());
        assertEquals(
                "{\"ok\":false,\"error\":\"not available in this VM: SDEI is off (run it with --sdei)\"}\n",
                json.out());
    }

    @Test
    void sharedRegions() throws Exception {
        Path sock = serve();
        assertEquals(
                """
                IPA                 END                 SIZE
                0x0000000080000000  0x0000000080001000  0x1000
                0x0000000080200000  0x0000000080400000  0x200000
                total: 2 regions, 2052 KiB
                """,
                ctl("--socket", sock.toString(), "shared-regions").out());
        assertEquals(0, fake.askedFrom);
        assertEquals(1024, fake.askedLimit);
        fake.empty = true;
        assertEquals(
                "no shared regions\n", ctl("--socket", sock.toString(), "shared-regions").out());
    }

    @Test
    void sharedRegionsPageWithFromAndLimit() throws Exception {
        Path sock = serve();
        assertEquals(
                """
                IPA                 END                 SIZE
                0x0000000080000000  0x0000000080001000  0x1000
                total: 2 regions, 2052 KiB
                more: jvmm ctl shared-regions --from 0x80001000
                """,
                ctl(
                                "--socket",
                                sock.toString(),
                                "shared-regions",
                                "--limit",
                                "1",
                                "--from",
                                "0x80000000")
                        .out());
        assertEquals(0x8000_0000L, fake.askedFrom);
        assertEquals(1, fake.askedLimit);
        assertOneLineError(
                ctl("--socket", sock.toString(), "shared-regions", "--limit", "1025"),
                2,
                "ctl shared-regions: --limit '1025' is not a count 1..1024");
        assertOneLineError(
                ctl("--socket", sock.toString(), "shared-regions", "--limit", "0"),
                2,
                "ctl shared-regions: --limit '0' is not a count 1..1024");
        assertOneLineError(
                ctl("--socket", sock.toString(), "shared-regions", "--from", "x"),
                2,
                "ctl shared-regions: --from 'x' is not an IPA (decimal or 0x hex)");
    }

    @Test
    void stolenTime() throws Exception {
        Path sock = serve();
        assertEquals(
                """
                CPU   STOLEN (ns)
                0     1500000
                1     0
                """,
                ctl("--socket", sock.toString(), "stolen-time").out());
    }

    @Test
    void hypercallStats() throws Exception {
        Path sock = serve();
        assertEquals(
                """
                FUNCTION    NAME                          COUNT
                0xc4000021  SDEI_EVENT_SIGNAL             3
                0xc6000042  -                             12
                """,
                ctl("--socket", sock.toString(), "hypercall-stats").out());
        fake.otherCalls = 99_936;
        assertEquals(
                """
                FUNCTION    NAME                          COUNT
                0xc4000021  SDEI_EVENT_SIGNAL             3
                0xc6000042  -                             12
                other       (IDs past the first 64)       99936
                """,
                ctl("--socket", sock.toString(), "hypercall-stats").out());
        fake.otherCalls = 0;
        fake.empty = true;
        assertEquals("no hypercalls\n", ctl("--socket", sock.toString(), "hypercall-stats").out());
    }

    @Test
    void unreachableSocketIsExit1NamingTheSocketAndTheReason() {
        Path sock = dir.resolve("nobody.sock");
        assertOneLineError(
                ctl("--socket", sock.toString(), "status"),
                1,
                "cannot connect to control socket " + sock + ": No such file or directory");
    }

    @Test
    void missingSocketOptionIsAUsageError() {
        assertOneLineError(ctl("status"), 2, "ctl: --socket PATH is required");
    }

    @Test
    void missingCommandIsAUsageError() {
        assertOneLineError(
                ctl("--socket", "/x"),
                2,
                "ctl: a command is required: status, stop, pause, resume, snapshot, sdei-signal, shared-regions, stolen-time, hypercall-stats");
    }

    @ParameterizedTest
    @ValueSource(strings = {"abc", "-1", "4294967296", "0x100000000", "+3", "1.5", "0x"})
    void badEventNumbersAreUsageErrors(String event) {
        assertOneLineError(
                ctl("--socket", dir.resolve("s").toString(), "sdei-signal", event),
                2,
                "ctl sdei-signal: EVENT '"
                        + event
                        + "' is not an SDEI event number (0..4294967295, decimal or 0x hex)");
    }

    @ParameterizedTest
    @ValueSource(strings = {"x", "-1", "2147483648"})
    void badCpusAreUsageErrors(String cpu) {
        assertOneLineError(
                ctl("--socket", dir.resolve("s").toString(), "sdei-signal", "0", "--cpu", cpu),
                2,
                "ctl sdei-signal: --cpu '" + cpu + "' is not a vCPU index (0, 1, ...)");
    }

    @Test
    void unknownCommandOrMissingEventIsAUsageError() {
        MainTest.Result r = ctl("--socket", "/x", "reboot");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("reboot"), r.err());
        MainTest.Result e = ctl("--socket", "/x", "sdei-signal");
        assertEquals(2, e.code());
        assertTrue(e.err().contains("EVENT"), e.err());
    }

    @Test
    void helpListsTheCommandsAndCtlsOwnExitCodes() {
        MainTest.Result r = ctl("--help");
        assertEquals(0, r.code());
        for (String c :
                List.of(
                        "status",
                        "stop",
                        "pause",
                        "resume",
                        "sdei-signal",
                        "shared-regions",
                        "stolen-time",
                        "hypercall-stats")) {
            assertTrue(r.out().contains(c), c + " missing:\n" + r.out());
        }
        assertTrue(
                r.out().contains("the VM answered an error, or the socket cannot be reached"),
                r.out());
        assertFalse(
                r.out().contains("guest reset"),
                "run's exit codes do not apply to ctl\n" + r.out());
    }
}
