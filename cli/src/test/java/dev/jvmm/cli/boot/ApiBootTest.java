package dev.jvmm.cli.boot;

import static dev.jvmm.cli.boot.JvmmProcess.image;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.jvmm.cli.Main;
import dev.jvmm.kvm.testing.BootTest;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The control API against a real VM: a spinning bare-metal guest under {@code jvmm run
 * --api-socket}, driven with {@code jvmm ctl} (in this JVM: ctl makes no native calls, and a second
 * JVM start costs ~5 s in the lab).
 */
@BootTest
class ApiBootTest {
    private static final Duration LIMIT = Duration.ofSeconds(90);

    private record Ctl(int code, String out, String err) {
        String describe() {
            return "exit " + code + "\n--- stdout ---\n" + out + "--- stderr ---\n" + err;
        }
    }

    private static Ctl ctl(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        String[] all = new String[args.length + 1];
        all[0] = "ctl";
        System.arraycopy(args, 0, all, 1, args.length);
        int code = Main.execute(all, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Ctl(code, out.toString(), err.toString());
    }

    @Test
    void ctlStatusShowsTheRunningVmAndCtlStopEndsItWithExitZero(@TempDir Path dir)
            throws Exception {
        Path sock = dir.resolve("api.sock");
        try (JvmmProcess p =
                JvmmProcess.start(
                        "run",
                        "-k",
                        image("spin.img"),
                        "-c",
                        "2",
                        "-m",
                        "64",
                        "--api-socket",
                        sock.toString())) {
            if (!p.awaitStdout("BAREMETAL-SPIN", LIMIT)) {
                fail(
                        "no BAREMETAL-SPIN\n--- stdout ---\n"
                                + p.stdout()
                                + "\n--- stderr ---\n"
                                + p.stderr());
            }
            assertEquals(
                    "rw-------",
                    PosixFilePermissions.toString(
                            Files.getPosixFilePermissions(sock, LinkOption.NOFOLLOW_LINKS)));

            Ctl status = ctl("--socket", sock.toString(), "status");
            assertEquals(0, status.code(), status.describe());
            assertTrue(
                    status.out()
                            .startsWith(
                                    "state    running\ncpus     2\nmemory   64 MiB (67108864 bytes)\n"),
                    status.describe());
            assertTrue(status.out().contains("\npid      " + p.pid() + "\n"), status.describe());
            assertTrue(
                    status.out().contains("\nkernel   " + image("spin.img") + "\n"),
                    status.describe());

            Ctl sdei = ctl("--socket", sock.toString(), "sdei-signal", "0", "--cpu", "1");
            assertEquals(1, sdei.code(), sdei.describe());
            assertEquals(
                    "jvmm: sdei-signal: not available in this VM: SDEI is off (run it with --sdei)\n",
                    sdei.err());

            // PV stolen time is on by default in the lab: one counter per vCPU, read from KVM's
            // records
            Ctl stolen = ctl("--socket", sock.toString(), "stolen-time");
            assertEquals(0, stolen.code(), stolen.describe());
            assertTrue(
                    stolen.out().matches("CPU   STOLEN \\(ns\\)\n0     \\d+\n1     \\d+\n"),
                    stolen.describe());

            Ctl stop = ctl("--socket", sock.toString(), "stop");
            assertEquals(0, stop.code(), stop.describe());
            assertEquals("stopping\n", stop.out());

            JvmmProcess.Result r = p.waitFor(Duration.ofSeconds(30));
            assertEquals(0, r.code(), r.describe());
            assertTrue(
                    r.err().contains("jvmm: stopped through the control API (exit 0)"),
                    r.describe());
            assertFalse(
                    Files.exists(sock, LinkOption.NOFOLLOW_LINKS),
                    "socket left behind\n" + r.describe());
            try (var files = Files.list(dir)) {
                assertEquals(0, files.count(), "nothing left in the socket's directory");
            }
            Ctl gone = ctl("--socket", sock.toString(), "status");
            assertEquals(1, gone.code());
            assertEquals(
                    "jvmm: cannot connect to control socket "
                            + sock
                            + ": No such file or directory\n",
                    gone.err());
        }
    }

    @Test
    void withoutPvTimeStolenTimeIsNotAvailableAndSigtermAlsoRemovesTheSocket(@TempDir Path dir)
            throws Exception {
        Path sock = dir.resolve("api.sock");
        try (JvmmProcess p =
                JvmmProcess.start(
                        "run",
                        "-k",
                        image("spin.img"),
                        "--no-pvtime",
                        "--api-socket",
                        sock.toString())) {
            if (!p.awaitStdout("BAREMETAL-SPIN", LIMIT)) {
                fail(
                        "no BAREMETAL-SPIN\n--- stdout ---\n"
                                + p.stdout()
                                + "\n--- stderr ---\n"
                                + p.stderr());
            }
            Ctl stolen = ctl("--socket", sock.toString(), "stolen-time");
            assertEquals(1, stolen.code(), stolen.describe());
            assertEquals(
                    "jvmm: stolen-time: not available in this VM: PV stolen time is off (--no-pvtime, --hypercalls"
                            + " without pv-time, or the host lacks it)\n",
                    stolen.err());
            p.signal("TERM");
            JvmmProcess.Result r = p.waitFor(Duration.ofSeconds(30));
            assertEquals(143, r.code(), r.describe());
            assertFalse(
                    Files.exists(sock, LinkOption.NOFOLLOW_LINKS),
                    "socket left behind\n" + r.describe());
        }
    }
}
