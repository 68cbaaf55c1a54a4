package dev.jvmm.cli.boot;

import static dev.jvmm.cli.boot.JvmmProcess.image;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.jvmm.cli.Main;
import dev.jvmm.kvm.testing.BootTest;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11: a guest that floods its console while jvmm's stdout is a pipe nobody reads. Before the
 * console got its own buffer and writer thread, the vCPU blocked in the write under the UART's lock
 * once the pipe was full, and neither {@code --timeout}, {@code jvmm ctl stop} nor SIGTERM could
 * end the run (the stop path's flush blocked too). Now the flood is dropped and counted, and each
 * of them ends the run on time with the contract's exit code.
 *
 * <p>The pipe is shrunk to one page: the 8250 costs one exit per byte, which the lab (arm64 under
 * TCG) takes at ~1-10 KiB/s, so a 64 KiB pipe would take a minute to fill. Each test first waits
 * until the pipe is full (the stall has happened), and then a little longer so that output is also
 * dropped.
 */
@BootTest
class ConsoleStallBootTest {
    private static final int PIPE = 4096;
    private static final Duration BOOT = Duration.ofMinutes(4);

    /** After the pipe filled: time for the guest to write more, which jvmm must then drop. */
    private static final Duration PAST_STALL = Duration.ofSeconds(3);

    /**
     * A stop request to exit: the bounded console drain (1 s) plus the teardown, on a loaded lab.
     */
    private static final Duration PROMPT = Duration.ofSeconds(5);

    private static final Pattern DROPPED =
            Pattern.compile("console: (\\d+) bytes of guest output dropped");

    private static JvmmProcess startFlood(String... args) throws IOException {
        JvmmProcess p = JvmmProcess.startWithStdoutUnread(false, args);
        try {
            p.shrinkStdoutPipe(PIPE);
        } catch (RuntimeException | IOException e) {
            p.close();
            throw e;
        }
        return p;
    }

    @Test
    void timeoutEndsAFloodingGuestWithExit124WhileNobodyReadsStdout(@TempDir Path dir)
            throws Exception {
        Path sock = dir.resolve("api.sock");
        int timeout = 15;
        try (JvmmProcess p =
                startFlood(
                        "run",
                        "-k",
                        image("flood.img"),
                        "-m",
                        "64",
                        "--timeout",
                        timeout + "s",
                        "--api-socket",
                        sock.toString())) {
            long running = awaitRunning(p, sock);
            JvmmProcess.Result r = p.waitFor(BOOT);
            long ms = (System.nanoTime() - running) / 1_000_000;
            assertEquals(124, r.code(), r.describe());
            // running is seen up to ~1 s late (polling, the status call), the exit up to PROMPT
            // late
            assertTrue(
                    ms >= timeout * 1000L - 1500 && ms <= timeout * 1000L + PROMPT.toMillis(),
                    "--timeout "
                            + timeout
                            + "s ended the run "
                            + ms
                            + " ms after it was running\n"
                            + r.describe());
            assertTrue(
                    p.stdoutPending() >= PIPE / 2,
                    "the pipe never filled: " + p.stdoutPending() + " bytes\n" + r.describe());
            assertStalledAndCounted(r);
            System.out.printf(
                    "console-stall --timeout %ds: exit %d %d ms after the VM ran; %s%n",
                    timeout, r.code(), ms, droppedLine(r));
        }
    }

    @Test
    void ctlStopEndsAFloodingGuestWithExit0WhileNobodyReadsStdout(@TempDir Path dir)
            throws Exception {
        Path sock = dir.resolve("api.sock");
        try (JvmmProcess p =
                startFlood(
                        "run",
                        "-k",
                        image("flood.img"),
                        "-m",
                        "64",
                        "--api-socket",
                        sock.toString())) {
            awaitRunning(p, sock);
            awaitStall(p);
            long t0 = System.nanoTime();
            StringWriter out = new StringWriter(), err = new StringWriter();
            int ctl =
                    Main.execute(
                            new String[] {"ctl", "--socket", sock.toString(), "stop"},
                            new PrintWriter(out, true),
                            new PrintWriter(err, true));
            assertEquals(0, ctl, "jvmm ctl stop: " + out + err);
            JvmmProcess.Result r = p.waitFor(Duration.ofSeconds(60));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(0, r.code(), r.describe());
            assertTrue(
                    ms < PROMPT.toMillis(),
                    "exit took " + ms + " ms after ctl stop\n" + r.describe());
            assertTrue(r.err().contains("stopped through the control API"), r.describe());
            assertStalledAndCounted(r);
            System.out.printf(
                    "console-stall ctl stop: exit %d %d ms after the stop; %s%n",
                    r.code(), ms, droppedLine(r));
        }
    }

    @Test
    void sigtermEndsAFloodingGuestWithExit143WhileNobodyReadsStdout(@TempDir Path dir)
            throws Exception {
        Path sock = dir.resolve("api.sock");
        try (JvmmProcess p =
                startFlood(
                        "run",
                        "-k",
                        image("flood.img"),
                        "-m",
                        "64",
                        "--api-socket",
                        sock.toString())) {
            awaitRunning(p, sock);
            awaitStall(p);
            long t0 = System.nanoTime();
            p.signal("TERM");
            JvmmProcess.Result r = p.waitFor(Duration.ofSeconds(60));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(143, r.code(), r.describe());
            assertTrue(
                    ms < PROMPT.toMillis(),
                    "exit took " + ms + " ms after SIGTERM\n" + r.describe());
            assertStalledAndCounted(r);
            System.out.printf(
                    "console-stall SIGTERM: exit %d %d ms after the signal; %s%n",
                    r.code(), ms, droppedLine(r));
        }
    }

    /**
     * The same through virtio-console: the Debian kernel's hvc0 flooded by {@code yes}, stopped
     * with ctl stop.
     */
    @Test
    void ctlStopEndsAGuestFloodingTheVirtioConsoleWhileNobodyReadsStdout(@TempDir Path dir)
            throws Exception {
        Path sock = dir.resolve("api.sock");
        String guest =
                "yes 'FLOOD 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ'";
        try (JvmmProcess p =
                startFlood(
                        "run",
                        "-k",
                        image("Image"),
                        "-i",
                        image("initramfs.gz"),
                        "-m",
                        "256",
                        "--console",
                        "virtio",
                        "--api-socket",
                        sock.toString(),
                        "-p",
                        "quiet jvmm.modules=virtio_mmio " + JvmmProcess.guestCommand(guest))) {
            awaitRunning(p, sock);
            awaitStall(p);
            long t0 = System.nanoTime();
            int ctl =
                    Main.execute(
                            new String[] {"ctl", "--socket", sock.toString(), "stop"},
                            new PrintWriter(new StringWriter(), true),
                            new PrintWriter(new StringWriter(), true));
            assertEquals(0, ctl);
            JvmmProcess.Result r = p.waitFor(Duration.ofSeconds(60));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(0, r.code(), r.describe());
            assertTrue(
                    ms < PROMPT.toMillis(),
                    "exit took " + ms + " ms after ctl stop\n" + r.describe());
            assertStalledAndCounted(r);
            System.out.printf(
                    "console-stall virtio ctl stop: exit %d %d ms after the stop; %s%n",
                    r.code(), ms, droppedLine(r));
        }
    }

    /**
     * The stall really happened: jvmm reports guest output it could not deliver, and gave up on no
     * thread.
     */
    private static void assertStalledAndCounted(JvmmProcess.Result r) {
        Matcher m = DROPPED.matcher(r.err());
        assertTrue(m.find(), "no dropped-output report\n" + r.describe());
        assertTrue(Long.parseLong(m.group(1)) > 0, r.describe());
        assertFalse(
                r.err().contains("did not stop"),
                "a thread had to be given up on\n" + r.describe());
        assertFalse(r.err().contains("left mapped"), r.describe());
        assertFalse(r.err().contains("Exception"), r.describe());
    }

    private static String droppedLine(JvmmProcess.Result r) {
        Matcher m = DROPPED.matcher(r.err());
        return m.find() ? m.group() : "nothing dropped";
    }

    /**
     * Waits until the pipe on jvmm's stdout takes no more (over half full and unchanged for a
     * while: a write of up to a page is atomic, so a blocked one may leave the last bytes free),
     * then a little longer.
     */
    private static void awaitStall(JvmmProcess p) throws Exception {
        long deadline = System.nanoTime() + BOOT.toNanos();
        int last = -1, same = 0;
        while (same < 10) {
            if (!p.process().isAlive()) fail("jvmm ended before the pipe filled\n" + p.stderr());
            if (System.nanoTime() > deadline)
                fail("the pipe never filled: " + p.stdoutPending() + " bytes\n" + p.stderr());
            Thread.sleep(200);
            int now = p.stdoutPending();
            same = now >= PIPE / 2 && now == last ? same + 1 : 0;
            last = now;
        }
        Thread.sleep(PAST_STALL.toMillis());
        assertTrue(p.process().isAlive(), "jvmm ended by itself\n" + p.stderr());
    }

    /**
     * Stdout cannot tell when the guest runs here: the control API's status can. Returns
     * System.nanoTime() then.
     */
    private static long awaitRunning(JvmmProcess p, Path sock) throws InterruptedException {
        long deadline = System.nanoTime() + BOOT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.process().isAlive()) fail("jvmm ended early\n" + p.stderr());
            if (Files.exists(sock)) {
                StringWriter out = new StringWriter();
                int code =
                        Main.execute(
                                new String[] {"ctl", "--socket", sock.toString(), "status"},
                                new PrintWriter(out, true),
                                new PrintWriter(new StringWriter(), true));
                if (code == 0 && out.toString().startsWith("state    running"))
                    return System.nanoTime();
            }
            Thread.sleep(100);
        }
        fail("the VM never reported running\n" + p.stderr());
        return 0;
    }
}
