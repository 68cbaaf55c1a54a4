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
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SDEI injection and the shared-region list through {@code jvmm ctl} against {@code jvmm run
 * --api-socket}, as a user drives them (ctl in this JVM, jvmm run as a subprocess).
 */
@BootTest
class HypercallCtlBootTest {
    private static final Duration LIMIT = Duration.ofSeconds(90);

    private record Ctl(int code, String out, String err) {
        String describe() {
            return "exit " + code + "\n--- stdout ---\n" + out + "--- stderr ---\n" + err;
        }
    }

    private static Ctl ctl(Path sock, String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        String[] all = new String[args.length + 3];
        all[0] = "ctl";
        all[1] = "--socket";
        all[2] = sock.toString();
        System.arraycopy(args, 0, all, 3, args.length);
        int code = Main.execute(all, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Ctl(code, out.toString(), err.toString());
    }

    private static void await(JvmmProcess p, String text) throws InterruptedException {
        if (!p.awaitStdout(text, LIMIT))
            fail(
                    "no "
                            + text
                            + "\n--- stdout ---\n"
                            + p.stdout()
                            + "\n--- stderr ---\n"
                            + p.stderr());
    }

    /**
     * The guest spins until `jvmm ctl sdei-signal` raises its event, checks its handler, and powers
     * off.
     */
    @Test
    void ctlSdeiSignalInterruptsTheGuestWhichResumesWhereItWas(@TempDir Path dir) throws Exception {
        Path sock = dir.resolve("api.sock");
        try (JvmmProcess p =
                JvmmProcess.start(
                        "run",
                        "-k",
                        image("sdei-inject.img"),
                        "-m",
                        "64",
                        "--sdei",
                        "--sdei-event",
                        "100,private,normal",
                        "--api-socket",
                        sock.toString())) {
            await(p, "SDEI-READY");
            Ctl unknown = ctl(sock, "sdei-signal", "7");
            assertEquals(1, unknown.code(), unknown.describe());
            assertEquals(
                    "jvmm: sdei-signal: no SDEI event 7; this VM offers [0, 100]\n", unknown.err());
            Ctl stats = ctl(sock, "hypercall-stats");
            assertEquals(0, stats.code(), stats.describe());
            assertEquals(
                    """
                    FUNCTION    NAME                          COUNT
                    0xc4000020  SDEI_VERSION                  1
                    0xc4000021  SDEI_EVENT_REGISTER           1
                    0xc4000022  SDEI_EVENT_ENABLE             1
                    0xc400002c  SDEI_PE_UNMASK                1
                    """,
                    stats.out());

            Ctl sig = ctl(sock, "sdei-signal", "100", "--cpu", "0");
            assertEquals(0, sig.code(), sig.describe());
            JvmmProcess.Result r = p.waitFor(LIMIT);
            assertEquals(0, r.code(), r.describe());
            assertTrue(r.out().contains("SDEI-A PASS"), r.describe());
            assertFalse(r.out().contains("FAIL"), r.describe());
        }
    }

    /** `jvmm ctl shared-regions` shows exactly the coalesced set the guest left shared. */
    @Test
    void ctlSharedRegionsShowsTheGuestsSharedSet(@TempDir Path dir) throws Exception {
        Path sock = dir.resolve("api.sock");
        try (JvmmProcess p =
                JvmmProcess.start(
                        "run",
                        "-k",
                        image("shared.img"),
                        "-m",
                        "64",
                        "--shared-regions",
                        "--api-socket",
                        sock.toString(),
                        "--log-level",
                        "info")) {
            await(p, "SHARED DONE");
            Ctl list = ctl(sock, "shared-regions");
            assertEquals(0, list.code(), list.describe());
            assertEquals(
                    """
                    IPA                 END                 SIZE
                    0x0000000080100000  0x0000000080101000  0x1000
                    0x0000000080102000  0x0000000080106000  0x4000
                    0x0000000080200000  0x0000000080201000  0x1000
                    total: 3 regions, 24 KiB
                    """,
                    list.out());
            Ctl page = ctl(sock, "shared-regions", "--from", "0x80101000", "--limit", "1");
            assertEquals(0, page.code(), page.describe());
            assertEquals(
                    """
                    IPA                 END                 SIZE
                    0x0000000080102000  0x0000000080106000  0x4000
                    total: 3 regions, 24 KiB
                    more: jvmm ctl shared-regions --from 0x80106000
                    """,
                    page.out());
            Ctl sdei = ctl(sock, "sdei-signal", "0");
            assertEquals(
                    "jvmm: sdei-signal: not available in this VM: SDEI is off (run it with --sdei)\n",
                    sdei.err());
            assertEquals(0, ctl(sock, "stop").code());
            JvmmProcess.Result r = p.waitFor(Duration.ofSeconds(30));
            assertEquals(0, r.code(), r.describe());
            assertTrue(
                    r.err()
                            .contains(
                                    "shared regions at exit: 3 regions, 24 KiB: [0x80100000-0x80100fff (4 KiB), "
                                            + "0x80102000-0x80105fff (16 KiB), 0x80200000-0x80200fff (4 KiB)]"),
                    r.describe());
        }
    }
}
