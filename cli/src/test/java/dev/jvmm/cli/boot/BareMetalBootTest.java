package dev.jvmm.cli.boot;

import static dev.jvmm.cli.boot.JvmmProcess.image;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.jvmm.kvm.testing.BootTest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The boot tier with the bare-metal guests (hello, spin, reset: a few instructions each, so a run
 * costs little more than the JVM's start) and {@code --dump-dtb}: exit codes, signals, stdout.
 */
@BootTest
class BareMetalBootTest {
    private static final Duration LIMIT = Duration.ofSeconds(90);

    /**
     * jvmm's own backstop halts a signalled VM after 10 s; a clean stop must come well before that.
     */
    private static final Duration SIGNAL_EXIT = Duration.ofSeconds(8);

    private static JvmmProcess.Result run(String... args) {
        return JvmmProcess.run(LIMIT, args);
    }

    @Test
    void helloPowersOffWithExitZero() {
        JvmmProcess.Result r = run("run", "-k", image("hello.img"));
        assertEquals(0, r.code(), r.describe());
        assertTrue(r.out().contains("BAREMETAL-HELLO"), r.describe());
    }

    /**
     * One run proves two things: a guest reset is exit 32, and --serial none keeps stdout empty.
     */
    @Test
    void resetExits32AndSerialNoneLeavesStdoutEmpty() {
        JvmmProcess.Result r = run("run", "-k", image("reset.img"), "--serial", "none");
        assertEquals(32, r.code(), r.describe());
        assertEquals("", r.out(), "--serial none: nothing may reach stdout\n" + r.describe());
        assertTrue(r.err().contains("(exit 32)"), r.describe());
    }

    @Test
    void timeoutExits124() {
        JvmmProcess.Result r = run("run", "-k", image("spin.img"), "--timeout", "3s");
        assertEquals(124, r.code(), r.describe());
        assertTrue(r.out().contains("BAREMETAL-SPIN"), r.describe());
        assertTrue(r.elapsed().toMillis() >= 3000, r.describe());
    }

    @Test
    void sigintStopsARunningGuestWithExit130() throws Exception {
        try (JvmmProcess p = JvmmProcess.start("run", "-k", image("spin.img"))) {
            if (!p.awaitStdout("BAREMETAL-SPIN", LIMIT)) {
                fail(
                        "no BAREMETAL-SPIN\n--- stdout ---\n"
                                + p.stdout()
                                + "\n--- stderr ---\n"
                                + p.stderr());
            }
            long t0 = System.nanoTime();
            p.signal("INT");
            JvmmProcess.Result r = p.waitFor(Duration.ofSeconds(30));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(130, r.code(), r.describe());
            assertTrue(
                    ms < SIGNAL_EXIT.toMillis(),
                    "exit took " + ms + " ms after SIGINT\n" + r.describe());
            assertFalse(
                    r.err().contains("did not stop"), "jvmm had to halt itself\n" + r.describe());
            assertTrue(r.err().contains("SIGINT"), r.describe());
            assertFalse(p.process().isAlive());
            assertFalse(
                    ProcessHandle.of(p.pid()).map(ProcessHandle::isAlive).orElse(false),
                    "pid still alive");
        }
    }

    @Test
    void dumpDtbWritesTheBlobAndDoesNotRun(@TempDir Path dir) throws IOException {
        Path dtb = dir.resolve("guest.dtb");
        JvmmProcess.Result r =
                run(
                        "run",
                        "-k",
                        image("Image"),
                        "-i",
                        image("initramfs.gz"),
                        "-c",
                        "2",
                        "-m",
                        "256",
                        "-p",
                        "quiet",
                        "--dump-dtb",
                        dtb.toString());
        assertEquals(0, r.code(), r.describe());
        assertEquals("", r.out(), "the guest must not run\n" + r.describe());
        byte[] b = Files.readAllBytes(dtb);
        assertTrue(b.length >= 40, "DTB of " + b.length + " bytes");
        ByteBuffer h = ByteBuffer.wrap(b); // FDT header: big-endian magic, totalsize
        assertEquals(0xd00dfeed, h.getInt(0), "FDT magic");
        assertEquals(b.length, h.getInt(4), "FDT totalsize vs file length");
    }
}
