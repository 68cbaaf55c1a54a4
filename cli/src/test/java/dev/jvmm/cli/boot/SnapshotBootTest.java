package dev.jvmm.cli.boot;

import static dev.jvmm.cli.boot.JvmmProcess.image;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.jvmm.cli.Main;
import dev.jvmm.core.KvmHost;
import dev.jvmm.core.snapshot.HostFacts;
import dev.jvmm.core.snapshot.HostProbe;
import dev.jvmm.core.snapshot.RestoreCheck;
import dev.jvmm.core.snapshot.Snapshot;
import dev.jvmm.core.snapshot.SnapshotFormat;
import dev.jvmm.kvm.Kvm;
import dev.jvmm.kvm.testing.BootTest;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code jvmm ctl snapshot} and {@code jvmm run --restore} against real KVM: a snapshot with --stop
 * writes a complete directory and ends the run with exit 0, one without lets the guest run on, a
 * reused directory or an MTE guest is refused and the guest keeps running, this host passes the
 * destination checks of its own snapshot, and the restored guest runs on without booting again: its
 * SDEI registration and its shared-region list come back with it.
 */
@BootTest
class SnapshotBootTest {
    private static final Duration LIMIT = Duration.ofMinutes(2);
    private static final long RAM = 64L << 20;

    @TempDir Path dir;

    private record Ctl(int code, String out, String err) {
        String describe() {
            return "exit " + code + "\n--- stdout ---\n" + out + "--- stderr ---\n" + err;
        }
    }

