package dev.jvmm.cli.boot;

import dev.jvmm.cli.Main;
import dev.jvmm.kvm.testing.BootTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.jvmm.cli.boot.JvmmProcess.image;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Issue 11: a guest that floods its 8250 console while jvmm's stdout is a pipe nobody reads. The pipe
 * fills after 64 KiB; before the console got its own buffer and writer thread the vCPU then blocked in
 * the write under the UART's lock, and neither {@code --timeout} nor {@code jvmm ctl stop} could end the
 * run. Now the flood is dropped and counted, and both end it on time with the contract's exit code.
 */
@BootTest
class ConsoleStallBootTest {
    /** JVM start-up in the lab (~5 s) plus the bounded console drain (1 s) and slack for a loaded host. */
    private static final Duration START_AND_STOP_SLACK = Duration.ofSeconds(20);
    /** Flood time: the guest writes about 10 KiB/s in the lab, so this fills the pipe several times over. */
    private static final Duration FLOOD = Duration.ofSeconds(20);
    private static final Pattern DROPPED = Pattern.compile("console: (\\d+) bytes of guest output dropped");

    @Test
    void timeoutEndsAFloodingGuestWithExit124WhileNobodyReadsStdout() {
        long timeout = FLOOD.toSeconds();
        try (JvmmProcess p = JvmmProcess.startWithStdoutUnread(false, "run", "-k", image("flood.img"), "-m", "64",
                "--timeout", timeout + "s")) {
            JvmmProcess.Result r = p.waitFor(FLOOD.plus(START_AND_STOP_SLACK).plus(Duration.ofSeconds(60)));
            assertEquals(124, r.code(), r.describe());
            assertTrue(r.elapsed().compareTo(FLOOD.plus(START_AND_STOP_SLACK)) < 0,
                    "--timeout " + timeout + "s took " + r.elapsed().toMillis() + " ms\n" + r.describe());
            assertStalledAndCounted(r);
            System.out.printf("console-stall timeout: exit %d after %d ms (--timeout %ds); %s%n", r.code(),
                    r.elapsed().toMillis(), timeout, droppedLine(r));
        }
    }

    @Test
    void ctlStopEndsAFloodingGuestWithExit0WhileNobodyReadsStdout(@TempDir Path dir) throws Exception {
        Path sock = dir.resolve("api.sock");
        try (JvmmProcess p = JvmmProcess.startWithStdoutUnread(false, "run", "-k", image("flood.img"), "-m", "64",
                "--api-socket", sock.toString())) {
            awaitRunning(p, sock);
            Thread.sleep(FLOOD.toMillis());
            assertTrue(p.process().isAlive(), "jvmm ended by itself\n" + p.stderr());
            long t0 = System.nanoTime();
            StringWriter out = new StringWriter(), err = new StringWriter();
            int ctl = Main.execute(new String[] {"ctl", "--socket", sock.toString(), "stop"},
                    new PrintWriter(out, true), new PrintWriter(err, true));
            assertEquals(0, ctl, "jvmm ctl stop: " + out + err);
            JvmmProcess.Result r = p.waitFor(Duration.ofSeconds(60));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(0, r.code(), r.describe());
            assertTrue(ms < 5000, "exit took " + ms + " ms after ctl stop\n" + r.describe());
            assertTrue(r.err().contains("stopped through the control API"), r.describe());
            assertStalledAndCounted(r);
            System.out.printf("console-stall ctl stop: exit %d %d ms after the stop; %s%n", r.code(), ms, droppedLine(r));
        }
    }

    @Test
    void sigtermEndsAFloodingGuestWithExit143WhileNobodyReadsStdout(@TempDir Path dir) throws Exception {
        Path sock = dir.resolve("api.sock");
        try (JvmmProcess p = JvmmProcess.startWithStdoutUnread(false, "run", "-k", image("flood.img"), "-m", "64",
                "--api-socket", sock.toString())) {
            awaitRunning(p, sock);
            Thread.sleep(FLOOD.toMillis());
            long t0 = System.nanoTime();
            p.signal("TERM");
            JvmmProcess.Result r = p.waitFor(Duration.ofSeconds(60));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(143, r.code(), r.describe());
            assertTrue(ms < 5000, "exit took " + ms + " ms after SIGTERM\n" + r.describe());
            assertStalledAndCounted(r);
            System.out.printf("console-stall SIGTERM: exit %d %d ms after the signal; %s%n", r.code(), ms, droppedLine(r));
        }
    }

    /** The same through virtio-console: the Debian kernel's hvc0 flooded by {@code yes}. */
    @Test
    void timeoutEndsAGuestFloodingTheVirtioConsoleWithExit124WhileNobodyReadsStdout() {
        long timeout = 60;   // the kernel boots in ~15 s in the lab; the rest is flood
        String guest = "yes 'FLOOD 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ'";
        try (JvmmProcess p = JvmmProcess.startWithStdoutUnread(false, "run", "-k", image("Image"), "-i",
                image("initramfs.gz"), "-m", "256", "--console", "virtio", "--timeout", timeout + "s",
                "-p", "quiet jvmm.modules=virtio_mmio " + JvmmProcess.guestCommand(guest))) {
            JvmmProcess.Result r = p.waitFor(Duration.ofSeconds(timeout).plus(START_AND_STOP_SLACK).plus(Duration.ofSeconds(60)));
            assertEquals(124, r.code(), r.describe());
            assertTrue(r.elapsed().compareTo(Duration.ofSeconds(timeout).plus(START_AND_STOP_SLACK)) < 0,
                    "--timeout " + timeout + "s took " + r.elapsed().toMillis() + " ms\n" + r.describe());
            assertStalledAndCounted(r);
            System.out.printf("console-stall virtio timeout: exit %d after %d ms (--timeout %ds); %s%n", r.code(),
                    r.elapsed().toMillis(), timeout, droppedLine(r));
        }
    }

    /** The stall really happened: jvmm reports guest output it could not deliver. */
    private static void assertStalledAndCounted(JvmmProcess.Result r) {
        Matcher m = DROPPED.matcher(r.err());
        assertTrue(m.find(), "no dropped-output report: the pipe never filled?\n" + r.describe());
        assertTrue(Long.parseLong(m.group(1)) > 0, r.describe());
        assertFalse(r.err().contains("did not stop"), "a thread had to be given up on\n" + r.describe());
        assertFalse(r.err().contains("Exception"), r.describe());
    }

    private static String droppedLine(JvmmProcess.Result r) {
        Matcher m = DROPPED.matcher(r.err());
        return m.find() ? m.group() : "nothing dropped";
    }

    /** Stdout cannot tell when the guest runs here: the control API's status can. */
    private static void awaitRunning(JvmmProcess p, Path sock) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.process().isAlive()) fail("jvmm ended early\n" + p.stderr());
            if (Files.exists(sock)) {
                StringWriter out = new StringWriter();
                int code = Main.execute(new String[] {"ctl", "--socket", sock.toString(), "status"},
                        new PrintWriter(out, true), new PrintWriter(new StringWriter(), true));
                if (code == 0 && out.toString().startsWith("state    running")) return;
            }
            Thread.sleep(200);
        }
        fail("the VM never reported running\n" + p.stderr());
    }
}