    private Ctl ctl(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        String[] all = new String[args.length + 3];
        all[0] = "ctl";
        all[1] = "--socket";
        all[2] = dir.resolve("api.sock").toString();
        System.arraycopy(args, 0, all, 3, args.length);
        int code = Main.execute(all, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Ctl(code, out.toString(), err.toString());
    }

    private JvmmProcess spinner(String... more) throws InterruptedException {
        List<String> a =
                new ArrayList<>(
                        List.of(
                                "run",
                                "-k",
                                image("spin.img"),
                                "-c",
                                "2",
                                "-m",
                                "64",
                                "--api-socket",
                                dir.resolve("api.sock").toString(),
                                "--timeout",
                                "120"));
        a.addAll(Arrays.asList(more));
        JvmmProcess p = JvmmProcess.start(a.toArray(String[]::new));
        if (!p.awaitStdout("BAREMETAL-SPIN", LIMIT))
            fail("no BAREMETAL-SPIN\n" + p.stdout() + "\n--- stderr ---\n" + p.stderr());
        return p;
    }

    /** The 2 vCPU guest's shares, as sdei-shared.img leaves them. */
    private static final String SHARED =
            """
            IPA                 END                 SIZE
            0x0000000080100000  0x0000000080101000  0x1000
            0x0000000080102000  0x0000000080104000  0x2000
            0x0000000080200000  0x0000000080201000  0x1000
            total: 3 regions, 16 KiB
            """;

    /**
     * sdei-shared.img shares three regions and registers SDEI event 100, then waits for it; it is
     * snapshotted and stopped before the event comes, and the event is raised only in the restored
     * process: the handler it reaches was registered before the snapshot.
     */
    @Test
    void snapshotWithStopWritesACompleteSnapshotAndEndsTheRunWithExit0() throws Exception {
        Path snap = dir.resolve("snap");
        JvmmProcess.Result r;
        String sharedBefore;
        try (JvmmProcess p =
                JvmmProcess.start(
                        "run",
                        "-k",
                        image("sdei-shared.img"),
                        "-c",
                        "2",
                        "-m",
                        "64",
                        "--sdei",
                        "--sdei-event",
                        "100,private,normal",
                        "--shared-regions",
                        "--api-socket",
                        dir.resolve("api.sock").toString(),
                        "--timeout",
                        "120")) {
            if (!p.awaitStdout("SDEI-READY", LIMIT))
                fail("no SDEI-READY\n" + p.stdout() + "\n--- stderr ---\n" + p.stderr());
            Ctl shared = ctl("shared-regions");
            assertEquals(0, shared.code(), shared.describe());
            assertEquals(SHARED, shared.out());
            sharedBefore = shared.out();
            Ctl c = ctl("snapshot", "--dir", snap.toString(), "--stop");
            assertEquals(0, c.code(), c.describe());
            assertTrue(
                    c.out()
                            .matches(
                                    "snapshot written to "
                                            + snap
                                            + " \\(\\d+ bytes\\); the VM is stopping\n"),
                    c.describe());
            r = p.waitFor(LIMIT);
        }
        assertEquals(0, r.code(), r.describe());
        assertFalse(Files.exists(snap.resolve(SnapshotFormat.MANIFEST + ".tmp")));
        Snapshot s = Snapshot.open(snap); // complete, checked, and the memory file has its size
        assertEquals(RAM, Files.size(snap.resolve(SnapshotFormat.MEMORY)));
        assertEquals(2, s.manifest().guest().cpus());
        assertEquals(RAM, s.manifest().guest().memoryBytes());
        // the guest image was loaded at RAM + 0x80000 (bare metal): that page is saved, and far
        // less than all of RAM is (the rest are holes)
        long first = s.manifest().memory().runs().get(0);
        assertTrue(first <= 0x80000 / SnapshotFormat.PAGE_SIZE, "first run at page " + first);
        assertTrue(
                s.manifest().memory().dataBytes() < RAM / 4,
                "data " + s.manifest().memory().dataBytes());

        // this host passes the destination checks of its own snapshot
        HostFacts here;
        try (Kvm kvm = KvmHost.openArm64()) {
            here = HostProbe.offered(kvm, s.manifest().guest());
        }
        assertEquals(List.of(), RestoreCheck.problems(s.manifest().host(), here));
        assertTrue(s.manifest().host().cntfrq() > 0);

        assertTrue(
                s.manifest().parts().stream().anyMatch(p -> p.key().equals("vcpu.1")),
                "every vCPU is saved");

        // the restored guest goes on spinning where it was: it does not boot again
        try (JvmmProcess restored =
                JvmmProcess.start(
                        "run",
                        "--restore",
                        snap.toString(),
                        "--api-socket",
                        dir.resolve("api.sock").toString(),
                        "--timeout",
                        "120")) {
            Ctl status = null;
            for (int i = 0; i < 300; i++) {
                status = ctl("status");
                if (status.code() == 0 && status.out().startsWith("state    running\n")) break;
                Thread.sleep(200);
            }
            assertTrue(
                    status.out().startsWith("state    running\n"),
                    status.describe() + "\n--- restored ---\n" + restored.stderr());
            Ctl shared = ctl("shared-regions");
            assertEquals(0, shared.code(), shared.describe());
            assertEquals(sharedBefore, shared.out(), "the same shared regions after the restore");
            // the guest is still waiting: it did not see the event before its snapshot
            assertFalse(restored.stdout().contains("SDEI-S"), restored.stdout());
            Ctl sig = ctl("sdei-signal", "100", "--cpu", "0");
            assertEquals(0, sig.code(), sig.describe());
            // the handler checks what it was given and the guest powers off by itself
            JvmmProcess.Result rr = restored.waitFor(LIMIT);
            assertEquals(0, rr.code(), rr.describe());
            assertTrue(rr.out().contains("SDEI-S PASS"), rr.describe());
            assertFalse(rr.out().contains("FAIL"), rr.describe());
            assertFalse(rr.out().contains("SDEI-S start"), "no second boot\n" + rr.describe());
            assertFalse(rr.out().contains("SDEI-READY"), "no second boot\n" + rr.describe());
        }
    }

    @Test
    void withoutStopTheGuestRunsOnAndAReusedDirectoryIsRefused() throws Exception {
        Path snap = dir.resolve("snap");
        try (JvmmProcess p = spinner()) {
            Ctl c = ctl("snapshot", "--dir", snap.toString());
            assertEquals(0, c.code(), c.describe());
            assertTrue(c.out().startsWith("snapshot written to " + snap + " ("), c.describe());
            assertTrue(ctl("status").out().startsWith("state    running\n"), "resumed");
            Snapshot.open(snap);

            Ctl again = ctl("snapshot", "--dir", snap.toString());
            assertEquals(2, again.code(), again.describe());
            assertEquals(
                    "jvmm: ctl snapshot: --dir "
                            + snap
                            + " is not empty; a snapshot never overwrites another",
                    again.err().strip());
            assertTrue(ctl("status").out().startsWith("state    running\n"));

            // a pause before the snapshot stays: the snapshot does not resume what it did not pause
            assertEquals(0, ctl("pause").code());
            Ctl paused = ctl("snapshot", "--dir", dir.resolve("snap2").toString());
            assertEquals(0, paused.code(), paused.describe());
            assertTrue(ctl("status").out().startsWith("state    paused\n"));
            assertEquals(0, ctl("stop").code());
            JvmmProcess.Result r = p.waitFor(LIMIT);
            assertEquals(0, r.code(), r.describe());
        }
    }

    @Test
    void anMteGuestIsNotSnapshotted() throws Exception {
        Path snap = dir.resolve("snap");
        try (JvmmProcess p = spinner("--mte")) {
            Ctl c = ctl("snapshot", "--dir", snap.toString(), "--stop");
            assertEquals(1, c.code(), c.describe());
            assertEquals(
                    "jvmm: snapshot: cannot snapshot: the guest runs with MTE (--mte), whose memory"
                            + " tags are not in guest RAM; jvmm does not save them",
                    c.err().strip());
            assertFalse(Files.exists(snap), "nothing written");
            assertTrue(ctl("status").out().startsWith("state    running\n"), "the guest runs on");
            assertEquals(0, ctl("stop").code());
            assertEquals(0, p.waitFor(LIMIT).code());
        }
    }
}
